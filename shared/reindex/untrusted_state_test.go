package reindex

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Tests that feed the steps states a buggy, retried, duplicated or malicious state machine
// input could carry, against the real node. Each one pins a way the invariant could break.

// startTask starts a reindex by hand (not through the steps), with conflicts=proceed so a
// second copy into a destination keeps going, and returns its task id.
func (n *node) startTask(from, to string, rps int, size int) string {
	n.t.Helper()
	path := "/_reindex?wait_for_completion=false"
	if rps > 0 {
		path += fmt.Sprintf("&requests_per_second=%d", rps)
	}
	src := map[string]any{"index": from}
	if size > 0 {
		src["size"] = size
	}
	out := n.ok("POST", path, map[string]any{"source": src, "dest": map[string]any{"index": to, "op_type": "create"}, "conflicts": "proceed"})
	return out["task"].(string)
}

// waitTask waits until task id has completed.
func (n *node) waitTask(id string) {
	n.t.Helper()
	n.ok("GET", "/_tasks/"+id+"?wait_for_completion=true&timeout=30s", nil)
}

// taskRunning tells whether task id is still running.
func (n *node) taskRunning(id string) bool {
	n.t.Helper()
	code, out := n.call("GET", "/_tasks/"+id, nil)
	return code == http.StatusOK && out["completed"] != true
}

// runningCopies lists the running parent reindex tasks from one index to another.
func (n *node) runningCopies(from, to string) []string {
	n.t.Helper()
	out := n.ok("GET", "/_tasks?actions=indices:data/write/reindex&detailed=true", nil)
	var ids []string
	for _, nd := range out["nodes"].(map[string]any) {
		for id, raw := range nd.(map[string]any)["tasks"].(map[string]any) {
			tk := raw.(map[string]any)
			if tk["parent_task_id"] == nil && descriptionMatches(fmt.Sprint(tk["description"]), from, to) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// A rollback sent with a stale phase-copy state (a retried or late Catch) while rename-back
// is already copying back must not delete the temporary: since the source was deleted, the
// temporary is the only complete copy, and the index now named like the source is partial.
func TestStaleRollbackDuringCopyBackKeepsTemporary(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("stale")
	src := p + "-logs"
	n.seed(src, 70)
	st := stepTo(t, ctx, s, State{Source: src, Mappings: longMapping, Mode: ModeRenameBack, Run: "r1"}, StepSwap)
	stale := st
	st = stepTo(t, ctx, s, st, StepStart) // source deleted, new index named like it, copy back not started
	if st.Phase != PhaseBack || !n.exists(src) {
		t.Fatalf("phase %q, %s exists %v", st.Phase, src, n.exists(src))
	}
	stale.Next = StepRollback
	_, err := s.Do(ctx, stale)
	mustName(t, err, InvalidRequest)
	if !n.exists(st.Dest) || n.count(st.Dest) != 70 {
		t.Fatalf("the stale rollback deleted the temporary %s, the only complete copy", st.Dest)
	}
	// The current state still finishes the run.
	out, err := Run(ctx, s, st)
	if err != nil || out.Status != StatusDone || n.count(src) != 70 {
		t.Fatalf("run after the stale rollback: %v, status %q, %d documents", err, out.Status, n.count(src))
	}
}

// Rollback with a state naming another run's finished copy as its destination (a forged or
// mixed-up run id and dest) leaves that copy alone: it is where the data lives now.
func TestRollbackLeavesAnotherRunsFinishedCopy(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("forgedrb")
	src := p + "-logs"
	n.seed(src, 40)
	done, err := Run(ctx, s, State{Source: src, Run: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	other := p + "-other"
	n.seed(other, 3)
	forged := State{Step: StepRollback, Source: other, Dest: done.Dest, Mode: ModeAlias, Run: "r1",
		Phase: PhaseCopy, SourceIndex: other, From: other, To: done.Dest, SourceCount: i64(3)}
	if _, err := s.Do(ctx, forged); err == nil {
		t.Error("rollback of a forged state succeeded")
	}
	// The same with the source's name, which now is an alias of the copy.
	forged.Source = src
	if _, err := s.Do(ctx, forged); err == nil {
		t.Error("rollback of a forged state succeeded")
	}
	if got := n.resolve(src); !slices.Equal(got, []string{done.Dest}) || n.count(src) != 40 {
		t.Fatalf("%s resolves to %v: the finished copy was deleted by a forged rollback", src, got)
	}
	// Nor does it lift a write block someone else set on an index the source does not name.
	n.ok("PUT", "/"+other+"/_block/write", nil)
	forged.Source, forged.Dest, forged.To = p+"-elsewhere", p+"-elsewhere-r1", p+"-elsewhere-r1"
	if _, err := s.Do(ctx, forged); err != nil {
		t.Fatal(err)
	}
	if n.canWrite(other, "x") {
		t.Errorf("a forged rollback lifted the write block of %s", other)
	}
}

// A task id that names another task — a reindex of other indices with the same count, an
// update-by-query, a slice of the copy — proves nothing about this copy: check, verify and
// swap refuse it, and rollback does not cancel someone else's running task.
func TestForeignTaskIsNotThisCopy(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("foreign")
	src := p + "-logs"
	n.seed(src, 30)
	st := stepTo(t, ctx, s, State{Source: src, Run: "r1"}, StepVerify)

	n.seed(p+"-a", 30)
	reindexOther := n.startTask(p+"-a", p+"-b", 0, 0)
	ubq := n.ok("POST", "/"+p+"-a/_update_by_query?wait_for_completion=false", nil)["task"].(string)
	n.waitTask(reindexOther)
	n.waitTask(ubq)
	for _, id := range []string{reindexOther, ubq} {
		forged := st
		forged.TaskID = id
		for _, step := range []Step{StepCheck, StepVerify, StepSwap} {
			forged.Next = step
			_, err := s.Do(ctx, forged)
			mustName(t, err, InvalidRequest)
		}
	}
	if got := n.resolve(src); !slices.Equal(got, []string{src}) {
		t.Fatalf("%s resolves to %v after swaps with foreign tasks", src, got)
	}

	// Rollback holding the id of someone else's running copy leaves it running.
	n.seed(p+"-c", 200)
	running := n.startTask(p+"-c", p+"-d", 5, 5)
	defer n.call("POST", "/_tasks/"+running+"/_cancel", nil)
	forged := st
	forged.TaskID, forged.Next = running, StepRollback
	if out, err := s.Do(ctx, forged); err != nil || out.Status != StatusRolledBack {
		t.Fatalf("rollback: %v, status %q", err, out.Status)
	}
	if !n.taskRunning(running) {
		t.Error("rollback cancelled a copy of other indices")
	}
	if n.exists(st.Dest) || n.count(src) != 30 || !n.canWrite(src, "after") {
		t.Error("rollback did not undo this run")
	}
}

// A second copy into the destination (a start sent twice at once) is stopped by rollback
// too; otherwise it would recreate the deleted destination under the rollback's feet.
func TestRollbackStopsDuplicateCopy(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("dupstart")
	src := p + "-logs"
	n.seed(src, 300)
	st := stepTo(t, ctx, s, State{Source: src, Run: "r1", RequestsPerSecond: 10}, StepCheck)
	dup := n.startTask(src, st.Dest, 10, 5)
	if dup == st.TaskID {
		t.Fatal("same task")
	}
	st.Next = StepRollback
	if out, err := s.Do(ctx, st); err != nil || out.Status != StatusRolledBack {
		t.Fatalf("rollback: %v, status %q", err, out.Status)
	}
	if ids := n.runningCopies(src, st.Dest); len(ids) > 0 {
		t.Errorf("copies still running after rollback: %v", ids)
	}
	// Only a copy that still runs could recreate the destination; both have completed
	// (cancelled), so what the node shows now is final.
	for _, id := range []string{st.TaskID, dup} {
		if n.taskRunning(id) {
			t.Fatalf("task %s still running after rollback", id)
		}
	}
	if n.exists(st.Dest) {
		t.Error("the destination exists again after rollback")
	}
	if n.count(src) != 300 || !n.canWrite(src, "after") {
		t.Error("source not intact and writable")
	}
}

// start with a forged "created" into an index this run did not create copies nothing into it.
func TestStartRefusesForeignDestination(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("foreigndest")
	src := p + "-logs"
	n.seed(src, 20)
	victim := p + "-victim"
	n.seed(victim, 2)
	st := stepTo(t, ctx, s, State{Source: src, Run: "r1"}, StepCreate)
	st.Dest, st.To, st.Created, st.Next = victim, victim, true, StepStart
	out, err := s.Do(ctx, st)
	mustName(t, err, NotOurs)
	if out.TaskID != "" || len(n.runningCopies(src, victim)) > 0 {
		t.Errorf("a copy into %s was started", victim)
	}
	if got := n.count(victim); got != 2 {
		t.Errorf("%s holds %d documents, want its own 2", victim, got)
	}
}

// A state whose source_index is not what the source resolves to (edited between steps)
// neither blocks that index nor swaps it away under another name.
func TestSourceIndexMustBeTheSource(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("srcidx")
	victim := p + "-victim"
	n.seed(victim, 25)
	st := stepTo(t, ctx, s, State{Source: victim, Run: "r1"}, StepSwap)
	forged := st
	forged.Source = p + "-elsewhere"
	_, err := s.Do(ctx, forged)
	mustName(t, err, InvalidRequest)
	if got := n.resolve(victim); !slices.Equal(got, []string{victim}) || n.count(victim) != 25 {
		t.Fatalf("%s resolves to %v: swapped away under a name the request did not give", victim, got)
	}

	other := p + "-other"
	n.seed(other, 4)
	blk := st
	blk.Source, blk.SourceIndex, blk.From, blk.Dest, blk.To, blk.Next = other, victim+"x", victim+"x", other+"-r1", other+"-r1", StepBlock
	n.seed(victim+"x", 1)
	_, err = s.Do(ctx, blk)
	mustName(t, err, InvalidRequest)
	if !n.canWrite(victim+"x", "x") {
		t.Error("block write-blocked an index the source does not resolve to")
	}
}

// A name with '%' means another index in a URL ("x%61" is "xa"): refused, so no step
// acts on an index the request did not name.
func TestPercentInNamesIsRefused(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("pct")
	n.seed(p+"-xa", 5)
	n.ok("PUT", "/"+p+"-x%2561", nil) // the index literally named "<p>-x%61"
	_, err := s.Do(ctx, State{Source: p + "-x%61", Run: "r1"})
	mustName(t, err, InvalidRequest)
	_, err = s.Do(ctx, State{Source: p + "-xa", Dest: p + "-x%61", Run: "r1"})
	mustName(t, err, InvalidRequest)
	if n.setting(p+"-xa", "index.blocks.write") == "true" {
		t.Error("the index the name decodes to was blocked")
	}
}

// Elasticsearch refusing a request (4xx other than 408 and 429) is not worth a retry;
// overload and outages (429, 5xx, 408) are.
func TestElasticsearchRefusalIsNotRetried(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("refused")
	src := p + "-logs"
	n.seed(src, 5)
	st := stepTo(t, ctx, s, State{Source: src, Run: "r1"}, StepRestore)
	bad := "banana"
	st.Restore.RefreshInterval = &bad
	_, err := s.Do(ctx, st)
	mustName(t, err, ElasticsearchRejected)
	if !strings.Contains(err.Error(), "banana") {
		t.Errorf("the error does not say what was refused: %v", err)
	}
	for status, want := range map[int]string{400: ElasticsearchRejected, 403: ElasticsearchRejected, 404: ElasticsearchRejected,
		408: ElasticsearchError, 429: ElasticsearchError, 500: ElasticsearchError, 503: ElasticsearchError} {
		err := named(StepCheck, fmt.Errorf("GET x: %w", &ESError{Status: status, Type: "t"}))
		if got := ErrorName(err); got != want {
			t.Errorf("HTTP %d: %s, want %s", status, got, want)
		}
	}
}

// Checked and held (no test existed): verify refuses a source someone unblocked, wrote to
// and blocked again, and a destination deleted and recreated by someone else.
func TestVerifyAfterTampering(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("tamper")
	src := p + "-logs"
	n.seed(src, 15)
	st := stepTo(t, ctx, s, State{Source: src, Run: "r1"}, StepVerify)

	n.ok("PUT", "/"+src+"/_settings", map[string]any{"index.blocks.write": nil})
	_, err := s.Do(ctx, st)
	mustName(t, err, CountMismatch) // not blocked: counts mean nothing
	n.ok("PUT", "/"+src+"/_doc/late", map[string]any{"n": "9"})
	n.ok("PUT", "/"+src+"/_block/write", nil)
	for _, step := range []Step{StepVerify, StepSwap} {
		st.Next = step
		_, err = s.Do(ctx, st)
		mustName(t, err, CountMismatch)
	}
	n.ok("PUT", "/"+src+"/_settings", map[string]any{"index.blocks.write": nil})
	n.ok("DELETE", "/"+src+"/_doc/late?refresh=true", nil)
	n.ok("PUT", "/"+src+"/_block/write", nil)

	// Someone else's index under the destination's name, with the same documents.
	n.ok("DELETE", "/"+st.Dest, nil)
	n.waitTask(n.startTask(src, st.Dest, 0, 0))
	st.Next = StepSwap
	_, err = s.Do(ctx, st)
	mustName(t, err, NotOurs)
	if got := n.resolve(src); !slices.Equal(got, []string{src}) || n.count(src) != 15 {
		t.Fatalf("%s resolves to %v", src, got)
	}
}

// Checked and held (no test existed): the copy back failing its count in rename-back rolls
// back to the verified temporary under the source's name.
func TestCopyBackMismatchKeepsTemporary(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("backfail")
	src := p + "-logs"
	n.seed(src, 45)
	st := stepTo(t, ctx, s, State{Source: src, Mode: ModeRenameBack, Run: "r1"}, StepSwap)
	st, err := s.Do(ctx, st) // deletes the source, turns back
	if err != nil {
		t.Fatal(err)
	}
	st = stepTo(t, ctx, s, st, StepVerify)
	if st.Phase != PhaseBack {
		t.Fatalf("phase %q", st.Phase)
	}
	n.ok("PUT", "/"+src+"/_doc/intruder?refresh=true", map[string]any{"n": "x"})
	out, err := Run(ctx, s, st)
	mustName(t, err, CountMismatch)
	if out.Status != StatusRolledBack {
		t.Errorf("status %q", out.Status)
	}
	if got := n.resolve(src); !slices.Equal(got, []string{st.Dest}) || n.count(src) != 45 {
		t.Fatalf("%s resolves to %v with %d documents, want the temporary with 45", src, got, n.count(src))
	}
}

// Documents the source holds but has not made searchable yet (refresh_interval -1, or a
// write just before the block) are copied and counted: the count and the copy's scroll see
// only refreshed documents, so without a refresh of the blocked source they would be
// missing from both — and the source deleted with them.
func TestUnrefreshedSourceDocumentsAreCopied(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeAlias, ModeRenameBack} {
		t.Run(string(mode), func(t *testing.T) {
			n := needNode(t)
			s := testSteps(t, n)
			p := n.names("unrefreshed")
			src := p + "-logs"
			n.seed(src, 20)
			n.ok("PUT", "/"+src+"/_settings", map[string]any{"index.refresh_interval": "-1"})
			for i := 0; i < 5; i++ {
				n.ok("PUT", fmt.Sprintf("/%s/_doc/late%d", src, i), map[string]any{"n": "7"})
			}
			out, err := Run(testCtx(t), s, State{Source: src, Mode: mode, Run: "r1"})
			if err != nil {
				t.Fatal(err)
			}
			if got := n.count(src); got != 25 || *out.ToCount != 25 {
				t.Fatalf("%s holds %d documents after the run (verify counted %d), want all 25", src, got, *out.ToCount)
			}
		})
	}
}

// Aliases in the state (edited, or written by a buggy caller) do not reach the swap: the
// copy gets the aliases the source really has, so a state cannot point someone else's
// alias at the copy.
func TestSwapCarriesTheSourcesRealAliases(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeAlias, ModeRenameBack} {
		t.Run(string(mode), func(t *testing.T) {
			n := needNode(t)
			s := testSteps(t, n)
			ctx := testCtx(t)
			p := n.names("hijack")
			src, other := p+"-logs", p+"-other"
			n.seed(src, 12)
			n.seed(other, 1)
			n.addAliases(src, p+"-read", p+"-write")
			n.ok("POST", "/_aliases", map[string]any{"actions": []any{map[string]any{"add": map[string]any{"index": other, "alias": p + "-prod"}}}})
			st := stepTo(t, ctx, s, State{Source: src, Mode: mode, Run: "r1"}, StepSwap)
			forge := func(st State) State {
				st.SourceAliases = map[string]json.RawMessage{p + "-prod": json.RawMessage(`{}`)}
				return st
			}
			st = forge(st)
			if mode == ModeRenameBack {
				out, err := s.Do(ctx, st)
				if err != nil {
					t.Fatal(err)
				}
				st = forge(stepTo(t, ctx, s, out, StepSwap))
			}
			out, err := s.Do(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.resolve(p + "-prod"); !slices.Equal(got, []string{other}) {
				t.Errorf("%s-prod resolves to %v, want only %s", p, got, other)
			}
			final := n.resolve(src)
			if len(final) != 1 || n.count(src) != 12 || out.Status != StatusSwapped {
				t.Fatalf("%s resolves to %v, status %q", src, final, out.Status)
			}
			n.checkAliases(final[0], p+"-read", p+"-write")
		})
	}
}

// The same swap sent twice at once (a duplicated delivery): the source is replaced once,
// and neither invocation fails with an error that would send the workflow to rollback.
func TestConcurrentSwaps(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeAlias, ModeRenameBack} {
		t.Run(string(mode), func(t *testing.T) {
			n := needNode(t)
			s := testSteps(t, n)
			ctx := testCtx(t)
			p := n.names("concswap")
			src := p + "-logs"
			n.seed(src, 30)
			st := stepTo(t, ctx, s, State{Source: src, Mode: mode, Run: "r1"}, StepSwap)
			for round := 0; round < 2 && st.Next == StepSwap; round++ {
				var outs [2]State
				var errs [2]error
				var wg sync.WaitGroup
				for i := range outs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						outs[i], errs[i] = s.Do(ctx, st)
					}()
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil && ErrorName(err) != ElasticsearchError {
						t.Errorf("swap %d: %v: not retryable", i, err)
					}
				}
				if errs[0] != nil && errs[1] != nil {
					t.Fatalf("both swaps failed: %v; %v", errs[0], errs[1])
				}
				st = outs[0]
				if errs[0] != nil {
					st = outs[1]
				}
				if mode == ModeRenameBack && st.Phase == PhaseBack && st.Next == StepBlock {
					st = stepTo(t, ctx, s, st, StepSwap)
				}
			}
			if st.Status != StatusSwapped || n.count(src) != 30 {
				t.Fatalf("status %q, %d documents", st.Status, n.count(src))
			}
		})
	}
}

// cleanup deletes only the stored results of this run's copies, not of any task id the
// state lists.
func TestCleanupKeepsOtherTaskResults(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("cleanup")
	src := p + "-logs"
	n.seed(src, 10)
	n.seed(p+"-a", 3)
	foreign := n.startTask(p+"-a", p+"-b", 0, 0)
	n.waitTask(foreign)
	st := stepTo(t, ctx, s, State{Source: src, Run: "r1"}, StepCleanup)
	own := st.TaskID
	st.Tasks = append(st.Tasks, foreign)
	if _, err := s.Do(ctx, st); err != nil {
		t.Fatal(err)
	}
	if code, _ := n.call("GET", "/_tasks/"+foreign, nil); code != http.StatusOK {
		t.Errorf("the result of task %s (not this run's) was deleted: HTTP %d", foreign, code)
	}
	if code, _ := n.call("GET", "/_tasks/"+own, nil); code != http.StatusNotFound {
		t.Errorf("the result of this run's task %s is still there: HTTP %d", own, code)
	}
}

// Checked and held (no real-node test existed): a task that reported failures is not a
// verified copy even when an intruder makes the counts equal.
func TestFailedTaskWithEqualCountsIsNotVerified(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("failedeq")
	src := p + "-logs"
	n.seed(src, 9, "abc") // "abc" does not fit a long
	st := stepTo(t, ctx, s, State{Source: src, Mappings: longMapping, Run: "r1"}, StepCheck)
	n.waitTask(st.TaskID)
	n.ok("PUT", "/"+st.Dest+"/_doc/intruder?refresh=true", map[string]any{"n": 1})
	if n.count(st.Dest) != n.count(src) {
		t.Fatalf("counts differ (%d, %d): the test needs them equal", n.count(st.Dest), n.count(src))
	}
	for _, step := range []Step{StepCheck, StepVerify, StepSwap} {
		st.Next = step
		_, err := s.Do(ctx, st)
		mustName(t, err, ReindexFailed)
	}
	if got := n.resolve(src); !slices.Equal(got, []string{src}) {
		t.Fatalf("%s resolves to %v", src, got)
	}
}

// Checked and held: a name with non-ASCII letters whose temporary is exactly at the
// 255-byte limit runs through rename-back (both copies); a default name that would pass
// the limit is refused by validate.
func TestUnicodeAndLongNames(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("names")
	src := p + "-ünïcødé-日志-"
	src += strings.Repeat("ä", (255-len(src)-len("-r1-tmp"))/2)
	src += strings.Repeat("a", 255-len(src)-len("-r1-tmp"))
	n.seed(src, 7)
	out, err := Run(ctx, s, State{Source: src, Mode: ModeRenameBack, Run: "r1"})
	if err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	if len(out.Dest) != 255 || out.Status != StatusDone || n.count(src) != 7 {
		t.Errorf("dest %d bytes, status %q, %d documents", len(out.Dest), out.Status, n.count(src))
	}
	long := p + "-" + strings.Repeat("a", 255-len(p)-1)
	n.seed(long, 1)
	_, err = s.Do(ctx, State{Source: long, Run: "r1"})
	mustName(t, err, InvalidRequest)
	if !strings.Contains(err.Error(), "over 255") {
		t.Errorf("error does not say the name is too long: %v", err)
	}
}

// Rename-back leaves the name missing between deleting the source and creating its new
// index; a client write in that window auto-creates an index under the name. Rollback
// must not call that "rolled back": the data is in the temporary, and it says so.
func TestNameTakenDuringRenameBackWindow(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("window")
	src := p + "-logs"
	n.seed(src, 20)
	st := stepTo(t, ctx, s, State{Source: src, Mode: ModeRenameBack, Run: "r1"}, StepSwap)
	st, err := s.Do(ctx, st) // deletes the source
	if err != nil {
		t.Fatal(err)
	}
	n.ok("PUT", "/"+src+"/_doc/client?refresh=true", map[string]any{"n": "late"}) // auto-creates src
	out, err := Run(ctx, s, st)
	mustName(t, err, NotOurs) // create refuses the client's index
	if !strings.Contains(err.Error(), RollbackIncomplete) || !strings.Contains(err.Error(), st.Dest) {
		t.Errorf("rollback did not report that the data is in %s: %v", st.Dest, err)
	}
	if out.Status == StatusRolledBack {
		t.Error(`status "rolled_back", but the source's name holds another index`)
	}
	if n.count(st.Dest) != 20 || n.count(src) != 1 {
		t.Errorf("temporary %d documents, %s %d", n.count(st.Dest), src, n.count(src))
	}
}
