package ngroktest

import "golang.ngrok.com/muxado/v2"

// The agent protocol's messages, as the SDK (v2.4.0,
// internal/tunnel/proto/msg.go) encodes them. The SDK's package is internal,
// so these are copies: the JSON names must match, and fields the SDK sends
// but the edge ignores are left out.

// Stream types, from proto.ReqType. Numbers are never reused by ngrok.
const (
	streamAuth    muxado.StreamType = 0 // agent -> edge
	streamBind    muxado.StreamType = 1 // agent -> edge
	streamUnbind  muxado.StreamType = 2 // agent -> edge
	streamProxy   muxado.StreamType = 3 // edge -> agent: a visitor's connection
	streamSrvInfo muxado.StreamType = 8 // agent -> edge
)

// protoVersion is the protocol version the edge chooses; the SDK offers
// ["3", "2"] and only records the choice.
const protoVersion = "3"

type authReq struct {
	Version  []string // offered, in order of preference
	ClientID string   `json:"ClientId"` // the previous session's, on reconnect
	Extra    struct {
		Authtoken string
		Version   string
		UserAgent string
		Cookie    string // the previous answer's, on reconnect
	}
}

// authResp: a non-empty Error refuses the session. The SDK wraps Error in an
// ngrok.Error whose Code() is the first ERR_NGROK_<n> found in the text.
type authResp struct {
	Version  string
	ClientID string `json:"ClientId"`
	Error    string
	Extra    authRespExtra
}

type authRespExtra struct {
	Version        string // server version
	Region         string
	Cookie         string // sent back by the agent when it reconnects
	AccountName    string
	PlanName       string
	AgentSessionID string
	// DeprecationWarning, ConnectAddresses and AgentMetrics stay unset: nil
	// AgentMetrics tells the SDK not to open metrics streams (type 11).
}

type bindReq struct {
	ID    string `json:"Id"` // empty for a new endpoint; the old id when rebinding
	Proto string // "http" or "https" for the endpoints Listen makes
	Opts  httpEndpoint
}

// httpEndpoint is proto.HTTPEndpoint, reduced to what the edge reads. The
// SDK puts ngrok.WithURL's value in URL.
type httpEndpoint struct {
	URL string
}

type bindResp struct {
	ID    string `json:"Id"`
	URL   string // what the listener's URL() reports
	Proto string // the SDK decodes Opts according to this: "http" or "https"
	Opts  httpEndpoint
	Error string
	Extra bindRespExtra
}

type bindRespExtra struct {
	Token    string // sent back by the agent when it rebinds
	TunnelID string
}

type unbindReq struct {
	ID string `json:"Id"`
}

type unbindResp struct {
	Error string
}

type srvInfoResp struct {
	Region string
}

// errorResp is the answer to a request the edge does not know: every
// answer in the protocol has an Error field.
type errorResp struct {
	Error string
}

// proxyHeader precedes a visitor's bytes on a proxy stream, after its length
// as an int64, little-endian.
type proxyHeader struct {
	ID             string `json:"Id"` // the bind id the connection is for
	ClientAddr     string // becomes the connection's RemoteAddr in the agent
	Proto          string
	EdgeType       string
	PassthroughTLS bool
}
