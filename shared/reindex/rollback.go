package reindex

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// rollback undoes a run that failed: it stops the copy, deletes the destination if (and
// only if) this run created it and the data it copied still exists in From, and lifts the
// write block this run put on From. It never deletes From, and never deletes anything
// after a swap. Every action checks Elasticsearch first, so rollback may run at any point
// and any number of times — also while a swap of the same copy runs: it takes the copy's
// lock before it reads anything (lock.go), and releases it when it is done.
func (s *Steps) rollback(ctx context.Context, st *State) error {
	st.Next, st.WaitSeconds = "", 0
	if st.From == "" || st.To == "" || st.SourceIndex == "" {
		// Before preflight nothing was created or blocked (whatever else the state holds:
		// a request validate refused is rolled back like this too).
		st.Status = StatusRolledBack
		return nil
	}
	// Past preflight the state names indices; a forged or garbled one acts on none of them.
	if err := st.checkRequest(StepRollback); err != nil {
		return err
	}
	if err := st.checkPhase(StepRollback); err != nil {
		return err
	}
	if err := s.stopTask(ctx, st); err != nil {
		return err
	}
	s.at(hookRollbackStart)
	c, err := s.claimLock(ctx, st)
	if err != nil {
		return err
	}
	err = s.rollbackClaimed(ctx, st, c)
	// A rollback that failed half-way keeps the lock, so no swap runs before a retried
	// rollback finishes (and releases it). InvalidRequest means the state names no copy
	// this rollback could act on, and a retry will not come.
	if c == claimHeld && (err == nil || ErrorName(err) == InvalidRequest) {
		if rerr := s.releaseLock(ctx, st); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// rollbackClaimed is rollback once the lock is held, or known to be the swap's.
func (s *Steps) rollbackClaimed(ctx context.Context, st *State, c claim) error {
	from, _, err := concreteIndex(ctx, s.t, st.From)
	if err != nil {
		return err
	}
	to, _, err := concreteIndex(ctx, s.t, st.To)
	if err != nil {
		return err
	}
	s.at(hookRollbackChecked)

	// The destination goes only while From still holds the data. Once From is gone the
	// destination is where the data lives (a finished swap, or rename-back after the source
	// was deleted), and it stays.
	if to != nil && from != nil && to.Name != from.Name {
		switch mk := to.marker(); {
		case mk == nil || mk.Run != st.Run || mk.Phase != st.Phase:
			s.log.WarnContext(ctx, "reindex rollback: leaving an index this run did not create", "index", st.To)
		case !isCopy(st, to, from):
			// This run's copy, but not of the index now named From: the state is stale (a late
			// rollback while rename-back copies back, when the copy is the only complete one)
			// or edited. Deleting it could delete the data.
			return fail(InvalidRequest, StepRollback, "%q is this run's copy of source %q (uuid %q), not of the index now named %q (uuid %q): a stale or edited state; nothing was changed, roll back with the current state",
				st.To, mk.Source, mk.FromUUID, st.From, from.uuid())
		case c == claimSwapped:
			// From still exists, yet the swap took the lock: someone recreated From. The copy
			// the swap made is the data; it stays.
			s.log.WarnContext(ctx, "reindex rollback: the copy was swapped in; leaving it", "index", st.To)
		default:
			if err := deleteIndex(ctx, s.t, st.To); err != nil {
				return fmt.Errorf("delete the partial copy %q: %w", st.To, err)
			}
			s.log.InfoContext(ctx, "reindex rollback: deleted the partial copy", "index", st.To)
			to = nil
		}
	}
	// After a swap, an index named From is not the one this run blocked.
	if from != nil && c == claimHeld {
		if err := s.liftOwnBlock(ctx, st, from); err != nil {
			return err
		}
	}

	if from == nil && st.Mode == ModeAlias {
		infos, err := getIndex(ctx, s.t, st.Source)
		if err != nil {
			return err
		}
		if len(infos) == 1 && infos[0].Name == st.To {
			s.log.InfoContext(ctx, "reindex rollback: the swap is done; nothing to roll back", "source", st.Source, "copy", st.To)
			st.Status = StatusSwapped
			return nil
		}
		s.log.WarnContext(ctx, "reindex rollback: the source is gone without a swap (deleted by someone else?); the copy is kept",
			"source", st.From, "copy", st.To)
	}
	if from == nil && st.Phase == PhaseBack && to != nil && to.ours(st.Run) && to.marker().Phase == PhaseBack {
		s.log.InfoContext(ctx, "reindex rollback: the copy back is done; nothing to roll back", "source", st.Source)
		st.Status = StatusSwapped
		return nil
	}
	if st.Mode == ModeRenameBack {
		if err := s.keepNameReachable(ctx, st); err != nil {
			return err
		}
	}
	st.Status = StatusRolledBack
	return nil
}

// liftOwnBlock lifts From's write block if Elasticsearch shows this run set it: in phase
// copy the source carries this run's block record (lock.go), and the request's source still
// resolves to it; in phase back From is this run's temporary. Whatever the state says about
// the block before the run (source_was_blocked) plays no part.
func (s *Steps) liftOwnBlock(ctx context.Context, st *State, from *indexInfo) error {
	if st.Phase == PhaseBack {
		if !from.writeBlocked() {
			return nil
		}
		if !from.ours(st.Run) || from.marker().Phase != PhaseCopy {
			s.log.WarnContext(ctx, "reindex rollback: leaving the write block of an index this run did not create", "index", from.Name)
			return nil
		}
		return s.unblock(ctx, st.From)
	}
	if !hasBlockRecord(from, st.Run) {
		if from.writeBlocked() {
			s.log.InfoContext(ctx, "reindex rollback: leaving a write block this run did not set", "index", from.Name)
		}
		return nil
	}
	infos, err := getIndex(ctx, s.t, st.Source)
	if err != nil {
		return err
	}
	if len(infos) != 1 || infos[0].Name != from.Name {
		s.log.WarnContext(ctx, "reindex rollback: leaving the write block of an index the source does not resolve to", "index", from.Name, "source", st.Source)
		return nil
	}
	if from.writeBlocked() {
		if err := s.unblock(ctx, st.From); err != nil {
			return err
		}
	}
	return s.dropBlockRecord(ctx, st.Run, from.Name)
}

// stopTask cancels every running copy from From into To — the recorded task, one a crashed
// start never recorded, a second one from a start sent twice — and waits until they have
// stopped: deleting the destination under a running copy would let the copy create it
// again. Tasks are found by what they copy, never by the state's task id alone, so a task
// id that names someone else's task does not get it cancelled.
func (s *Steps) stopTask(ctx context.Context, st *State) error {
	// A copy into an index this run did not create is not this run's copy, whatever the
	// state says (a forged rollback naming someone else's reindex): it is left running.
	to, _, err := concreteIndex(ctx, s.t, st.To)
	if err != nil {
		return err
	}
	if to == nil || !to.ours(st.Run) {
		return nil
	}
	ids, err := runningCopies(ctx, s.t, st.From, st.To)
	if err != nil {
		return err
	}
	for _, id := range ids {
		// Cancelling a task that just finished answers 200 with node_failures: the wait
		// below is what tells.
		if err := do(ctx, s.t, "POST _tasks/"+id+"/_cancel", esapi.TasksCancelRequest{TaskID: id}, nil); err != nil && ErrorName(err) != ElasticsearchRejected {
			return err
		}
	}
	deadline := time.Now().Add(s.cfg.CancelTimeout)
	for len(ids) > 0 {
		id := ids[0]
		t, err := getTask(ctx, s.t, id, false)
		if ErrorName(err) == TaskLost || err == nil && t.Completed {
			s.log.InfoContext(ctx, "reindex rollback: cancelled the copy", "task", id)
			ids = ids[1:]
			continue
		}
		if err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fail(RollbackIncomplete, StepRollback, "task %s is still running %s after it was cancelled", id, s.cfg.CancelTimeout)
		}
		select {
		case <-ctx.Done():
			return fail(RollbackIncomplete, StepRollback, "waiting for cancelled task %s: %w", id, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

func (s *Steps) unblock(ctx context.Context, index string) error {
	b, err := jsonBody(map[string]any{"index.blocks.write": nil})
	if err != nil {
		return err
	}
	if err := do(ctx, s.t, "PUT "+index+"/_settings", esapi.IndicesPutSettingsRequest{Index: []string{index}, Body: b, ExpandWildcards: "none"}, nil); err != nil {
		return fmt.Errorf("remove the write block from %q: %w", index, err)
	}
	s.log.InfoContext(ctx, "reindex rollback: removed the write block", "index", index)
	return nil
}

// keepNameReachable handles a rename-back run that fails after the source was deleted
// (verified first): the temporary holds every document, so the source's name and aliases
// are pointed at it — the outcome of alias mode — instead of leaving the name missing.
func (s *Steps) keepNameReachable(ctx context.Context, st *State) error {
	src, _, err := concreteIndex(ctx, s.t, st.SourceIndex)
	if err != nil {
		return err
	}
	tmp, _, err := concreteIndex(ctx, s.t, st.Dest)
	if err != nil {
		return err
	}
	// An index under the source's name that is neither the source (the uuid the temporary
	// was copied from) nor this run's took the name while it was missing, e.g. a client's
	// write auto-created it. The name cannot point at the data, and "rolled back" would hide
	// where the data is.
	taken := func(i *indexInfo) bool {
		mk := (*marker)(nil)
		if tmp != nil && tmp.ours(st.Run) {
			mk = tmp.marker()
		}
		return mk != nil && mk.Phase == PhaseCopy && mk.FromUUID != "" && i.Name != st.Dest && !i.ours(st.Run) && i.uuid() != mk.FromUUID
	}
	if src != nil {
		if taken(src) {
			return fail(RollbackIncomplete, StepRollback, "source %q was deleted after its copy was verified, and another index took the name while it was missing (a write that auto-created it?): the data is in %q; move it by hand",
				st.SourceIndex, st.Dest)
		}
		return nil
	}
	infos, err := getIndex(ctx, s.t, st.Source)
	if err != nil {
		return err
	}
	for i := range infos {
		if taken(&infos[i]) {
			return fail(RollbackIncomplete, StepRollback, "source %q was deleted after its copy was verified, and %q now resolves to another index %q: the data is in %q; move it by hand",
				st.SourceIndex, st.Source, infos[i].Name, st.Dest)
		}
	}
	if len(infos) > 0 {
		return nil // the name resolves (to the finished copy, or a rollback already ran)
	}
	if tmp == nil || !tmp.ours(st.Run) {
		return fail(RollbackIncomplete, StepRollback, "source %q was deleted and the temporary %q is missing", st.SourceIndex, st.Dest)
	}
	if tmp.writeBlocked() {
		if err := s.unblock(ctx, st.Dest); err != nil {
			return err
		}
	}
	if st.Restore != nil {
		b, err := jsonBody(map[string]any{"index": map[string]any{
			"number_of_replicas": st.Restore.NumberOfReplicas, "refresh_interval": st.Restore.RefreshInterval}})
		if err != nil {
			return err
		}
		if err := do(ctx, s.t, "PUT "+st.Dest+"/_settings", esapi.IndicesPutSettingsRequest{Index: []string{st.Dest}, Body: b}, nil); err != nil {
			return err
		}
	}
	actions, err := aliasActions(st.Dest, st.aliasesFor(tmp.marker().Aliases, st.Dest, true))
	if err != nil {
		return err
	}
	b, err := jsonBody(map[string]any{"actions": actions})
	if err != nil {
		return err
	}
	if err := do(ctx, s.t, "POST _aliases", esapi.IndicesUpdateAliasesRequest{Body: b}, nil); err != nil {
		return err
	}
	s.log.WarnContext(ctx, "reindex rollback: the source was already replaced; its name now points at the verified temporary copy",
		"source", st.Source, "index", st.Dest)
	return nil
}
