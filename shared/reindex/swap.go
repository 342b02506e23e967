package reindex

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// swap replaces the source with the verified copy. Each branch first recognises a swap a
// crashed attempt already made, then re-verifies the copy itself before acting.
func (s *Steps) swap(ctx context.Context, st *State) error {
	from, _, err := concreteIndex(ctx, s.t, st.From)
	if err != nil {
		return err
	}
	if from == nil {
		return s.swapDone(ctx, st)
	}
	if err := s.swapVerified(ctx, st); err != nil {
		// The same swap sent twice at once: the other invocation removed From under this
		// one. Judge by the outcome, as a retry would.
		if from, _, ferr := concreteIndex(ctx, s.t, st.From); ferr == nil && from == nil {
			return s.swapDone(ctx, st)
		}
		return err
	}
	return nil
}

func (s *Steps) swapVerified(ctx context.Context, st *State) error {
	v, err := s.verifyCopy(ctx, st, StepSwap)
	if err != nil {
		return err
	}
	s.at(hookSwapVerified)
	// Every branch removes From in one _aliases call that also takes the copy's lock, so a
	// rollback running at the same moment either stops it or sees it done (lock.go).
	var aliases map[string]json.RawMessage
	switch {
	case st.Mode == ModeAlias:
		aliases = st.aliasesFor(v.aliases, st.To, true)
	case st.Phase == PhaseCopy:
		// Rename-back's first swap only removes the source; its aliases go onto the final
		// index after the copy back.
	default:
		aliases = st.aliasesFor(v.aliases, st.To, false)
	}
	if err := s.replaceWithAlias(ctx, v, aliases); err != nil {
		return s.preempted(ctx, v, err)
	}
	if st.Mode == ModeRenameBack && st.Phase == PhaseCopy {
		st.turnBack()
		return nil
	}
	st.Status, st.Next = StatusSwapped, StepCleanup
	return nil
}

// swapDone handles a swap whose From is gone: a retry after the swap went through. It
// accepts only the exact outcome the swap produces.
func (s *Steps) swapDone(ctx context.Context, st *State) error {
	infos, err := getIndex(ctx, s.t, st.Source)
	if err != nil {
		return err
	}
	switch {
	case st.Mode == ModeAlias:
		if len(infos) == 1 && infos[0].Name == st.To && st.Source != st.To {
			st.Status, st.Next = StatusSwapped, StepCleanup
			return nil
		}
		return fail(InvalidRequest, StepSwap, "source %q is gone but %q does not point at the copy %q: nothing swapped", st.From, st.Source, st.To)
	case st.Phase == PhaseCopy:
		// The source was deleted after verification; the temporary must still hold it all.
		to, _, err := concreteIndex(ctx, s.t, st.To)
		if err != nil {
			return err
		}
		if to == nil || !to.ours(st.Run) {
			return fail(InvalidRequest, StepSwap, "source %q and the copy %q are both gone", st.From, st.To)
		}
		if err := refresh(ctx, s.t, st.To); err != nil {
			return err
		}
		n, err := count(ctx, s.t, st.To)
		if err != nil {
			return err
		}
		if n != st.count() {
			return fail(CountMismatch, StepSwap, "source %q is gone and the copy %q holds %d documents, not %d", st.From, st.To, n, st.count())
		}
		st.turnBack()
		return nil
	default:
		to, _, err := concreteIndex(ctx, s.t, st.To)
		if err != nil {
			return err
		}
		if to == nil || !to.ours(st.Run) {
			return fail(InvalidRequest, StepSwap, "temporary %q is gone and %q is not this run's copy", st.From, st.To)
		}
		st.Status, st.Next = StatusSwapped, StepCleanup
		return nil
	}
}

// turnBack starts rename-back's second copy: the temporary back into the source's name.
func (st *State) turnBack() {
	st.Phase = PhaseBack
	st.From, st.To = st.Dest, st.Source
	st.TaskID, st.Conflicts, st.Created = "", "", false
	st.Copy, st.FromCount, st.ToCount = nil, nil, nil
	st.Status, st.Next = StatusSwapped, StepBlock
}

// aliasesFor lists the aliases to put on the copy: the source's own (with their filters,
// routing and write flags; not an earlier run's lock) and, in alias mode, one named like
// the source.
func (st *State) aliasesFor(source map[string]json.RawMessage, target string, withSourceName bool) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for name, def := range source {
		if name != target && !strings.HasPrefix(name, lockPrefix) {
			out[name] = def
		}
	}
	if withSourceName {
		if _, ok := out[st.Source]; !ok {
			out[st.Source] = json.RawMessage(`{}`)
		}
	}
	return out
}

// replaceWithAlias is one atomic _aliases call: the aliases and the copy's lock go onto
// v.to and v.from is deleted, all or nothing. It fails, changing nothing, when v.to is gone
// or a rollback holds the lock as an index.
func (s *Steps) replaceWithAlias(ctx context.Context, v verified, aliases map[string]json.RawMessage) error {
	actions, err := aliasActions(v.to, aliases)
	if err != nil {
		return err
	}
	actions = append(actions, lockAction(v), map[string]any{"remove_index": map[string]any{"index": v.from}})
	b, err := jsonBody(map[string]any{"actions": actions})
	if err != nil {
		return err
	}
	return do(ctx, s.t, "POST _aliases", esapi.IndicesUpdateAliasesRequest{Body: b}, nil)
}

// aliasActions are the _aliases "add" actions putting aliases (with their definitions) on index.
func aliasActions(index string, aliases map[string]json.RawMessage) ([]any, error) {
	actions := make([]any, 0, len(aliases)+1)
	for name, def := range aliases {
		add := map[string]any{}
		if len(def) > 0 && string(def) != "null" {
			if err := json.Unmarshal(def, &add); err != nil {
				return nil, fail(InvalidRequest, "", "alias %q definition: %w", name, err)
			}
		}
		add["index"], add["alias"] = index, name
		actions = append(actions, map[string]any{"add": add})
	}
	return actions, nil
}

func deleteIndex(ctx context.Context, t esapi.Transport, name string) error {
	err := do(ctx, t, "DELETE "+name, esapi.IndicesDeleteRequest{Index: []string{name}, ExpandWildcards: "none"}, nil)
	if statusOf(err) == http.StatusNotFound {
		return nil
	}
	return err
}
