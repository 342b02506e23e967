// Package logstashtest is a stand-in for Logstash's http input (logstash-input-http v4),
// for tests: Logstash itself cannot run here. It answers the way the plugin does
// (see docs/logstash-http.md): gzip bodies decoded (400 when broken), a JSON
// array or object with Content-Type application/json (json codec), NDJSON when a
// json_lines codec is mapped, 401 with WWW-Authenticate on bad basic auth, 413 above
// max_content_length, 429 when too many requests are pending. It stores every event
// by its @metadata._id and counts deliveries per id, so tests can assert that each
// document arrived exactly once, and it plays scripted faults (429 storms with closed
// connections, 500s after events were pushed, resets mid-request, slow answers).
package logstashtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Options configure the stand-in like the plugin's settings of the same names.
type Options struct {
	// Username and Password, when Username is set, require HTTP basic auth (plugin
	// settings user/password); a request without them gets 401 and WWW-Authenticate.
	Username, Password string
	// MaxContentLength is the largest body accepted, compared with both the wire
	// body and the decoded one; larger bodies get 413. Default 100 MiB, the plugin's.
	MaxContentLength int64
	// MaxPendingRequests bounds requests being handled at once; more get 429 and the
	// connection is closed. Default 200, the plugin's.
	MaxPendingRequests int
	// ResponseCode answers accepted requests. Default 200 (the plugin allows 200-204).
	ResponseCode int
	// Codecs maps a request Content-Type (without parameters) to "json" or
	// "json_lines" (the plugin's additional_codecs). Other types use the plain codec:
	// one event holding the body as "message". Default {"application/json": "json"},
	// the plugin's default.
	Codecs map[string]string
	// BlockTimeout is how long a request may wait while the server is paused before it
	// gets 429, as the input answers when its queue stays blocked. Default 10s, the input's.
	BlockTimeout time.Duration
	// Hold delays every request (after it counts as pending), to make pending requests
	// pile up. Default 0.
	Hold time.Duration
	// Output, when set, receives the events of each request the input takes, before it is
	// answered, like the outputs of the pipeline behind the input (the demo's is an
	// ElasticsearchOutput). An error answers 429, as the input does when its queue is
	// blocked, and nothing of the request is stored. Default none: events are only stored.
	Output func(ctx context.Context, events []json.RawMessage) error
}

// Fault is one scripted misbehaviour, applied to the next Times requests.
type Fault struct {
	// Status answers this code instead of accepting (429, 500, 503, ...); 0 = accept.
	Status int
	// Times is how many requests the fault applies to. Default 1.
	Times int
	// CloseConn closes the connection after the answer (as Netty does on 429).
	CloseConn bool
	// Reset drops the connection mid-request without any answer (TCP RST).
	Reset bool
	// Delay waits before answering.
	Delay time.Duration
	// Push stores the first Push events of the request before answering Status (the
	// plugin keeps events already pushed to the queue when the codec fails later);
	// -1 stores them all.
	Push int
}

// Storm429 is n requests answered 429 with the connection closed.
func Storm429(n int) Fault { return Fault{Status: 429, Times: n, CloseConn: true} }

// Fail500 is n requests answered 500 after the first push events were stored (-1 = all).
func Fail500(n, push int) Fault { return Fault{Status: 500, Times: n, Push: push} }

// Reset is n requests whose connection is reset before any answer.
func Reset(n int) Fault { return Fault{Reset: true, Times: n} }

// Slow is n requests accepted after delay d.
func Slow(n int, d time.Duration) Fault { return Fault{Delay: d, Times: n} }

// Request is what the stand-in saw of one request.
type Request struct {
	Method, ContentType, ContentEncoding string
	Authorization                        string // the header as sent, for auth tests
	WireBytes, BodyBytes                 int64  // as sent, and after gzip decoding
	Events                               int    // events decoded from the body
	Status                               int    // answered status; 0 when the connection was reset
}

// Server is a running stand-in.
type Server struct {
	// URL is the endpoint to POST to.
	URL string

	opts    Options
	srv     *httptest.Server
	pending atomic.Int64
	conns   atomic.Int64
	gate    chan struct{} // closed while not paused

	mu         sync.Mutex
	faults     []Fault
	docs       map[string]json.RawMessage
	deliveries map[string]int
	noID       []json.RawMessage
	plain      []string
	requests   []Request
}

// New starts a stand-in that stops when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s := Start(opts)
	t.Cleanup(s.Close)
	return s
}

// Start starts a stand-in outside a test (examples, local experiments); call Close.
func Start(opts Options) *Server {
	s := newServer(opts)
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ConnState = s.connState
	s.srv.Start()
	s.URL = s.srv.URL
	return s
}

// NewTLS is New over HTTPS with httptest's self-signed certificate; CertPEM returns
// the certificate a client must trust.
func NewTLS(t testing.TB, opts Options) *Server {
	t.Helper()
	s := newServer(opts)
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ConnState = s.connState
	// Clients that refuse the certificate are expected in tests; do not log them.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.StartTLS()
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

func newServer(opts Options) *Server {
	if opts.MaxContentLength <= 0 {
		opts.MaxContentLength = 100 << 20
	}
	if opts.MaxPendingRequests <= 0 {
		opts.MaxPendingRequests = 200
	}
	if opts.BlockTimeout <= 0 {
		opts.BlockTimeout = 10 * time.Second
	}
	if opts.ResponseCode == 0 {
		opts.ResponseCode = http.StatusOK
	}
	if opts.Codecs == nil {
		opts.Codecs = map[string]string{"application/json": "json"}
	}
	gate := make(chan struct{})
	close(gate)
	return &Server{
		gate:       gate,
		opts:       opts,
		docs:       map[string]json.RawMessage{},
		deliveries: map[string]int{},
	}
}

func (s *Server) connState(_ net.Conn, st http.ConnState) {
	if st == http.StateNew {
		s.conns.Add(1)
	}
}

// Connections returns how many TCP connections clients opened.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// Pending returns how many requests are being handled now.
func (s *Server) Pending() int { return int(s.pending.Load()) }

// Pause makes requests wait (as pending) until Resume; it simulates a stalled pipeline.
func (s *Server) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.gate:
		s.gate = make(chan struct{})
	default:
	}
}

// Resume lets paused and new requests proceed.
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.gate:
	default:
		close(s.gate)
	}
}

// Outage stops the stand-in the way a Logstash restart does: it stops listening (new
// connections are refused) and drops open ones, then listens again on the same address
// after down, with everything it stored. The returned channel is closed once it is back
// (with the error, if the address could not be taken again). Plain HTTP only.
func (s *Server) Outage(down time.Duration) <-chan error {
	addr := s.srv.Listener.Addr().String()
	s.srv.Listener.Close()
	s.srv.CloseClientConnections()
	back := make(chan error, 1)
	go func() {
		defer close(back)
		t := time.NewTimer(down) // the outage itself, not a wait for something
		defer t.Stop()
		<-t.C
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			back <- fmt.Errorf("logstashtest: listen again on %s: %w", addr, err)
			return
		}
		s.srv.Listener = ln
		go s.srv.Config.Serve(ln)
	}()
	return back
}

// ClearScript drops the faults not played yet.
func (s *Server) ClearScript() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// Close stops the server; it is safe to call more than once.
func (s *Server) Close() {
	s.Resume()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// CertPEM returns the PEM of the TLS certificate (NewTLS only).
func (s *Server) CertPEM() []byte {
	c := s.srv.Certificate()
	if c == nil {
		return nil
	}
	return pemEncode(c.Raw)
}

// Script queues faults; each applies to the next Fault.Times requests, in order.
func (s *Server) Script(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		if f.Times <= 0 {
			f.Times = 1
		}
		s.faults = append(s.faults, f)
	}
}

// Docs returns a copy of the stored events keyed by @metadata._id (last delivery wins).
func (s *Server) Docs() map[string]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]json.RawMessage, len(s.docs))
	for k, v := range s.docs {
		out[k] = v
	}
	return out
}

// Deliveries returns how many times an event with this id was stored.
func (s *Server) Deliveries(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deliveries[id]
}

// Redelivered returns the ids stored more than once, sorted.
func (s *Server) Redelivered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, n := range s.deliveries {
		if n > 1 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// NoID returns events that arrived without @metadata._id.
func (s *Server) NoID() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]json.RawMessage(nil), s.noID...)
}

// Plain returns the messages of events decoded by the plain codec (unmapped Content-Type).
func (s *Server) Plain() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.plain...)
}

// Requests returns every request seen, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// StatusCounts returns how many requests got each status (0 = reset).
func (s *Server) StatusCounts() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[int]int{}
	for _, r := range s.requests {
		m[r.Status]++
	}
	return m
}

func (s *Server) nextFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	f := s.faults[0]
	s.faults[0].Times--
	if s.faults[0].Times <= 0 {
		s.faults = s.faults[1:]
	}
	return f, true
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// ServeHTTP handles one request the way the http input does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := Request{
		Method:          r.Method,
		ContentType:     r.Header.Get("Content-Type"),
		ContentEncoding: r.Header.Get("Content-Encoding"),
		Authorization:   r.Header.Get("Authorization"),
	}
	n := s.pending.Add(1)
	defer s.pending.Add(-1)
	if n > int64(s.opts.MaxPendingRequests) {
		io.Copy(io.Discard, r.Body)
		s.answer(w, &rec, http.StatusTooManyRequests, "Too Many Requests", true)
		return
	}
	if s.opts.Hold > 0 {
		time.Sleep(s.opts.Hold)
	}
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	blocked := time.NewTimer(s.opts.BlockTimeout)
	select {
	case <-gate:
		blocked.Stop()
	case <-blocked.C:
		io.Copy(io.Discard, r.Body)
		s.answer(w, &rec, http.StatusTooManyRequests, "Too Many Requests", true)
		return
	}
	fault, faulty := s.nextFault()
	if faulty && fault.Reset {
		s.reset(w, r, &rec)
		return
	}
	if faulty && fault.Delay > 0 {
		// A client that gave up (closed the connection) cuts the wait short, so the
		// server can close; the request it sent is still processed, as Logstash would
		// (a timed-out batch can arrive twice). net/http notices a closed connection
		// only once the body has been read.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
		}
	}
	if s.opts.Username != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != s.opts.Username || p != s.opts.Password {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("WWW-Authenticate", `Basic realm="Logstash"`)
			s.answer(w, &rec, http.StatusUnauthorized, "Unauthorized", false)
			return
		}
	}
	wire, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxContentLength+1))
	rec.WireBytes = int64(len(wire))
	if err != nil {
		s.answer(w, &rec, http.StatusBadRequest, "reading body: "+err.Error(), true)
		return
	}
	if int64(len(wire)) > s.opts.MaxContentLength {
		s.answer(w, &rec, http.StatusRequestEntityTooLarge, "Request Entity Too Large", true)
		return
	}
	body := wire
	if rec.ContentEncoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(wire))
		if err == nil {
			body, err = io.ReadAll(io.LimitReader(zr, s.opts.MaxContentLength+1))
		}
		if err != nil {
			s.answer(w, &rec, http.StatusBadRequest, "bad gzip body: "+err.Error(), false)
			return
		}
	}
	rec.BodyBytes = int64(len(body))
	if int64(len(body)) > s.opts.MaxContentLength {
		s.answer(w, &rec, http.StatusRequestEntityTooLarge, "Request Entity Too Large", true)
		return
	}
	events, codecErr := s.decode(rec.ContentType, body)
	rec.Events = len(events)
	push := len(events)
	if faulty && fault.Status != 0 && fault.Push >= 0 && fault.Push < push {
		push = fault.Push
	}
	if s.opts.Output != nil && !(faulty && fault.Status != 0) && codecErr == nil {
		// A pipeline whose output cannot keep up blocks the input's queue, and the input
		// answers 429 and closes the connection: the events are not taken.
		if err := s.opts.Output(r.Context(), events); err != nil {
			s.answer(w, &rec, http.StatusTooManyRequests, "output: "+err.Error(), true)
			return
		}
	}
	s.store(events[:push])
	switch {
	case faulty && fault.Status != 0:
		s.answer(w, &rec, fault.Status, http.StatusText(fault.Status), fault.CloseConn)
	case codecErr != nil:
		s.answer(w, &rec, http.StatusInternalServerError, codecErr.Error(), false)
	default:
		s.answer(w, &rec, s.opts.ResponseCode, "ok", faulty && fault.CloseConn)
	}
}

func (s *Server) answer(w http.ResponseWriter, rec *Request, status int, body string, closeConn bool) {
	rec.Status = status
	s.record(*rec)
	if closeConn {
		w.Header().Set("Connection", "close")
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// reset reads part of the body, then drops the connection with a TCP RST.
func (s *Server) reset(w http.ResponseWriter, r *http.Request, rec *Request) {
	io.CopyN(io.Discard, r.Body, 512)
	rec.Status = 0
	s.record(*rec)
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("logstashtest: connection cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(fmt.Sprintf("logstashtest: hijack: %v", err))
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// decode turns a body into events with the codec the Content-Type selects. For json
// the whole body must parse (nothing is pushed otherwise); json_lines pushes the lines
// before a bad one and then fails, as the plugin does.
func (s *Server) decode(contentType string, body []byte) ([]json.RawMessage, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch s.opts.Codecs[mt] {
	case "json":
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && trimmed[0] == '[' {
			var arr []json.RawMessage
			if err := json.Unmarshal(trimmed, &arr); err != nil {
				return nil, fmt.Errorf("json codec: %w", err)
			}
			return arr, nil
		}
		if !json.Valid(trimmed) {
			return nil, fmt.Errorf("json codec: invalid JSON")
		}
		return []json.RawMessage{append(json.RawMessage(nil), trimmed...)}, nil
	case "json_lines":
		var out []json.RawMessage
		for len(body) > 0 {
			line := body
			if i := bytes.IndexByte(body, '\n'); i >= 0 {
				line, body = body[:i], body[i+1:]
			} else {
				body = nil
			}
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			if !json.Valid(line) {
				return out, fmt.Errorf("json_lines codec: invalid JSON line")
			}
			out = append(out, json.RawMessage(line))
		}
		return out, nil
	default:
		msg, _ := json.Marshal(map[string]string{"message": string(body)})
		return []json.RawMessage{msg}, nil
	}
}

type metaID struct {
	Metadata struct {
		ID string `json:"_id"`
	} `json:"@metadata"`
	Message *string `json:"message"`
}

func (s *Server) store(events []json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range events {
		ev = append(json.RawMessage(nil), ev...)
		var m metaID
		_ = json.Unmarshal(ev, &m)
		switch {
		case m.Metadata.ID != "":
			s.docs[m.Metadata.ID] = ev
			s.deliveries[m.Metadata.ID]++
		case m.Message != nil:
			s.plain = append(s.plain, *m.Message)
		default:
			s.noID = append(s.noID, ev)
		}
	}
}
