package reindex

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// A swap and a rollback of the same copy may run at once (a state machine's task timeout
// shorter than the Lambda's starts rollback while the swap still runs). Elasticsearch has
// no conditional delete, so each side could act on what it read a moment before: rollback
// deletes the copy right after the swap removed the source, or the swap removes the source
// right after rollback deleted the copy. Both copies would be gone.
//
// The lock is a name, and Elasticsearch refuses to let an alias and an index share a name:
//   - the swap removes From in the same atomic _aliases call that adds the lock as an alias
//     on To, so it fails, removing nothing, when rollback holds the name as an index — and
//     when To is gone;
//   - rollback creates an index with the lock's name before it reads anything and before it
//     deletes or unblocks anything. If the name is already an alias, the swap happened: To
//     holds the data and stays.
//
// Whoever takes the name first wins, decided by the master in one cluster-state update.

// lockPrefix starts the name of every lock; source and dest names may not use it.
const lockPrefix = "logferry-lock-"

// lockName is the lock of the copy from → to of run. The run id alone is not enough (a Map
// state may give every index of one execution the same run id), and rename-back's two
// copies each need their own.
func lockName(run, from, to string) string {
	h := sha256.Sum256([]byte(from + "\x00" + to))
	return lockPrefix + run + "-" + hex.EncodeToString(h[:8])
}

// lock is the lock of st's current copy.
func (st *State) lock() string { return lockName(st.Run, st.From, st.To) }

// claim is what rollback found when it tried to take the lock.
type claim int

const (
	claimHeld    claim = iota // rollback holds the lock: no swap of this copy can happen now
	claimSwapped              // the lock is the swap's alias: the copy was swapped in
)

// claimLock takes st's lock for rollback: it creates the lock index (tiny, hidden, marked
// with the run). An existing lock index of this run is adopted, as a retried or concurrent
// rollback of the same copy.
func (s *Steps) claimLock(ctx context.Context, st *State) (claim, error) {
	name := st.lock()
	m, err := withMarker(nil, marker{CreatedBy: createdBy, Run: st.Run, Source: st.Source, Phase: st.Phase, Lock: true})
	if err != nil {
		return 0, err
	}
	m["dynamic"] = "strict"
	b, err := jsonBody(map[string]any{
		"settings": map[string]any{"index.number_of_shards": 1, "index.number_of_replicas": 0, "index.hidden": true},
		"mappings": m,
	})
	if err != nil {
		return 0, err
	}
	cerr := do(ctx, s.t, "PUT "+name, esapi.IndicesCreateRequest{Index: name, Body: b}, nil)
	if cerr == nil {
		s.log.InfoContext(ctx, "reindex rollback: took the copy's lock", "lock", name)
		return claimHeld, nil
	}
	// Judge by what holds the name, not by the error's wording.
	held, isAlias, err := concreteIndex(ctx, s.t, name)
	switch {
	case err != nil:
		return 0, errors.Join(fmt.Errorf("create the rollback lock %q: %w", name, cerr), err)
	case isAlias:
		s.log.InfoContext(ctx, "reindex rollback: the swap holds the copy's lock; the copy stays", "lock", name, "copy", st.To)
		return claimSwapped, nil
	case held == nil:
		return 0, fmt.Errorf("create the rollback lock %q: %w", name, cerr)
	case !isLock(held, st.Run):
		return 0, fail(NotOurs, StepRollback, "%q, the name of this copy's lock, is an index this run did not create", name)
	}
	return claimHeld, nil
}

func isLock(i *indexInfo, run string) bool {
	m := i.marker()
	return m != nil && m.Run == run && m.Lock
}

// releaseLock deletes the lock index of st's current copy (and nothing else: the name is
// computed here, and only an index marked as this run's lock is deleted).
func (s *Steps) releaseLock(ctx context.Context, st *State) error {
	return s.deleteLock(ctx, st.Run, st.lock())
}

func (s *Steps) deleteLock(ctx context.Context, run, name string) error {
	held, _, err := concreteIndex(ctx, s.t, name)
	if err != nil || held == nil || !isLock(held, run) {
		return err
	}
	if err := deleteIndex(ctx, s.t, name); err != nil {
		return fmt.Errorf("release the rollback lock %q: %w", name, err)
	}
	return nil
}

// lockAction is the _aliases action that takes v's lock for the swap.
func lockAction(v verified) map[string]any {
	return map[string]any{"add": map[string]any{"index": v.to, "alias": v.lock, "is_hidden": true}}
}

// preempted tells a swap whose _aliases call failed whether a rollback got there first:
// it holds the lock, or it has deleted the copy. Anything else is err as it was.
func (s *Steps) preempted(ctx context.Context, v verified, err error) error {
	if held, _, lerr := concreteIndex(ctx, s.t, v.lock); lerr == nil && held != nil {
		return &Error{Name: PreemptedByRollback, Step: StepSwap,
			Err: fmt.Errorf("a rollback holds this copy's lock %q: %q was not removed: %w", v.lock, v.from, err)}
	}
	// To may be gone, or be a name rollback pointed at the temporary (rename-back).
	if to, _, terr := concreteIndex(ctx, s.t, v.to); terr == nil && to == nil {
		return &Error{Name: PreemptedByRollback, Step: StepSwap,
			Err: fmt.Errorf("the copy %q is gone (deleted by a rollback?): %q was not removed: %w", v.to, v.from, err)}
	}
	return err
}

// dropLocks removes the locks of a finished run's copies: the swap's aliases (and a
// rollback's lock index, should one be left). Best effort: a lock left behind is a hidden
// alias or a tiny hidden index, never a risk to data.
func (s *Steps) dropLocks(ctx context.Context, st *State) {
	names := []string{lockName(st.Run, st.SourceIndex, st.Dest)}
	if st.Mode == ModeRenameBack {
		names = append(names, lockName(st.Run, st.Dest, st.Source))
	}
	for _, name := range names {
		infos, err := getIndex(ctx, s.t, name)
		if err != nil {
			s.log.WarnContext(ctx, "reindex: could not look up a lock", "lock", name, "error", err)
			continue
		}
		for _, i := range infos {
			if i.Name == name {
				err = s.deleteLock(ctx, st.Run, name)
			} else {
				err = do(ctx, s.t, "DELETE "+i.Name+"/_alias/"+name, esapi.IndicesDeleteAliasRequest{Index: []string{i.Name}, Name: []string{name}}, nil)
				if statusOf(err) == http.StatusNotFound {
					err = nil
				}
			}
			if err != nil {
				s.log.WarnContext(ctx, "reindex: could not remove a lock", "lock", name, "index", i.Name, "error", err)
			}
		}
	}
}

// A write block this run set is recorded on the blocked index itself, as a hidden alias
// named for the run and the index, which block adds only when Elasticsearch shows the index
// writable, just before blocking it. Rollback lifts a block only where it finds this record
// (so neither an operator's block nor a forged source_was_blocked changes what it does), and
// the record goes with the index: a source deleted and recreated under the same name has none.

// blockRecordName is the record that run write-blocked index.
func blockRecordName(run, index string) string {
	h := sha256.Sum256([]byte(index + "\x00block"))
	return lockPrefix + run + "-block-" + hex.EncodeToString(h[:8])
}

// recordBlock puts the record on index (adding an alias that exists is a no-op, so a
// retried block is fine).
func (s *Steps) recordBlock(ctx context.Context, run, index string) error {
	b, err := jsonBody(map[string]any{"actions": []any{map[string]any{"add": map[string]any{
		"index": index, "alias": blockRecordName(run, index), "is_hidden": true}}}})
	if err != nil {
		return err
	}
	if err := do(ctx, s.t, "POST _aliases", esapi.IndicesUpdateAliasesRequest{Body: b}, nil); err != nil {
		return fmt.Errorf("record the write block on %q: %w", index, err)
	}
	return nil
}

// hasBlockRecord tells whether Elasticsearch shows that run write-blocked i.
func hasBlockRecord(i *indexInfo, run string) bool {
	_, ok := i.Aliases[blockRecordName(run, i.Name)]
	return ok
}

// dropBlockRecord removes the record from index once its block is lifted.
func (s *Steps) dropBlockRecord(ctx context.Context, run, index string) error {
	name := blockRecordName(run, index)
	err := do(ctx, s.t, "DELETE "+index+"/_alias/"+name, esapi.IndicesDeleteAliasRequest{Index: []string{index}, Name: []string{name}}, nil)
	if err != nil && statusOf(err) != http.StatusNotFound {
		return fmt.Errorf("remove the write-block record %q from %q: %w", name, index, err)
	}
	return nil
}

// withoutLocks is aliases without the workflow's own (locks and block records): they are
// never carried onto a copy or reported as the source's.
func withoutLocks(aliases map[string]json.RawMessage) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for name, def := range aliases {
		if strings.HasPrefix(name, lockPrefix) {
			continue
		}
		if out == nil {
			out = make(map[string]json.RawMessage, len(aliases))
		}
		out[name] = def
	}
	return out
}
