package logstash_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

// A Logstash restart shorter than the retry budget costs time, not dead letters. This is
// the default figure (a 20 s restart, 2 min budget, 100 ms–10 s backoff) scaled down 20×
// so that it runs in about a second; TestRetryDefaultsOutlastARestart checks the defaults.
func TestRestartWithinTheBudgetDeadLettersNothing(t *testing.T) {
	const scale = 20
	srv := logstashtest.New(t, logstashtest.Options{})
	dl, _ := logstash.NewDir(t.TempDir())
	ix, err := logstash.NewIndexer(logstash.Config{
		URL: srv.URL, BatchDocs: 50, DeadLetter: dl,
		RetryBudget: 2 * time.Minute / scale, BackoffBase: 100 * time.Millisecond / scale, BackoffMax: 10 * time.Second / scale,
	})
	if err != nil {
		t.Fatal(err)
	}
	addAll(t, ix, 0, 100)
	back := srv.Outage(20 * time.Second / scale)
	addAll(t, ix, 100, 1000)
	if err := <-back; err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(context.Background()); err != nil {
		t.Fatalf("Close = %v; want everything delivered after the restart", err)
	}
	st := ix.Stats()
	if st.DeadLettered != 0 || st.NetErrors == 0 {
		t.Fatalf("stats %+v; want network errors retried and nothing dead-lettered", st)
	}
	// Every document arrived. A batch the stand-in stored just before it went down, whose
	// answer was lost with the connection, arrives twice, as with a real Logstash: the same
	// id overwrites itself in Elasticsearch.
	assertAll(t, srv, 0, 1000)
}

// In the Lambda no retry waits past the stop time (RetryUntil), whatever the budget: the
// batch is dead-lettered in time for the continuation to be sent.
func TestRetryUntilEndsRetriesBeforeTheBudget(t *testing.T) {
	srv := logstashtest.New(t, logstashtest.Options{ResponseCode: 503})
	dl, _ := logstash.NewDir(t.TempDir())
	until := time.Now().Add(300 * time.Millisecond)
	ix := newIndexer(t, logstash.Config{URL: srv.URL, DeadLetter: dl, RetryUntil: until, BackoffBase: 20 * time.Millisecond})
	addAll(t, ix, 0, 10)
	err := ix.Close(context.Background())
	var de *logstash.DeliveryError
	if !errors.As(err, &de) || de.DeadLettered != 10 {
		t.Fatalf("Close = %v; want 10 dead-lettered", err)
	}
	if late := time.Since(until); late > time.Second {
		t.Fatalf("retries went on %s past RetryUntil", late)
	}
}
