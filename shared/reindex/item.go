package reindex

import (
	"context"
	"fmt"
	"time"
)

// CopyTimedOut: a copy ran longer than the request's maxWaitMinutes; it is rolled back.
const CopyTimedOut = "CopyTimedOut"

// Item is one index on its way through the state machine's Map: the State the steps pass
// on, plus what only the state machine needs (when the index and its current copy began,
// for the report, the wait schedule and maxWaitMinutes). The Map's ItemSelector makes the
// first one ({source, request}); each Task returns the next; Report is set when the index
// is finished, and is all the iteration hands back.
type Item struct {
	Source string `json:"source"`
	// Request is the shared part of the State, until Advance has built the State from it.
	Request *IndexRequest `json:"request,omitempty"`
	State   *State        `json:"state,omitempty"`
	// MaxWaitSeconds bounds each copy (from the request).
	MaxWaitSeconds int       `json:"max_wait_seconds,omitempty"`
	Started        time.Time `json:"started,omitzero"`
	// CopyTask and CopyStarted are the current copy's task and when it was first seen
	// running (rename-back has two copies).
	CopyTask    string    `json:"copy_task,omitempty"`
	CopyStarted time.Time `json:"copy_started,omitzero"`
	// Error is where the state machine's Catch puts a failure (ResultPath "$.error").
	Error  *CaughtError `json:"error,omitempty"`
	Report *IndexReport `json:"report,omitempty"`
}

// Advance runs the item's next step. The first call builds the State from the request and
// runs validate. A running copy gets its next wait from NextWait; a copy running longer
// than MaxWaitSeconds fails with CopyTimedOut. When the steps are done, Report is set.
// Errors carry the step's stable name, for the state machine's Retry and Catch.
func (s *Steps) Advance(ctx context.Context, it Item) (Item, error) {
	now := s.cfg.Now().UTC()
	switch {
	case it.Report != nil:
		return it, fail(InvalidRequest, "", "index %q is already finished (%s)", it.Source, it.Report.Outcome)
	case it.State == nil && it.Request == nil:
		return it, fail(InvalidRequest, StepValidate, "item for %q has neither a request nor a state", it.Source)
	case it.State == nil:
		r := it.Request
		it.State = &State{Source: it.Source, Mode: r.Mode, Run: r.Run, Mappings: r.Mappings, Settings: r.Settings,
			Template: r.Template, RequestsPerSecond: r.RequestsPerSecond, Next: StepValidate}
		it.MaxWaitSeconds, it.Request, it.Started = r.MaxWaitSeconds, nil, now
	case it.State.Next == "":
		return it, fail(InvalidRequest, "", "index %q: the state has no next step", it.Source)
	case it.State.Next == StepRollback:
		return it, fail(InvalidRequest, StepRollback, "rollback goes through Rollback, not Advance")
	}
	if it.State.Source != it.Source {
		return it, fail(InvalidRequest, "", "item is for %q but its state for %q", it.Source, it.State.Source)
	}
	if it.State.Next == StepCheck && it.CopyTask != "" && it.CopyTask == it.State.TaskID && it.MaxWaitSeconds > 0 {
		if ran := now.Sub(it.CopyStarted); ran > time.Duration(it.MaxWaitSeconds)*time.Second {
			return it, fail(CopyTimedOut, StepCheck, "the copy from %q to %q has run %s, over maxWaitMinutes %d", it.State.From, it.State.To, ran.Truncate(time.Second), it.MaxWaitSeconds/60)
		}
	}
	st, err := s.Do(ctx, *it.State)
	if err != nil {
		return it, err
	}
	it.State = &st
	if st.Status == StatusRunning && st.Next == StepCheck {
		if it.CopyTask != st.TaskID {
			it.CopyTask, it.CopyStarted = st.TaskID, now
		}
		st.WaitSeconds = int(NextWait(now.Sub(it.CopyStarted), st.Copy, s.cfg.PollInterval).Seconds())
	}
	if st.Next == "" {
		it.Report = it.report(OutcomeSwapped, now)
	}
	return it, nil
}

// Rollback rolls the item back after the failure the state machine caught into it.Error.
// An item that never got a State had touched nothing.
func (s *Steps) Rollback(ctx context.Context, it Item) (Item, error) {
	now := s.cfg.Now().UTC()
	if it.State == nil {
		it.Report = it.report(OutcomeRolledBack, now)
		return it, nil
	}
	st := *it.State
	st.Step, st.Error = StepRollback, it.Error
	out, err := s.Do(ctx, st)
	if err != nil {
		return it, err
	}
	it.State = &out
	outcome := OutcomeRolledBack
	if out.Status == StatusSwapped {
		// The failure came after the swap (cleanup): the copy is in place.
		outcome = OutcomeSwapped
	}
	it.Report = it.report(outcome, now)
	return it, nil
}

// RollbackFailed is the report of an item whose rollback failed for good.
func RollbackFailed(it Item, cause *CaughtError, now time.Time) IndexReport {
	if cause != nil {
		it.Error = cause
	}
	return *it.report(OutcomeRollbackFailed, now)
}

func (it *Item) report(o Outcome, now time.Time) *IndexReport {
	r := &IndexReport{Source: it.Source, Outcome: o}
	if !it.Started.IsZero() {
		r.DurationSeconds = float64(now.Sub(it.Started).Milliseconds()) / 1000
	}
	if it.Error != nil {
		r.Error, r.Message = it.Error.Error, trimMessage(it.Error.Cause)
	}
	if st := it.State; st != nil {
		r.Mode = st.Mode
		r.Index = st.SourceIndex
		r.Dest = st.Dest
		if o == OutcomeSwapped && st.Mode == ModeRenameBack {
			r.Dest = st.Source // copied back into its own name; the temporary is gone
		}
		c := &Counts{Source: st.SourceCount}
		switch {
		case st.ToCount != nil:
			c.Copy = st.ToCount
		case st.Copy != nil:
			c.Copy = i64(st.Copy.Created + st.Copy.Updated + st.Copy.VersionConflicts)
		}
		if o == OutcomeSwapped && st.ToCount != nil && st.FromCount != nil && *st.ToCount == *st.FromCount {
			c.Verified = st.ToCount
		}
		if c.Source != nil || c.Copy != nil {
			r.Counts = c
		}
	}
	return r
}

// String names the item in logs.
func (it Item) String() string { return fmt.Sprintf("%s (%s)", it.Source, it.CopyTask) }
