package logstash

import (
	"testing"
	"time"
)

// The documented figure — a 20 s Logstash restart with the defaults dead-letters nothing —
// holds by construction: with no count limit, a batch is retried until its next wait would
// end past RetryBudget, and no wait is longer than BackoffMax, so retries go on for at least
// RetryBudget - BackoffMax. TestRestartWithinTheBudgetDeadLettersNothing drives the same
// ratios scaled down.
func TestRetryDefaultsOutlastARestart(t *testing.T) {
	cfg, _, err := Config{URL: "http://127.0.0.1:1"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxRetries != 0 || cfg.RetryBudget != 2*time.Minute || cfg.BackoffBase != 100*time.Millisecond || cfg.BackoffMax != 10*time.Second {
		t.Fatalf("defaults: MaxRetries %d, RetryBudget %s, backoff %s..%s", cfg.MaxRetries, cfg.RetryBudget, cfg.BackoffBase, cfg.BackoffMax)
	}
	const restart = 20 * time.Second
	if retriesLast := cfg.RetryBudget - cfg.BackoffMax; retriesLast < 5*restart {
		t.Fatalf("retries last at least %s, want five times a %s restart", retriesLast, restart)
	}
	ix := &indexer{cfg: cfg}
	start := time.Now()
	if ix.outOfRetries(1000, start, cfg.BackoffMax) {
		t.Fatal("a count of attempts stopped the retries; only the budget may")
	}
	if !ix.outOfRetries(3, start.Add(-cfg.RetryBudget), time.Millisecond) {
		t.Fatal("retries went on past the budget")
	}
	ix.cfg.RetryUntil = time.Now().Add(time.Second)
	if !ix.outOfRetries(1, time.Now(), 2*time.Second) {
		t.Fatal("a retry would wait past RetryUntil (the Lambda's stop time)")
	}
	for n := 1; n < 100; n++ {
		if w := ix.backoff(n); w <= 0 || w > cfg.BackoffMax {
			t.Fatalf("backoff(%d) = %s, want in (0, %s]", n, w, cfg.BackoffMax)
		}
	}
}
