// Package reindex holds the steps of a safe Elasticsearch reindex — validate, preflight,
// block, create, start, check, verify, restore, swap, cleanup and rollback — each a small,
// idempotent operation on a State, so a Step Functions state machine (one Lambda
// invocation per step) and Run (one process) drive the same code.
//
// The invariant: no code path deletes a source index, or swaps it away, unless
// Elasticsearch itself shows, right before the act, a verified copy: the reindex task
// completed without failures, the destination was refreshed, and its _count equals the
// count of the source, which is write-blocked (and refreshed, so documents it held but had
// not made searchable count). The destructive helpers take a value that only verifyCopy
// produces, so they cannot be reached without that check.
//
// The state is not trusted to say which things belong together: the task must be the copy
// from From to To (by action and description), To must be the index this run created as
// the copy of the very index From is now (its uuid is in To's _meta), and the source must
// still resolve to From — or, in rename-back's second copy, From must be this run's
// temporary, carrying the lock the first swap put on it. Every index name in the state
// (source, dest, from, to, source_index) follows the same rules at every step, and a write
// block is lifted only where Elasticsearch shows this run set it. A stale, duplicated,
// edited or forged state therefore fails instead of verifying, swapping or rolling back the
// wrong index.
//
// A swap and a rollback of the same copy running at once (a task timeout shorter than the
// Lambda's) are kept apart by a lock named for the copy, which either the swap takes as an
// alias in the call that removes the source, or rollback takes as an index before it reads
// or deletes anything: Elasticsearch lets only one of them have the name (lock.go).
package reindex

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// Config tunes the steps. The zero value is usable.
type Config struct {
	// Logger receives one line per step and a warning for each best-effort action that
	// failed. Default: discard.
	Logger *slog.Logger
	// PollInterval is how long Run waits between checks of a running copy, and the
	// WaitSeconds suggested to a state machine. Default 10s.
	PollInterval time.Duration
	// CancelTimeout is how long rollback waits for a cancelled task to stop before it gives
	// up with RollbackIncomplete (deleting the destination under a running copy would let
	// the copy recreate it). Default 30s.
	CancelTimeout time.Duration
	// RequestTimeout bounds each request to Elasticsearch, from connecting to reading the
	// whole answer, so a node that accepts connections but never answers fails the step with
	// ElasticsearchError instead of holding a Lambda invocation until its deadline. Keep it
	// under the function's timeout. Default 30s.
	RequestTimeout time.Duration
	// Retries is how many times Run retries a step that failed with ElasticsearchError,
	// waiting PollInterval between attempts. Default 3; negative means none.
	Retries int
	// Now stamps generated run ids. Default time.Now.
	Now func() time.Time
}

// Steps runs reindex steps against one cluster. It is safe for concurrent use; the
// state it works on travels in State.
type Steps struct {
	t   esapi.Transport
	cfg Config
	log *slog.Logger
	// testHook, set only by tests, runs at the points named by the hook constants, so a
	// test can run another step exactly there and make a race deterministic.
	testHook func(point string)
}

// Points where testHook runs.
const (
	hookSwapVerified    = "swap: copy verified, source not yet removed"
	hookRollbackStart   = "rollback: copy stopped, nothing read yet"
	hookRollbackChecked = "rollback: indices read, destination not yet deleted"
)

func (s *Steps) at(point string) {
	if s.testHook != nil {
		s.testHook(point)
	}
}

// New returns Steps that talk to Elasticsearch through t (an *elasticsearch.Client, or
// any esapi.Transport).
func New(t esapi.Transport, cfg Config) *Steps {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 10 * time.Second
	}
	if cfg.CancelTimeout <= 0 {
		cfg.CancelTimeout = 30 * time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Steps{t: timeoutTransport{t: t, timeout: cfg.RequestTimeout}, cfg: cfg, log: cfg.Logger}
}

// Do runs one step: st.Step, or st.Next when Step is empty, or validate for a new request
// (neither set, no phase). It returns the state for the
// next step. On error it returns the input state unchanged (as Step Functions keeps the
// input of a failed Task) and an error whose ErrorName is stable.
func (s *Steps) Do(ctx context.Context, st State) (State, error) {
	step := st.Step
	if step == "" {
		step = st.Next
	}
	if step == "" && st.Phase == "" {
		step = StepValidate // a new request, e.g. a state machine's execution input
	}
	in := st
	// Before any request: a state this large (150k task ids) would make cleanup send
	// hundreds of thousands of requests, and retrying cannot shrink it.
	err := st.checkSize()
	out := st
	if err == nil {
		out, err = s.do(ctx, step, st)
	}
	if err == nil {
		err = out.checkSize()
	}
	if err = named(step, err); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "reindex step failed", slog.String("step", string(step)),
			slog.String("source", st.Source), slog.String("run", st.Run),
			slog.String("error_name", ErrorName(err)), slog.String("error", err.Error()))
		return in, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "reindex step", slog.String("step", string(step)),
		slog.String("source", out.Source), slog.String("from", out.From), slog.String("to", out.To),
		slog.String("run", out.Run), slog.String("status", string(out.Status)), slog.String("next", string(out.Next)))
	return out, nil
}

func (s *Steps) do(ctx context.Context, step Step, st State) (State, error) {
	if step == "" {
		return st, fail(InvalidRequest, step, `no step: set "step" (or "next") to one of validate, preflight, block, create, start, check, verify, restore, swap, cleanup, rollback`)
	}
	if !step.valid() {
		return st, fail(InvalidRequest, step, "unknown step %q", step)
	}
	st.Step = ""
	if step != StepValidate && step != StepRollback {
		if err := st.checkValidated(step); err != nil {
			return st, err
		}
	}
	var err error
	switch step {
	case StepValidate:
		err = s.validate(ctx, &st)
	case StepPreflight:
		err = s.preflight(ctx, &st)
	case StepBlock:
		err = s.block(ctx, &st)
	case StepCreate:
		err = s.create(ctx, &st)
	case StepStart:
		err = s.start(ctx, &st)
	case StepCheck:
		err = s.check(ctx, &st)
	case StepVerify:
		err = s.verify(ctx, &st)
	case StepRestore:
		err = s.restore(ctx, &st)
	case StepSwap:
		err = s.swap(ctx, &st)
	case StepCleanup:
		err = s.cleanup(ctx, &st)
	case StepRollback:
		err = s.rollback(ctx, &st)
	}
	return st, err
}

// newRunID makes a run id that sorts by time and is unique enough to name indices.
func (s *Steps) newRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return s.cfg.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}
