package reindex

import (
	"context"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// cleanup deletes the stored task results, best effort: a cluster that forbids writes to
// .tasks keeps them, which costs disk, not correctness.
func (s *Steps) cleanup(ctx context.Context, st *State) error {
	for _, id := range st.Tasks {
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
