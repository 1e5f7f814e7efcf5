package inspect

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/deliveryview"
	"github.com/jasni/jasni-cli/internal/har"
	"github.com/jasni/jasni-cli/internal/replay"
	"github.com/jasni/jasni-cli/internal/store"
)

// Bounds of what the API takes and gives.
const (
	defaultLimit  = 200
	maxLimit      = 1000
	maxExport     = 200
	maxReplayBody = 16 << 20
	// maxExportBytes bounds the bodies one HAR export holds, which are in
	// memory while it is written.
	maxExportBytes = 64 << 20
)

type apiErr struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiErr{Error: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true) // a body holding </script> stays text wherever it lands
	_ = enc.Encode(v)
}

func (s *Server) noHistory(w http.ResponseWriter) bool {
	if s.o.Store == nil {
		apiError(w, http.StatusServiceUnavailable, "no_history", "listen runs without a history, so there is nothing to show: start it without --no-history")
		return true
	}
	return false
}

type listAnswer struct {
	Deliveries []deliveryview.Object `json:"deliveries"`
	// More says older ones are left: ask again with before=the last id.
	More bool `json:"more"`
}

// list: GET /api/deliveries?event=&verdict=&status=&limit=&before=&after=&refused=1
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	if s.noHistory(w) {
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "bad_query", err.Error())
		return
	}
	limit := q.Limit
	q.Limit++
	ds, err := s.o.Store.List(r.Context(), q)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "history", err.Error())
		return
	}
	out := listAnswer{Deliveries: []deliveryview.Object{}}
	if len(ds) > limit {
		ds, out.More = ds[:limit], true
	}
	for i := range ds {
		out.Deliveries = append(out.Deliveries, deliveryview.JSON(&ds[i], false))
	}
	writeJSON(w, http.StatusOK, out)
}

func parseQuery(r *http.Request) (store.Query, error) {
	v := r.URL.Query()
	q := store.Query{Event: v.Get("event"), Limit: defaultLimit}
	switch v.Get("refused") {
	case "", "0", "false":
	case "1", "true":
		q.Rejected = true
	default:
		return q, errors.New("refused: want true or false")
	}
	var err error
	if q.Verdict, err = store.ParseVerdict(v.Get("verdict")); err != nil {
		return q, err
	}
	if st := v.Get("status"); st != "" {
		if q.AnswerMin, q.AnswerMax, err = store.ParseAnswer(st); err != nil {
			return q, err
		}
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxLimit {
			return q, fmt.Errorf("limit: want a number from 1 to %d", maxLimit)
		}
		q.Limit = n
	}
	for _, p := range []struct {
		name string
		to   *string
	}{{"before", &q.Before}, {"after", &q.After}} {
		if id := v.Get(p.name); id != "" {
			if !store.ValidID(id) {
				return q, fmt.Errorf("%s: not a delivery id", p.name)
			}
			*p.to = id
		}
	}
	return q, nil
}

// delivery reads the delivery the path names, or answers why not.
func (s *Server) delivery(w http.ResponseWriter, r *http.Request) *store.Delivery {
	if s.noHistory(w) {
		return nil
	}
	id := r.PathValue("id")
	if !store.ValidID(id) {
		apiError(w, http.StatusNotFound, "not_found", "not a delivery id")
		return nil
	}
	d, err := s.o.Store.Get(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		apiError(w, http.StatusNotFound, "not_found", "no delivery "+id+" in the history (it may have been pruned)")
		return nil
	case err != nil:
		apiError(w, http.StatusInternalServerError, "history", err.Error())
		return nil
	}
	return d
}

// get: GET /api/deliveries/{id}, the object of `events show --output json`.
func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	if d := s.delivery(w, r); d != nil {
		writeJSON(w, http.StatusOK, deliveryview.JSON(d, true))
	}
}

// replayRequest is the body of POST /api/deliveries/{id}/replay.
type replayRequest struct {
	// Body replaces the stored body, as text; BodyBase64 as bytes.
	Body       *string             `json:"body"`
	BodyBase64 *string             `json:"body_base64"`
	Headers    map[string][]string `json:"headers"`
	Sign       string              `json:"sign"`
}

// replay: POST /api/deliveries/{id}/replay, answering the new attempt.
func (s *Server) replay(w http.ResponseWriter, r *http.Request) {
	if s.o.Replayer == nil {
		apiError(w, http.StatusConflict, "no_forward", s.o.NoReplay)
		return
	}
	var req replayRequest
	if r.ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 2*maxReplayBody))
		dec.DisallowUnknownFields()
		err := dec.Decode(&req)
		if err == nil && dec.More() {
			err = errors.New("text after the object")
		}
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			apiError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a replay request is at most %d MiB", 2*maxReplayBody>>20))
			return
		case err != nil:
			apiError(w, http.StatusBadRequest, "bad_request", "the body must be a JSON object with body, body_base64, headers and sign: "+err.Error())
			return
		}
	}
	e := replay.Edit{}
	var err error
	if e.Sign, err = replay.ParseSign(req.Sign); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	switch {
	case req.Body != nil && req.BodyBase64 != nil:
		apiError(w, http.StatusBadRequest, "bad_request", "give body or body_base64, not both")
		return
	case req.Body != nil:
		e.Body = []byte(*req.Body)
	case req.BodyBase64 != nil:
		if e.Body, err = base64.StdEncoding.DecodeString(*req.BodyBase64); err != nil {
			apiError(w, http.StatusBadRequest, "bad_request", "body_base64: "+err.Error())
			return
		}
	}
	if len(e.Body) > maxReplayBody {
		apiError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a replayed body is at most %d MiB", maxReplayBody>>20))
		return
	}
	if req.Headers != nil {
		if e.Header, err = headerOf(req.Headers); err != nil {
			apiError(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
	}
	d := s.delivery(w, r)
	if d == nil {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	res, err := s.o.Replayer.Replay(ctx, s.o.Store, d, e)
	var usage *replay.UsageError
	switch {
	case errors.As(err, &usage):
		apiError(w, http.StatusUnprocessableEntity, "cannot_replay", usage.Error())
		return
	case err != nil:
		apiError(w, http.StatusBadGateway, "not_sent", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, replayAnswer{Attempt: deliveryview.AttemptJSON(&res.Attempt), OK: res.OK, Note: res.Note})
}

type replayAnswer struct {
	Attempt deliveryview.Attempt `json:"attempt"`
	OK      bool                 `json:"ok"`
	Note    string               `json:"note,omitempty"`
}

// headerOf checks names and values as net/http would send them.
func headerOf(m map[string][]string) (http.Header, error) {
	h := http.Header{}
	for k, vs := range m {
		if !validName(k) {
			return nil, fmt.Errorf("header %q: a name is letters, digits and !#$%%&'*+-.^_`|~ only", k)
		}
		for _, v := range vs {
			if strings.IndexFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) >= 0 {
				return nil, fmt.Errorf("header %s: a value cannot hold a control character (a line break, NUL, ...)", k)
			}
			h.Add(k, v)
		}
	}
	return h, nil
}

func validName(k string) bool {
	if k == "" || len(k) > 256 {
		return false
	}
	for _, c := range []byte(k) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// harOne: GET /api/deliveries/{id}/har
func (s *Server) harOne(w http.ResponseWriter, r *http.Request) {
	if d := s.delivery(w, r); d != nil {
		s.writeHAR(w, []*store.Delivery{d}, d.ID+".har")
	}
}

// harMany: GET /api/export.har?ids=a,b
func (s *Server) harMany(w http.ResponseWriter, r *http.Request) {
	if s.noHistory(w) {
		return
	}
	ids := strings.Split(r.URL.Query().Get("ids"), ",")
	if len(ids) == 1 && ids[0] == "" {
		apiError(w, http.StatusBadRequest, "bad_query", "ids: name the deliveries to export, comma-separated")
		return
	}
	if len(ids) > maxExport {
		apiError(w, http.StatusBadRequest, "bad_query", fmt.Sprintf("ids: at most %d deliveries at once", maxExport))
		return
	}
	var (
		ds   []*store.Delivery
		seen = map[string]bool{}
		size int64
	)
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if !store.ValidID(id) {
			apiError(w, http.StatusBadRequest, "bad_query", "ids: not a delivery id")
			return
		}
		d, err := s.o.Store.Get(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			apiError(w, http.StatusNotFound, "not_found", "no delivery "+id+" in the history")
			return
		}
		if err != nil {
			apiError(w, http.StatusInternalServerError, "history", err.Error())
			return
		}
		for _, a := range d.Attempts {
			size += int64(len(a.Body))
			if a.Sent != nil {
				size += int64(len(a.Sent.Body))
			}
		}
		if size += int64(len(d.Body)); size > maxExportBytes {
			apiError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the deliveries chosen hold more than %d MiB of bodies: export fewer at a time", maxExportBytes>>20))
			return
		}
		ds = append(ds, d)
	}
	s.writeHAR(w, ds, "jasni-"+time.Now().Format("20060102-150405")+".har")
}

func (s *Server) writeHAR(w http.ResponseWriter, ds []*store.Delivery, name string) {
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	writeJSON(w, http.StatusOK, har.Build(ds, s.o.BaseURL, s.o.Version))
}

// fixture: GET /api/deliveries/{id}/fixture, the body as a file for
// `jasni trigger --data-file`.
func (s *Server) fixture(w http.ResponseWriter, r *http.Request) {
	d := s.delivery(w, r)
	if d == nil {
		return
	}
	name := "delivery"
	if safeName(d.Event) {
		name = d.Event
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
	_, _ = w.Write(d.Body)
}

// safeName reports a name fit for a file: 1 to 100 letters, digits, dots,
// dashes and underscores. (A regexp with {1,100} costs thousands of
// allocations when jasni starts.)
func safeName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

type infoAnswer struct {
	Version  string `json:"version"`
	BaseURL  string `json:"base_url,omitempty"`
	Forward  string `json:"forward,omitempty"`
	Live     bool   `json:"live"`
	NoReplay string `json:"no_replay,omitempty"`
	Provider string `json:"provider,omitempty"`
}

// info: GET /api/info, what the page needs to know about this run.
func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	a := infoAnswer{Version: s.o.Version, BaseURL: s.o.BaseURL, Live: s.o.Feed != nil, NoReplay: s.o.NoReplay}
	if rp := s.o.Replayer; rp != nil {
		if rp.Forward != nil {
			a.Forward = rp.Forward.String()
		}
		a.Provider = rp.Provider.Name
	}
	writeJSON(w, http.StatusOK, a)
}
