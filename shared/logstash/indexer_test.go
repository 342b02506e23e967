package logstash_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

// doc returns a document shaped like the encoder's, with a deterministic id.
func doc(i int) []byte {
	return fmt.Appendf(nil, `{"@timestamp":"2026-11-25T10:00:00Z","@metadata":{"_id":"id-%06d"},"message":"GET /x?%d HTTP/1.1","http":{"response":{"status_code":200}},"n":%d}`, i, i, i)
}

func id(i int) string { return fmt.Sprintf("id-%06d", i) }

// fastRetries keeps retry waits short in tests.
func fastRetries(cfg logstash.Config) logstash.Config {
	cfg.BackoffBase = time.Millisecond
	cfg.BackoffMax = 5 * time.Millisecond
	return cfg
}

// waitFor polls cond until it holds, failing the test after 10 s: the condition is the
// synchronisation, the interval only how often it is looked at.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newIndexer(t *testing.T, cfg logstash.Config) logstash.Indexer {
	t.Helper()
	ix, err := logstash.NewIndexer(fastRetries(cfg))
	if err != nil {
		t.Fatalf("NewIndexer: %v", err)
	}
	return ix
}

func addAll(t *testing.T, ix logstash.Indexer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := ix.Add(context.Background(), doc(i)); err != nil {
			t.Fatalf("Add(%d): %v", i, err)
		}
	}
}

// assertExactlyOnce checks the stand-in holds documents from..to-1, each byte for byte
// as sent and stored once, and nothing else.
func assertExactlyOnce(t *testing.T, srv *logstashtest.Server, from, to int) {
	t.Helper()
	assertAll(t, srv, from, to)
	if re := srv.Redelivered(); len(re) > 0 {
		t.Errorf("%d ids stored more than once, e.g. %s ×%d", len(re), re[0], srv.Deliveries(re[0]))
	}
}

// assertAll checks the stand-in holds exactly documents from..to-1, unaltered.
func assertAll(t *testing.T, srv *logstashtest.Server, from, to int) {
	t.Helper()
	docs := srv.Docs()
	if len(docs) != to-from {
		t.Errorf("stand-in holds %d documents, want %d", len(docs), to-from)
	}
	missing := 0
	for i := from; i < to; i++ {
		got, ok := docs[id(i)]
		if !ok {
			missing++
			continue
		}
		if !bytes.Equal(got, doc(i)) {
			t.Errorf("document %s altered:\n got %s\nwant %s", id(i), got, doc(i))
		}
	}
	if missing > 0 {
		t.Errorf("%d documents missing", missing)
	}
	if n := len(srv.NoID()); n > 0 {
		t.Errorf("%d events without @metadata._id", n)
	}
}

func TestDeliversEveryDocumentOnceInBatches(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	var mu sync.Mutex
	var results []logstash.BatchResult
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 100, OnBatch: func(r logstash.BatchResult) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}})
	addAll(t, ix, 0, 2345)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	assertExactlyOnce(t, srv, 0, 2345)
	st := ix.Stats()
	if st.Added != 2345 || st.Sent != 2345 || st.Failed != 0 || st.Batches != 24 || st.Requests != 24 || st.Retries != 0 {
		t.Errorf("stats = %+v; want 2345 added and sent in 24 batches and requests", st)
	}
	var wire uint64
	for _, r := range srv.Requests() {
		if r.ContentType != "application/json" || r.ContentEncoding != "gzip" || r.Status != 200 {
			t.Errorf("request %+v; want gzipped application/json answered 200", r)
		}
		if r.Events > 100 {
			t.Errorf("request carried %d events, BatchDocs is 100", r.Events)
		}
		if r.BodyBytes < 4*r.WireBytes {
			t.Errorf("gzip shrank %d bytes only to %d", r.BodyBytes, r.WireBytes)
		}
		wire += uint64(r.WireBytes)
	}
	if st.BytesSent != wire {
		t.Errorf("Stats.BytesSent = %d, stand-in received %d", st.BytesSent, wire)
	}
	if len(results) != 24 {
		t.Fatalf("OnBatch called %d times, want 24", len(results))
	}
	sent := 0
	for _, r := range results {
		sent += r.Sent
		if r.Err != nil || r.Sent != r.Docs {
			t.Errorf("OnBatch %+v", r)
		}
	}
	if sent != 2345 {
		t.Errorf("OnBatch saw %d sent, want 2345", sent)
	}
}

func TestBatchBytesLimit(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	limit := 10 * len(doc(0))
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchBytes: limit, DisableGzip: true})
	addAll(t, ix, 0, 200)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, srv, 0, 200)
	for _, r := range srv.Requests() {
		if r.ContentEncoding != "" {
			t.Errorf("Content-Encoding %q with DisableGzip", r.ContentEncoding)
		}
		// Body bytes = documents + commas + brackets.
		if r.BodyBytes > int64(limit)+1 {
			t.Errorf("body of %d bytes, BatchBytes is %d", r.BodyBytes, limit)
		}
	}
}

func TestJSONLinesCodec(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{Codecs: map[string]string{"application/x-ndjson": "json_lines"}})
	ix := newIndexer(t, logstash.Config{URL: srv.URL, Codec: logstash.CodecJSONLines, BatchDocs: 64})
	addAll(t, ix, 0, 1000)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, srv, 0, 1000)
	for _, r := range srv.Requests() {
		if r.ContentType != "application/x-ndjson" {
			t.Fatalf("Content-Type %q, want application/x-ndjson", r.ContentType)
		}
	}
}

func Test429StormBacksOffAndReconnects(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Script(logstashtest.Storm429(6))
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 50, Workers: 1})
	addAll(t, ix, 0, 500)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	assertExactlyOnce(t, srv, 0, 500)
	st := ix.Stats()
	if st.Throttled != 6 || st.Retries != 6 || st.Requests != 16 {
		t.Errorf("stats = %+v; want 6 throttled, 6 retries, 16 requests", st)
	}
	if got := srv.StatusCounts()[429]; got != 6 {
		t.Errorf("stand-in answered 429 %d times, want 6", got)
	}
	// Each 429 closed its connection, so each retry dialled anew.
	if c := srv.Connections(); c < 7 {
		t.Errorf("%d connections; want ≥ 7 (one per 429 and a final one)", c)
	}
}

func TestKeepsConnectionsAlive(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 10, Workers: 2})
	addAll(t, ix, 0, 500)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Two, plus the odd dial racing a connection's return to the idle pool.
	if c := srv.Connections(); c > 4 {
		t.Errorf("%d connections for 50 requests with 2 workers; keep-alive is not working", c)
	}
}

func Test500RetriesAndPushedEventsStayPushed(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	// The first request fails after 20 of its events were pushed, twice.
	srv.Script(logstashtest.Fail500(2, 20))
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 50, Workers: 1})
	addAll(t, ix, 0, 300)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	assertAll(t, srv, 0, 300)
	st := ix.Stats()
	if st.ServerErrors != 2 || st.Retries != 2 || st.Sent != 300 {
		t.Errorf("stats = %+v; want 2 server errors, 2 retries, 300 sent", st)
	}
	// Only the events pushed before the 500s arrive again, overwriting themselves by id.
	re := srv.Redelivered()
	if len(re) != 20 {
		t.Errorf("%d ids redelivered, want the 20 pushed before each 500", len(re))
	}
	for _, r := range re {
		if n := srv.Deliveries(r); n != 3 {
			t.Errorf("%s stored %d times, want 3 (two 500s and the success)", r, n)
		}
	}
}

func Test413SplitsUntilBatchesFit(t *testing.T) {
	// Logstash's limit is lower than the sink was told: it must find out by 413s.
	limit := 12 * len(doc(0))
	srv := logstashtest.New(t, logstashtest.Options{MaxContentLength: int64(limit)})
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 100})
	addAll(t, ix, 0, 1000)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	assertExactlyOnce(t, srv, 0, 1000)
	st := ix.Stats()
	if st.Splits == 0 || st.Sent != 1000 {
		t.Errorf("stats = %+v; want splits and 1000 sent", st)
	}
	// The limit is learnt once, not rediscovered per batch: 150 answers of 413 for these
	// ten batches before it was.
	t.Logf("413 answers: %d", srv.StatusCounts()[413])
	if n := srv.StatusCounts()[413]; n > 30 {
		t.Errorf("%d answers of 413 for 10 batches: the limit is rediscovered per batch", n)
	}
	if srv.StatusCounts()[413] != int(st.Splits) {
		t.Errorf("stand-in answered 413 %d times, Stats.Splits = %d", srv.StatusCounts()[413], st.Splits)
	}
}

func Test413SingleDocumentIsDeadLetteredThenReplayed(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{MaxContentLength: 4096})
	dir := t.TempDir()
	dl, err := logstash.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	big := fmt.Appendf(nil, `{"@metadata":{"_id":"big"},"message":"%s"}`, strings.Repeat("x", 8000))
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 10, DeadLetter: dl,
		Source: logstash.Source{Bucket: "logs", Key: "AWSLogs/1/elb/a.log.gz"}})
	addAll(t, ix, 0, 25)
	if err := ix.Add(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	addAll(t, ix, 25, 50)
	err = ix.Close(context.Background())
	var de *logstash.DeliveryError
	if !errors.As(err, &de) || de.DeadLettered != 1 || de.Lost != 0 {
		t.Fatalf("Close = %v; want a DeliveryError with 1 dead-lettered, 0 lost", err)
	}
	var se *logstash.StatusError
	if !errors.As(err, &se) || se.Status != 413 {
		t.Errorf("Close error %v does not carry the 413", err)
	}
	assertExactlyOnce(t, srv, 0, 50)
	names, err := dl.List(context.Background())
	if err != nil || len(names) != 1 {
		t.Fatalf("dead letters %v, %v; want one", names, err)
	}
	if !strings.Contains(names[0], "/logs/AWSLogs/1/elb/a.log.gz/") {
		t.Errorf("dead letter %q does not name its source", names[0])
	}
	fb, err := dl.Get(context.Background(), names[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(fb.Docs) != 1 || !bytes.Equal(fb.Docs[0], big) || fb.Status != 413 || fb.Source.Key != "AWSLogs/1/elb/a.log.gz" {
		t.Errorf("dead letter = status %d source %+v, %d docs", fb.Status, fb.Source, len(fb.Docs))
	}

	// After the operator raises max_content_length, replay delivers it and removes it.
	bigger := logstashtest.New(t, logstashtest.Options{})
	st, err := logstash.Replay(context.Background(), dl, fastRetries(logstash.Config{URL: bigger.URL}))
	if err != nil || st.Replayed != 1 || st.Kept != 0 || st.Sent != 1 {
		t.Fatalf("Replay = %+v, %v", st, err)
	}
	if got := bigger.Docs()["big"]; !bytes.Equal(got, big) {
		t.Errorf("replayed document differs")
	}
	if names, _ := dl.List(context.Background()); len(names) != 0 {
		t.Errorf("dead letters left after replay: %v", names)
	}
}

// Test401StopsTheSinkWithoutDeadLetters: a refusal of the credentials is not a batch's
// failure but the run's: Add stops accepting at once (the caller stops reading), and
// nothing is dead-lettered — every later attempt would be refused too, and the source
// object is the durable copy.
func Test401StopsTheSinkWithoutDeadLetters(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{Username: "ferry", Password: "right"})
	dir := t.TempDir()
	dl, _ := logstash.NewDir(dir)
	ix := newIndexer(t, logstash.Config{URL: srv.URL, Username: "ferry", Password: "wrong", BatchDocs: 10, Workers: 1, DeadLetter: dl})
	var addErr error
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; addErr == nil && time.Now().Before(deadline); i++ {
		addErr = ix.Add(context.Background(), doc(i))
	}
	if !errors.Is(addErr, logstash.ErrUnauthorized) {
		t.Fatalf("Add kept accepting documents after a 401 (last error %v)", addErr)
	}
	err := ix.Close(context.Background())
	var de *logstash.DeliveryError
	if !errors.Is(err, logstash.ErrUnauthorized) || !errors.As(err, &de) {
		t.Fatalf("Close = %v; want a DeliveryError wrapping ErrUnauthorized", err)
	}
	st := ix.Stats()
	if de.DeadLettered != 0 || de.Lost != 0 || de.Refused == 0 || uint64(de.Refused) != st.Added || st.Sent != 0 {
		t.Fatalf("Close = %v, stats %+v; want every added document refused, none dead-lettered or lost", err, st)
	}
	if st.Requests != 1 || st.Retries != 0 {
		t.Errorf("stats = %+v; want exactly one request and no retry after a 401", st)
	}
	if st.Added > 10*3 {
		t.Errorf("%d documents taken after the refusal; Add should stop within a batch or two", st.Added)
	}
	if names, _ := dl.List(context.Background()); len(names) != 0 {
		t.Errorf("dead letters written for refused documents: %v", names)
	}
	if len(srv.Docs()) != 0 {
		t.Errorf("stand-in stored documents despite 401")
	}
}

// recordHandler keeps log records for assertions.
type recordHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r)
	h.mu.Unlock()
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordHandler) find(level slog.Level, msgPart string) (slog.Record, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.recs {
		if r.Level == level && strings.Contains(r.Message, msgPart) {
			return r, true
		}
	}
	return slog.Record{}, false
}

func Test400FailsLoudlyAndDeadLetters(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Script(logstashtest.Fault{Status: 400})
	logs := &recordHandler{}
	dl, _ := logstash.NewDir(t.TempDir())
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 10, Workers: 1, DeadLetter: dl, Logger: slog.New(logs)})
	addAll(t, ix, 0, 30)
	err := ix.Close(context.Background())
	var de *logstash.DeliveryError
	if !errors.As(err, &de) || de.DeadLettered != 10 {
		t.Fatalf("Close = %v; want 10 dead-lettered", err)
	}
	rec, ok := logs.find(slog.LevelError, "400")
	if !ok {
		t.Fatal("no error-level log for the 400")
	}
	var body string
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "body" {
			body = a.Value.String()
		}
		return true
	})
	if body != "Bad Request" {
		t.Errorf("logged body %q, want the answer's body", body)
	}
	if st := ix.Stats(); st.Retries != 0 || st.Sent != 20 {
		t.Errorf("stats %+v; want no retry of a 400 and the other 20 sent", st)
	}
}

func TestOther4xxIsFailureNotSuccess(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Script(logstashtest.Fault{Status: 404})
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 10, Workers: 1})
	addAll(t, ix, 0, 20)
	err := ix.Close(context.Background())
	var de *logstash.DeliveryError
	if !errors.As(err, &de) || de.Lost != 10 {
		t.Fatalf("Close = %v; want 10 lost (no dead letter configured)", err)
	}
	if st := ix.Stats(); st.Sent != 10 || st.Lost != 10 || st.Failed != 10 {
		t.Errorf("stats %+v", st)
	}
}

func TestResetMidRequestIsRetried(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Script(logstashtest.Reset(3))
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 100, Workers: 2})
	addAll(t, ix, 0, 1000)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	assertExactlyOnce(t, srv, 0, 1000)
	if st := ix.Stats(); st.NetErrors != 3 || st.Retries != 3 {
		t.Errorf("stats %+v; want 3 network errors retried", st)
	}
}

func TestSlowResponsesWithinTimeout(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Script(logstashtest.Slow(3, 150*time.Millisecond))
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 50, Workers: 2, RequestTimeout: 5 * time.Second})
	addAll(t, ix, 0, 400)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, srv, 0, 400)
	if st := ix.Stats(); st.Retries != 0 {
		t.Errorf("slow answers were retried: %+v", st)
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Script(logstashtest.Slow(1, 400*time.Millisecond))
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 50, Workers: 1, RequestTimeout: 100 * time.Millisecond})
	addAll(t, ix, 0, 100)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slow request finishing on the server", func() bool { return srv.Pending() == 0 && srv.Deliveries(id(0)) == 2 })
	assertAll(t, srv, 0, 100)
	// The timed-out request was still processed by the server; its batch arrives twice
	// (harmless: same ids), the rest once.
	for i := 0; i < 100; i++ {
		want := 1
		if i < 50 {
			want = 2
		}
		if n := srv.Deliveries(id(i)); n != want {
			t.Fatalf("%s delivered %d times, want %d", id(i), n, want)
		}
	}
	if st := ix.Stats(); st.NetErrors != 1 || st.Retries != 1 {
		t.Errorf("stats %+v; want one timeout retried", st)
	}
}

func TestRetriesExhaustedWithoutDeadLetterAreLost(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Script(logstashtest.Fault{Status: 503, Times: 1000})
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 10, Workers: 1, MaxRetries: 2})
	addAll(t, ix, 0, 30)
	err := ix.Close(context.Background())
	var de *logstash.DeliveryError
	if !errors.As(err, &de) || de.Lost != 30 || de.DeadLettered != 0 {
		t.Fatalf("Close = %v; want 30 lost", err)
	}
	st := ix.Stats()
	if st.Requests != 9 || st.Retries != 6 || st.Added != st.Sent+st.Failed {
		t.Errorf("stats %+v; want 3 attempts per batch", st)
	}
}

func TestRetryBudgetBoundsTime(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Script(logstashtest.Fault{Status: 503, Times: 100000})
	ix, err := logstash.NewIndexer(logstash.Config{URL: srv.URL, MaxRetries: 1000, BackoffBase: 10 * time.Millisecond,
		BackoffMax: 20 * time.Millisecond, RetryBudget: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addAll(t, ix, 0, 5)
	start := time.Now()
	err = ix.Close(context.Background())
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("Close = %v after %s; want failure within the budget", err, time.Since(start))
	}
}

func TestBackpressureBlocksAddAndBoundsMemory(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Pause()
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 10, Workers: 2, FlushInterval: -1})
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 200; i++ {
			if err := ix.Add(context.Background(), doc(i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	// Two batches in flight (one per worker, held by the stalled stand-in) and one full
	// batch waiting for a worker.
	waitFor(t, "two requests held and 30 documents taken", func() bool { return srv.Pending() == 2 && ix.Stats().Added >= 30 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// A second producer blocks too, and gives up with its context; meanwhile the first
	// stays blocked, so nothing more was taken.
	if err := ix.Add(ctx, doc(999)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Add with an expiring context = %v; want DeadlineExceeded", err)
	}
	if got := ix.Stats().Added; got != 30 {
		t.Fatalf("Added = %d while Logstash is stalled; want 30 (2 workers × 10 + 1 waiting batch)", got)
	}
	select {
	case err := <-done:
		t.Fatalf("Add returned (%v) while every worker was busy", err)
	default:
	}
	srv.Resume()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, srv, 0, 200)
}

func TestFlushIntervalSendsPartialBatch(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	ix := newIndexer(t, logstash.Config{URL: srv.URL, FlushInterval: 30 * time.Millisecond})
	defer ix.Close(context.Background())
	addAll(t, ix, 0, 3)
	waitFor(t, "the flush interval sending the partial batch", func() bool { return len(srv.Docs()) >= 3 })
	if n := len(srv.Docs()); n != 3 {
		t.Fatalf("stand-in holds %d documents without Close; want 3 after the flush interval", n)
	}
}

func TestCloseDeadlineDeadLettersInFlight(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	srv.Pause()
	dl, _ := logstash.NewDir(t.TempDir())
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 10, Workers: 2, DeadLetter: dl, FlushInterval: -1})
	addAll(t, ix, 0, 25) // two batches in flight, five documents buffered
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := ix.Close(ctx)
	var de *logstash.DeliveryError
	if !errors.As(err, &de) || de.DeadLettered != 25 || de.Lost != 0 {
		t.Fatalf("Close = %v; want 25 dead-lettered, none lost", err)
	}
	srv.Resume()
	st, err := logstash.Replay(context.Background(), dl, fastRetries(logstash.Config{URL: srv.URL}))
	if err != nil || st.Replayed != 3 || st.Sent != 25 {
		t.Fatalf("Replay = %+v, %v", st, err)
	}
	// The paused requests may still complete on the server once resumed: at most twice.
	assertAll(t, srv, 0, 25)
	for i := 0; i < 25; i++ {
		if n := srv.Deliveries(id(i)); n < 1 || n > 2 {
			t.Errorf("%s delivered %d times", id(i), n)
		}
	}
}

func TestAddRejectsBadDocumentsAndKeepsTheRest(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	ix := newIndexer(t, logstash.Config{URL: srv.URL})
	for _, tc := range []struct {
		doc, want string
	}{
		{"", "empty document"},
		{`["a"]`, "not a JSON object"},
		{"{\"a\":\n1}", "newline"},
		{`{"a":1`, "not a JSON object"},
	} {
		if err := ix.Add(context.Background(), []byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Add(%q) = %v; want an error containing %q", tc.doc, err, tc.want)
		}
	}
	addAll(t, ix, 0, 10)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, srv, 0, 10)
	if err := ix.Add(context.Background(), doc(11)); err == nil {
		t.Error("Add after Close succeeded")
	}
	if st := ix.Stats(); st.Added != 10 {
		t.Errorf("Added = %d, want 10", st.Added)
	}
}

func TestAddCopiesTheDocument(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{})
	ix := newIndexer(t, logstash.Config{URL: srv.URL})
	buf := make([]byte, 0, 512)
	for i := 0; i < 50; i++ {
		buf = append(buf[:0], doc(i)...)
		if err := ix.Add(context.Background(), buf); err != nil {
			t.Fatal(err)
		}
		for j := range buf {
			buf[j] = ' ' // the caller reuses its buffer
		}
	}
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, srv, 0, 50)
}

func TestAuthorizationHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  logstash.Config
		want string
	}{
		{"basic", logstash.Config{Username: "u", Password: "p"}, "Basic dTpw"},
		{"apikey", logstash.Config{APIKey: "k1"}, "ApiKey k1"},
		{"bearer", logstash.Config{BearerToken: "t1"}, "Bearer t1"},
		{"none", logstash.Config{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := logstashtest.New(t, logstashtest.Options{})
			cfg := tc.cfg
			cfg.URL = srv.URL
			cfg.Headers = http.Header{"X-Tenant": {"blue"}}
			ix := newIndexer(t, cfg)
			addAll(t, ix, 0, 1)
			if err := ix.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Authorization != tc.want {
				t.Errorf("requests %+v; want Authorization %q", reqs, tc.want)
			}
		})
	}
}

func TestTLSVerifiesAndAcceptsCustomCA(t *testing.T) {
	srv := logstashtest.NewTLS(t, logstashtest.Options{})
	ix := newIndexer(t, logstash.Config{URL: srv.URL, CACertPEM: srv.CertPEM()})
	addAll(t, ix, 0, 20)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	assertExactlyOnce(t, srv, 0, 20)

	// Without the CA the certificate is refused, at once and for good.
	ix = newIndexer(t, logstash.Config{URL: srv.URL})
	addAll(t, ix, 100, 101)
	err := ix.Close(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Close without the CA = %v; want a certificate error", err)
	}
	if st := ix.Stats(); st.Retries != 0 {
		t.Errorf("certificate failure retried %d times", st.Retries)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  logstash.Config
		want string
	}{
		{logstash.Config{}, "URL is required"},
		{logstash.Config{URL: "ftp://x"}, "want http"},
		{logstash.Config{URL: "http://u:p@x"}, "must not carry credentials"},
		{logstash.Config{URL: "https://x", Username: "u", APIKey: "k"}, "only one of"},
		{logstash.Config{URL: "http://x", Codec: "xml"}, "unknown Codec"},
		{logstash.Config{URL: "http://x", CACertPEM: []byte("nope")}, "no PEM certificate"},
		{logstash.Config{URL: "https://x", TLSConfig: insecureTLS()}, "InsecureSkipVerify is refused"},
	} {
		_, err := logstash.NewIndexer(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewIndexer(%+v) = %v; want %q", tc.cfg.URL, err, tc.want)
		}
	}
}

func TestStandInHoldsDocumentsAsJSON(t *testing.T) {
	// Sanity check of the helpers: the documents are valid JSON carrying their id.
	var m struct {
		Meta struct {
			ID string `json:"_id"`
		} `json:"@metadata"`
	}
	if err := json.Unmarshal(doc(7), &m); err != nil || m.Meta.ID != id(7) {
		t.Fatalf("doc(7) = %s (%v)", doc(7), err)
	}
}

func TestValidateMatchesNewIndexer(t *testing.T) {
	if err := (logstash.Config{URL: "http://x:8080"}).Validate(); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
	if err := (logstash.Config{URL: "http://x", Codec: "csv"}).Validate(); err == nil || !strings.Contains(err.Error(), "unknown Codec") {
		t.Errorf("Validate(bad codec) = %v", err)
	}
}

func TestRedirectIsAFailureNotASuccess(t *testing.T) {
	target := logstashtest.New(t, logstashtest.Options{})
	redirector := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	})
	srv := httptestServer(t, redirector)
	ix := newIndexer(t, logstash.Config{URL: srv})
	addAll(t, ix, 0, 5)
	err := ix.Close(context.Background())
	var se *logstash.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusFound {
		t.Fatalf("Close = %v; want the 302 as a failure", err)
	}
	if st := ix.Stats(); st.Sent != 0 || st.Lost != 5 {
		t.Errorf("stats %+v; a redirect must not count as sent", st)
	}
	if len(target.Requests()) != 0 {
		t.Errorf("the redirect was followed")
	}
}

func TestStalledPipelineAnswers429UntilItRecovers(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{BlockTimeout: 20 * time.Millisecond})
	srv.Pause()
	ix := newIndexer(t, logstash.Config{URL: srv.URL, BatchDocs: 20, Workers: 2, MaxRetries: 1000,
		BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
	addAll(t, ix, 0, 40) // both workers now retry against a stalled pipeline
	waitFor(t, "429s from the stalled pipeline", func() bool { return ix.Stats().Throttled >= 4 })
	srv.Resume()
	addAll(t, ix, 40, 100)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, srv, 0, 100)
	if st := ix.Stats(); st.Throttled == 0 || st.Throttled != st.Retries {
		t.Errorf("stats %+v; want 429s, each retried", st)
	}
}
