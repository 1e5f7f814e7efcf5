// Package har writes stored deliveries as an HTTP Archive (HAR 1.2), the
// format browsers' developer tools, proxies and ngrok's inspector export:
// each delivery is the request as received with the answer its sender got,
// and each later attempt (a resend or replay) is an entry of its own.
package har

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/jasni/jasni-cli/internal/store"
)

// Log is a HAR file's content.
type Log struct {
	Log struct {
		Version string  `json:"version"`
		Creator Creator `json:"creator"`
		Entries []Entry `json:"entries"`
	} `json:"log"`
}

type Creator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type Entry struct {
	StartedDateTime string   `json:"startedDateTime"`
	Time            float64  `json:"time"`
	Request         Request  `json:"request"`
	Response        Response `json:"response"`
	Cache           struct{} `json:"cache"`
	Timings         Timings  `json:"timings"`
	Comment         string   `json:"comment,omitempty"`
	// DeliveryID names the stored delivery the entry comes from.
	DeliveryID string `json:"_jasniDelivery"`
}

type Request struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	HTTPVersion string `json:"httpVersion"`
	Cookies     []any  `json:"cookies"`
	Headers     []NV   `json:"headers"`
	QueryString []NV   `json:"queryString"`
	PostData    *Post  `json:"postData,omitempty"`
	HeadersSize int    `json:"headersSize"`
	BodySize    int64  `json:"bodySize"`
}

type Response struct {
	Status      int     `json:"status"`
	StatusText  string  `json:"statusText"`
	HTTPVersion string  `json:"httpVersion"`
	Cookies     []any   `json:"cookies"`
	Headers     []NV    `json:"headers"`
	Content     Content `json:"content"`
	RedirectURL string  `json:"redirectURL"`
	HeadersSize int     `json:"headersSize"`
	BodySize    int64   `json:"bodySize"`
	Comment     string  `json:"comment,omitempty"`
}

type NV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Post is a request body. HAR 1.2 has no encoding for postData; a body
// that is not UTF-8 is base64 with _encoding set, as content's encoding is.
type Post struct {
	MimeType string `json:"mimeType"`
	Params   []any  `json:"params"`
	Text     string `json:"text"`
	Encoding string `json:"_encoding,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

type Content struct {
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

type Timings struct {
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
}

// Build makes the archive of ds, whole deliveries as store.Get returns
// them. base is the URL they were received at, without the path
// ("https://abc.ngrok.app"); version is jasni's.
func Build(ds []*store.Delivery, base, version string) *Log {
	l := &Log{}
	l.Log.Version = "1.2"
	l.Log.Creator = Creator{Name: "jasni", Version: version}
	l.Log.Entries = []Entry{}
	for _, d := range ds {
		l.Log.Entries = append(l.Log.Entries, entries(d, base)...)
	}
	return l
}

func entries(d *store.Delivery, base string) []Entry {
	received := Entry{
		StartedDateTime: d.ReceivedAt.UTC().Format(time.RFC3339Nano),
		Request:         request(d.Method, joinURL(base, d.Path), d.Header, d.Body, d.BodySize),
		Response:        Response{Status: d.Answer, StatusText: http.StatusText(d.Answer), HTTPVersion: "HTTP/1.1", Cookies: []any{}, Headers: []NV{}, HeadersSize: -1, BodySize: -1},
		DeliveryID:      d.ID,
		Comment:         "received by jasni listen",
	}
	attempts := d.Attempts
	if len(attempts) > 0 && attempts[0].By == store.AttemptByListen {
		// listen passed the app's answer on to the sender: it is the answer.
		a := attempts[0]
		received.Response = response(&a, d.Answer)
		received.Time = float64(a.DurationMS)
		received.Timings.Wait = float64(a.DurationMS)
		attempts = attempts[1:]
	}
	out := []Entry{received}
	for i := range attempts {
		a := &attempts[i]
		h, body := d.Header, d.Body
		if a.Sent != nil {
			h = d.Header.Clone()
			for k, v := range a.Sent.Header {
				if v == nil {
					delete(h, k)
				} else {
					h[k] = v
				}
			}
			if a.Sent.Body != nil {
				body = a.Sent.Body
			}
		}
		e := Entry{
			StartedDateTime: a.At.UTC().Format(time.RFC3339Nano),
			Time:            float64(a.DurationMS),
			Request:         request(cmp.Or(d.Method, http.MethodPost), a.URL, h, body, int64(len(body))),
			Response:        response(a, a.Status),
			Timings:         Timings{Wait: float64(a.DurationMS)},
			DeliveryID:      d.ID,
			Comment:         "sent again by jasni (" + a.By + ")",
		}
		out = append(out, e)
	}
	return out
}

func request(method, rawURL string, h http.Header, body []byte, size int64) Request {
	r := Request{Method: method, URL: rawURL, HTTPVersion: "HTTP/1.1", Cookies: []any{}, Headers: pairs(h), QueryString: []NV{}, HeadersSize: -1, BodySize: size}
	if u, err := url.Parse(rawURL); err == nil {
		for k, vs := range u.Query() {
			for _, v := range vs {
				r.QueryString = append(r.QueryString, NV{k, v})
			}
		}
	}
	if body != nil || size > 0 {
		p := &Post{MimeType: h.Get("Content-Type"), Params: []any{}}
		p.Text, p.Encoding = text(body)
		if int64(len(body)) < size {
			p.Comment = "only the start of the body was kept"
		}
		r.PostData = p
	}
	return r
}

func response(a *store.Attempt, status int) Response {
	r := Response{Status: status, StatusText: http.StatusText(status), HTTPVersion: "HTTP/1.1", Cookies: []any{}, Headers: pairs(a.Header), HeadersSize: -1, BodySize: a.BodySize, Comment: a.Error}
	r.Content = Content{Size: a.BodySize, MimeType: a.Header.Get("Content-Type")}
	r.Content.Text, r.Content.Encoding = text(a.Body)
	if a.Truncated() {
		r.Content.Comment = "only the start of the answer was kept"
	}
	return r
}

// text is b as HAR text: itself when UTF-8, else base64.
func text(b []byte) (string, string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

func pairs(h http.Header) []NV {
	out := []NV{}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, NV{k, v})
		}
	}
	return out
}

func joinURL(base, path string) string {
	if base == "" {
		base = "http://localhost"
	}
	return base + path
}
