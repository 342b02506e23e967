package reindex

import (
	"context"
	"encoding/json"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// verified is the proof that To is a complete copy of From. Only verifyCopy makes one, and
// every helper that deletes or swaps away an index takes one.
type verified struct {
	from, to string
	count    int64
	// lock is the copy's lock, which the swap takes in the call that removes from.
	lock string
	// aliases are the source's aliases as Elasticsearch has them: From's own (phase copy),
	// or those the temporary recorded when it was created (phase back).
	aliases map[string]json.RawMessage
}

// verifyCopy asks Elasticsearch — not the state — whether To is a complete copy of From:
// the task finished cleanly, From is still write-blocked, and after refreshing To both
// _counts equal the count taken when From was blocked.
func (s *Steps) verifyCopy(ctx context.Context, st *State, step Step) (verified, error) {
	if st.TaskID == "" {
		return verified{}, fail(InvalidRequest, step, "no task_id: nothing was copied")
	}
	t, err := getTask(ctx, s.t, st.TaskID, false)
	if err != nil {
		return verified{}, err
	}
	if err := checkTask(t, st, step); err != nil {
		return verified{}, err
	}
	p, done, err := taskOutcome(t, st)
	if err != nil {
		return verified{}, err
	}
	if !done {
		return verified{}, fail(InvalidRequest, step, "task %s is still running: verify after check reports %q", st.TaskID, StatusCopied)
	}
	// From is the source (phase copy) or this run's verified temporary (phase back), as
	// Elasticsearch shows it now: not whatever index the state names.
	from, err := s.checkFrom(ctx, st, step)
	if err != nil {
		return verified{}, err
	}
	if !from.writeBlocked() {
		return verified{}, fail(CountMismatch, step, "%q is not write-blocked, so its count cannot be compared", st.From)
	}
	to, _, err := concreteIndex(ctx, s.t, st.To)
	if err != nil {
		return verified{}, err
	}
	if !isCopy(st, to, from) {
		return verified{}, fail(NotOurs, step, "%q does not exist or is not the copy run %q made of %q in phase %q", st.To, st.Run, st.From, st.Phase)
	}
	if err := refresh(ctx, s.t, st.To); err != nil {
		return verified{}, err
	}
	// From too: a write that slipped in while someone lifted the block is otherwise invisible.
	if err := refresh(ctx, s.t, st.From); err != nil {
		return verified{}, err
	}
	toN, err := count(ctx, s.t, st.To)
	if err != nil {
		return verified{}, err
	}
	fromN, err := count(ctx, s.t, st.From)
	if err != nil {
		return verified{}, err
	}
	st.FromCount, st.ToCount, st.Copy = i64(fromN), i64(toN), &p
	switch {
	case fromN != st.count():
		return verified{}, fail(CountMismatch, step, "%q holds %d documents, %d when the copy began", st.From, fromN, st.count())
	case p.Total != fromN:
		return verified{}, fail(CountMismatch, step, "the task read %d documents, %q holds %d", p.Total, st.From, fromN)
	case toN != fromN:
		return verified{}, fail(CountMismatch, step, "%q holds %d documents, %q holds %d", st.To, toN, st.From, fromN)
	}
	aliases := from.Aliases
	if st.Phase == PhaseBack {
		aliases = nil
		if mk := from.marker(); mk != nil && from.ours(st.Run) {
			aliases = mk.Aliases
		}
	}
	return verified{from: st.From, to: st.To, count: toN, aliases: aliases, lock: st.lock()}, nil
}

func (s *Steps) verify(ctx context.Context, st *State) error {
	if _, err := s.verifyCopy(ctx, st, StepVerify); err != nil {
		return err
	}
	st.Status = StatusVerified
	st.Next = StepRestore
	return nil
}

// restore gives To its intended replicas and refresh interval back, and the write block the
// source had before the run.
func (s *Steps) restore(ctx context.Context, st *State) error {
	if st.Restore == nil {
		return fail(InvalidRequest, StepRestore, "no settings to restore: run create first")
	}
	to, _, err := concreteIndex(ctx, s.t, st.To)
	if err != nil {
		return err
	}
	if to == nil || !to.ours(st.Run) || to.marker().Phase != st.Phase {
		return fail(NotOurs, StepRestore, "%q does not exist or was not created by run %q in phase %q", st.To, st.Run, st.Phase)
	}
	index := map[string]any{
		"number_of_replicas": st.Restore.NumberOfReplicas,
		"refresh_interval":   st.Restore.RefreshInterval,
	}
	// The final index keeps a write block the source had before the run, as create found it
	// in Elasticsearch and wrote it into To's marker. (In rename-back the temporary is
	// blocked for its own copy anyway.)
	if to.marker().SourceBlocked && (st.Mode == ModeAlias || st.Phase == PhaseBack) {
		index["blocks.write"] = true
	}
	b, err := jsonBody(map[string]any{"index": index})
	if err != nil {
		return err
	}
	if err := do(ctx, s.t, "PUT "+st.To+"/_settings", esapi.IndicesPutSettingsRequest{Index: []string{st.To}, Body: b, ExpandWildcards: "none"}, nil); err != nil {
		return err
	}
	st.Next = StepSwap
	return nil
}
