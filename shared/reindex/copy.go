package reindex

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// block write-blocks From (waiting for in-flight writes) and counts it: from now on the
// count is what the copy must hold.
func (s *Steps) block(ctx context.Context, st *State) error {
	from, err := s.checkFrom(ctx, st, StepBlock)
	if err != nil {
		return err
	}
	// Whether rollback may lift the block later is recorded on the source itself, before the
	// block, and only when Elasticsearch shows the source writable (lock.go): the state's
	// source_was_blocked is the caller's word, and a forged one could lift an operator's block.
	if st.Phase == PhaseCopy && !from.writeBlocked() {
		if err := s.recordBlock(ctx, st.Run, from.Name); err != nil {
			return err
		}
	}
	err = do(ctx, s.t, "PUT "+st.From+"/_block/write", esapi.IndicesAddBlockRequest{
		Index: []string{st.From}, Block: "write", ExpandWildcards: "none",
	}, nil)
	if statusOf(err) == http.StatusNotFound {
		return fail(InvalidRequest, StepBlock, "%q does not exist: %w", st.From, err)
	}
	if err != nil {
		return err
	}
	// _count and the copy's scroll see only refreshed documents: without this refresh, writes
	// the source took before the block (or all of them, with refresh_interval -1) would be
	// missing from the count and the copy alike, and verify would pass without them.
	if err := refresh(ctx, s.t, st.From); err != nil {
		return err
	}
	n, err := count(ctx, s.t, st.From)
	if err != nil {
		return err
	}
	if st.Phase == PhaseBack {
		if n != st.count() {
			return fail(CountMismatch, StepBlock, "temporary index %q holds %d documents, the source held %d", st.From, n, st.count())
		}
	} else {
		st.SourceCount = i64(n)
	}
	st.Next = StepCreate
	return nil
}

// start starts the copy, unless this copy's task is already known: a retried start must
// not run a second copy next to the first.
func (s *Steps) start(ctx context.Context, st *State) error {
	if !st.Created {
		return fail(InvalidRequest, StepStart, "%q was not created by this run: run create first", st.To)
	}
	// "created" is the state's word; the copy goes only into the index create made for it.
	if err := s.checkCopyTarget(ctx, st, StepStart); err != nil {
		return err
	}
	st.Status = StatusRunning
	st.Next = StepCheck
	st.WaitSeconds = int(s.cfg.PollInterval.Seconds())
	if st.TaskID != "" {
		return nil
	}
	id, _, err := findTask(ctx, s.t, st.From, st.To)
	if err != nil {
		return err
	}
	if id != "" {
		s.log.InfoContext(ctx, "reindex: adopting the copy task a previous start left", "task", id, "from", st.From, "to", st.To)
		st.TaskID = id
		st.Tasks = appendNew(st.Tasks, id)
		return nil
	}
	// A partial destination (a start whose task was lost) needs conflicts=proceed, or the
	// documents already there would abort the copy; op_type=create never overwrites them.
	if err := refresh(ctx, s.t, st.To); err != nil {
		return err
	}
	n, err := count(ctx, s.t, st.To)
	if err != nil {
		return err
	}
	body := map[string]any{
		"source": map[string]any{"index": st.From},
		"dest":   map[string]any{"index": st.To, "op_type": "create"},
	}
	if n > 0 {
		st.Conflicts = "proceed"
		body["conflicts"] = "proceed"
	}
	b, err := jsonBody(body)
	if err != nil {
		return err
	}
	req := esapi.ReindexRequest{Body: b, WaitForCompletion: ptr(false), Slices: "auto"}
	if st.RequestsPerSecond > 0 {
		req.RequestsPerSecond = ptr(st.RequestsPerSecond)
	}
	var out struct {
		Task string `json:"task"`
	}
	if err := do(ctx, s.t, "POST _reindex", req, &out); err != nil {
		return err
	}
	if out.Task == "" {
		return fmt.Errorf("POST _reindex: no task id in the response")
	}
	st.TaskID = out.Task
	st.Tasks = appendNew(st.Tasks, out.Task)
	return nil
}

// checkFrom makes sure From is the index this copy may read, and returns it as
// Elasticsearch has it. In phase copy it is what the request's source resolves to now
// (exactly one index); in phase back it is this run's verified temporary: created by this
// run as the copy of the source, and carrying the lock alias that only the first swap adds,
// in the call that removed the source after verifying the copy. A state edited between
// steps, or forged to start at any step, must not aim a block, a copy or a swap at another
// index.
func (s *Steps) checkFrom(ctx context.Context, st *State, step Step) (*indexInfo, error) {
	if st.Phase == PhaseBack {
		from, _, err := concreteIndex(ctx, s.t, st.From)
		if err != nil {
			return nil, err
		}
		if from == nil {
			return nil, fail(InvalidRequest, step, "%q, the temporary copy to copy back from, does not exist", st.From)
		}
		if !isVerifiedTemporary(st, from) {
			return nil, fail(NotOurs, step, "%q is not the verified temporary copy run %q made of %q (no such marker, or no swap lock on it)", st.From, st.Run, st.Source)
		}
		return from, nil
	}
	infos, err := getIndex(ctx, s.t, st.Source)
	if err != nil {
		return nil, err
	}
	if len(infos) != 1 || infos[0].Name != st.From {
		names := make([]string, 0, len(infos))
		for _, i := range infos {
			names = append(names, i.Name)
		}
		return nil, fail(InvalidRequest, step, "source %q resolves to [%s], not to source_index %q", st.Source, strings.Join(names, ", "), st.From)
	}
	return &infos[0], nil
}

// isVerifiedTemporary tells whether i is rename-back's temporary of st's run: the phase-copy
// copy of st.Source, onto which the first swap put that copy's lock when it removed the source.
func isVerifiedTemporary(st *State, i *indexInfo) bool {
	m := i.marker()
	if m == nil || m.Lock || m.Run != st.Run || m.Phase != PhaseCopy || m.Source != st.Source || m.FromUUID == "" {
		return false
	}
	_, swapped := i.Aliases[lockName(st.Run, st.SourceIndex, st.Dest)]
	return swapped
}

// checkCopyTarget makes sure To is the index this run created for this copy of From.
func (s *Steps) checkCopyTarget(ctx context.Context, st *State, step Step) error {
	from, err := s.checkFrom(ctx, st, step)
	if err != nil {
		return err
	}
	to, _, err := concreteIndex(ctx, s.t, st.To)
	if err != nil {
		return err
	}
	if !isCopy(st, to, from) {
		return fail(NotOurs, step, "%q does not exist or was not created by run %q for the copy from %q", st.To, st.Run, st.From)
	}
	return nil
}

// checkTask refuses a task that is not this copy's: the id of another task (another copy,
// an update-by-query, one slice of this copy) says nothing about this copy.
func checkTask(t *taskResult, st *State, step Step) error {
	if t.Task.Action != reindexAction || t.Task.ParentTaskID != "" || !descriptionMatches(t.Task.Description, st.From, st.To) {
		return fail(InvalidRequest, step, "task %s is %q (%s), not the copy from %q to %q", st.TaskID, t.Task.Description, t.Task.Action, st.From, st.To)
	}
	return nil
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// taskOutcome judges a task result: nil error and done=false while it runs; nil and
// done=true only when it finished without error, failures or cancellation and wrote every
// document it read.
func taskOutcome(t *taskResult, st *State) (p Progress, done bool, err error) {
	if !t.Completed {
		s := t.Task.Status
		return Progress{Total: s.Total, Created: s.Created, Updated: s.Updated, VersionConflicts: s.VersionConflicts}, false, nil
	}
	if len(t.Error) > 0 && string(t.Error) != "null" {
		return p, true, fail(ReindexFailed, "", "task %s failed: %s", st.TaskID, reason(t.Error))
	}
	r := t.Response
	if r == nil {
		return p, true, fail(ReindexFailed, "", "task %s completed without a response", st.TaskID)
	}
	p = Progress{Total: r.Total, Created: r.Created, Updated: r.Updated, VersionConflicts: r.VersionConflicts, Failures: len(r.Failures)}
	switch {
	case len(r.Failures) > 0:
		return p, true, fail(ReindexFailed, "", "task %s: %d documents failed, e.g. %s", st.TaskID, len(r.Failures), reason(r.Failures[0]))
	case r.Canceled != "":
		return p, true, fail(ReindexFailed, "", "task %s was cancelled: %s", st.TaskID, r.Canceled)
	case r.TimedOut:
		return p, true, fail(ReindexFailed, "", "task %s timed out", st.TaskID)
	}
	// With op_type=create a version conflict is a document already in the destination (from
	// a copy whose task was lost). A task started with conflicts=abort reports a conflict as
	// a failure (caught above), so conflicts here come from conflicts=proceed: counted as
	// present, and verify's _count comparison has the last word.
	written := r.Created + r.Updated + r.VersionConflicts
	if written != r.Total {
		return p, true, fail(ReindexFailed, "", "task %s wrote %d of %d documents (created %d, updated %d, version conflicts %d, noops %d)",
			st.TaskID, written, r.Total, r.Created, r.Updated, r.VersionConflicts, r.Noops)
	}
	return p, true, nil
}

// reason shortens an Elasticsearch error or failure object to its type and reason.
func reason(raw json.RawMessage) string {
	var v struct {
		ID     string `json:"id"`
		Type   string `json:"type"`
		Reason string `json:"reason"`
		Cause  *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"cause"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	if v.Cause != nil {
		return fmt.Sprintf("document %q: %s: %s", v.ID, v.Cause.Type, v.Cause.Reason)
	}
	if v.Type != "" {
		return v.Type + ": " + v.Reason
	}
	return string(raw)
}

// check reads the task. Running is not an error: Status "running" and Next "check" tell
// the state machine to wait and check again.
func (s *Steps) check(ctx context.Context, st *State) error {
	if st.TaskID == "" {
		return fail(InvalidRequest, StepCheck, "no task_id: run start first")
	}
	t, err := getTask(ctx, s.t, st.TaskID, false)
	if err != nil {
		return err
	}
	if err := checkTask(t, st, StepCheck); err != nil {
		return err
	}
	p, done, err := taskOutcome(t, st)
	st.Copy = &p
	if err != nil {
		return err
	}
	if !done {
		st.Status = StatusRunning
		st.Next = StepCheck
		st.WaitSeconds = int(s.cfg.PollInterval.Seconds())
		return nil
	}
	st.Status = StatusCopied
	st.WaitSeconds = 0
	st.Next = StepVerify
	return nil
}
