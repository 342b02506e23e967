package reindex

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

// A node that accepts connections and never answers fails each request after
// RequestTimeout with ElasticsearchError (worth a retry), instead of holding the step.
func TestHungNodeTimesOutEachRequest(t *testing.T) {
	release := make(chan struct{})
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		select { // never answers while the test runs
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	s := New(es, Config{RequestTimeout: timeout})
	start := time.Now()
	_, err = s.Do(context.Background(), State{Source: "logs", Run: "r1"})
	took := time.Since(start)
	mustName(t, err, ElasticsearchError)
	if !strings.Contains(err.Error(), "no answer within 300ms") {
		t.Errorf("error %q does not say the request timed out", err)
	}
	if asked.Load() == 0 {
		t.Error("the request never reached the server")
	}
	// The transport's own retries (3) run under the same deadline.
	if took > 10*timeout {
		t.Errorf("the step took %s with a %s request timeout", took, timeout)
	}
}

// A certificate that TLS verification refuses is UntrustedCertificate, which neither the
// state machine (it retries only ElasticsearchError) nor Run retries.
func TestCertificateErrorsAreNotRetried(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request got through an unverified handshake: %s %s", r.Method, r.URL)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.Config.ConnState = func(_ net.Conn, cs http.ConnState) {
		if cs == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	s := New(es, Config{PollInterval: time.Millisecond, Retries: 5})
	st := State{Source: "logs", Run: "r1"}
	_, err = s.Do(context.Background(), st)
	mustName(t, err, UntrustedCertificate)
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %q does not say what was wrong", err)
	}
	oneStep := conns.Load()
	if oneStep == 0 {
		t.Fatal("no connection reached the server")
	}
	// Run gives up at once: it makes no more connections than the one step did.
	conns.Store(0)
	_, err = Run(context.Background(), s, st)
	mustName(t, err, UntrustedCertificate)
	if got := conns.Load(); got != oneStep {
		t.Errorf("Run made %d connections, one step makes %d: it retried a certificate error", got, oneStep)
	}
}
