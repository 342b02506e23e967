package reindex

import (
	"context"
	"errors"
	"time"
)

// Run drives a whole reindex in one process, in the order the state machine runs it:
// validate, preflight, block, create, start, check (polling every PollInterval until the
// copy finishes), verify, restore, swap (twice in rename-back mode, with a second
// block…restore in between), cleanup. A step that fails with ElasticsearchError is
// retried up to Config.Retries times. Any other failure after validate runs rollback and
// returns the rollback's state with the step's error (joined with rollback's, if that
// failed too).
//
// st is a request (Source, and optionally Dest, Mode, Run, Mappings, Settings, Template,
// RequestsPerSecond), or a state a previous Run or state machine left, which Run resumes
// from st.Next.
func Run(ctx context.Context, s *Steps, st State) (State, error) {
	if st.Step != "" {
		st.Next, st.Step = st.Step, ""
	}
	if st.Next == "" {
		st.Next = StepValidate
	}
	for st.Next != "" {
		if st.Next == StepCheck && st.Status == StatusRunning {
			if err := sleep(ctx, s.cfg.PollInterval); err != nil {
				return s.runRollback(ctx, st, named(StepCheck, err))
			}
		}
		step := st.Next
		out, err := s.Do(ctx, st)
		for try := 0; ErrorName(err) == ElasticsearchError && try < s.cfg.Retries && ctx.Err() == nil; try++ {
			if sleep(ctx, s.cfg.PollInterval) != nil {
				break
			}
			out, err = s.Do(ctx, st)
		}
		if err != nil {
			if step == StepValidate || step == StepRollback {
				return st, err
			}
			return s.runRollback(ctx, st, err)
		}
		st = out
	}
	return st, nil
}

// runRollback rolls back after cause, even when ctx is already cancelled (an interrupted
// run must still lift the write block), within CancelTimeout plus a minute.
func (s *Steps) runRollback(ctx context.Context, st State, cause error) (State, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CancelTimeout+time.Minute)
	defer cancel()
	st.Next = StepRollback
	st.Error = &CaughtError{Error: ErrorName(cause), Cause: cause.Error()}
	out, err := s.Do(rctx, st)
	if err != nil {
		return st, errors.Join(cause, err)
	}
	return out, cause
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
