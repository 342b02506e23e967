package reindex

import (
	"context"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// cleanup deletes the stored task results, best effort: a cluster that forbids writes to
// .tasks keeps them, which costs disk, not correctness.
func (s *Steps) cleanup(ctx context.Context, st *State) error {
	tasks := st.Tasks
	if ours, err := s.finishedCopy(ctx, st); err != nil {
		return err
	} else if !ours {
		// The state names copies this run did not make (a forged or mixed-up cleanup): the
		// results are someone else's.
		s.log.WarnContext(ctx, "reindex: the source does not resolve to a copy this run made; leaving the task results", "source", st.Source, "dest", st.Dest)
		tasks = nil
	}
	for _, id := range tasks {
		// Only the results of this run's copies: a task id the state lists is not proof of that.
		t, err := getTask(ctx, s.t, id, false)
		if ErrorName(err) == TaskLost {
			continue
		}
		if err != nil {
			s.log.WarnContext(ctx, "reindex: could not read a task result", "task", id, "error", err)
			continue
		}
		if t.Task.Action != reindexAction || !descriptionMatches(t.Task.Description, st.SourceIndex, st.Dest) &&
			!descriptionMatches(t.Task.Description, st.Dest, st.Source) {
			s.log.WarnContext(ctx, "reindex: leaving the result of a task that is not this run's copy", "task", id, "description", t.Task.Description)
			continue
		}
		err = do(ctx, s.t, "DELETE .tasks/_doc/"+id, esapi.DeleteRequest{Index: ".tasks", DocumentID: id}, nil)
		if err != nil && statusOf(err) != http.StatusNotFound {
			s.log.WarnContext(ctx, "reindex: could not delete a task result", "task", id, "error", err)
		}
	}
	s.dropLocks(ctx, st)
	st.Status, st.Next, st.WaitSeconds = StatusDone, "", 0
	return nil
}

// finishedCopy tells whether the source's name now resolves to the index this run made
// for it: the copy (alias mode) or the index copied back (rename-back).
func (s *Steps) finishedCopy(ctx context.Context, st *State) (bool, error) {
	infos, err := getIndex(ctx, s.t, st.Source)
	if err != nil {
		return false, err
	}
	if len(infos) != 1 {
		return false, nil
	}
	mk := infos[0].marker()
	want := st.Dest
	if st.Mode == ModeRenameBack {
		want = st.Source
	}
	return mk != nil && !mk.Lock && mk.Run == st.Run && mk.Source == st.Source && infos[0].Name == want, nil
}
