package reindex

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Forged states: whoever can start an execution of the state machine writes the state, and
// may write it to start at any step. These are the states issue 13 found acting on indices
// the run may not touch; each must fail before Elasticsearch changes anything.

// feed runs st step to step (Next after Next) until a step fails or the workflow ends, and
// returns the first error.
func feed(t *testing.T, ctx context.Context, s *Steps, st State) error {
	t.Helper()
	p := newPoll(t, "a forged state's steps")
	for {
		out, err := s.Do(ctx, st)
		if err != nil {
			return err
		}
		if out.Next == "" {
			return nil
		}
		if out.Status == StatusRunning {
			p.pause()
		}
		st = out
	}
}

// A phase-copy state whose from and source_index name another index than the source — a
// hidden one, or a plain one — copies nothing of it into the destination.
func TestForgedStatesCannotCopyAnotherIndex(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("forgecopy")
	hidden := "." + p + "-hidden"
	t.Cleanup(func() { n.call("DELETE", "/"+hidden, nil) })
	n.seed(hidden, 4)
	src, other := p+"-x", p+"-other"
	n.seed(src, 2)
	n.seed(other, 5)

	for _, stolen := range []string{hidden, other} {
		for _, step := range []Step{StepCreate, StepStart, StepBlock} {
			dest := src + "-copy"
			forged := State{Step: step, Source: src, Dest: dest, Run: "r2", Mode: ModeAlias, Phase: PhaseCopy,
				From: stolen, To: dest, SourceIndex: stolen, SourceCount: i64(4)}
			err := feed(t, ctx, s, forged)
			if err == nil {
				t.Errorf("%s from %s: the forged state ran to the end", step, stolen)
			} else if name := ErrorName(err); name != InvalidRequest {
				t.Errorf("%s from %s: %s (%v), want InvalidRequest", step, stolen, name, err)
			}
			if n.exists(dest) {
				t.Errorf("%s from %s: the forged state created %s (%d documents)", step, stolen, dest, n.count(dest))
				n.ok("DELETE", "/"+dest, nil)
			}
			if !n.canWrite(stolen, "probe") {
				t.Errorf("%s from %s: the forged state write-blocked %s", step, stolen, stolen)
				n.ok("PUT", "/"+stolen+"/_settings", map[string]any{"index.blocks.write": nil})
			}
		}
	}
}

// A rename-back phase-back state that names an index the run never created as the
// temporary (from) is refused at every step, so it is never blocked, copied from or deleted.
func TestForgedStatesCannotDeleteAnotherIndex(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("forgeback")
	victim, name := p+"-victim", p+"-new"
	n.seed(victim, 6)
	forged := State{Step: StepBlock, Source: name, Dest: victim, Run: "r7", Mode: ModeRenameBack, Phase: PhaseBack,
		From: victim, To: name, SourceIndex: name, SourceCount: i64(6)}
	err := feed(t, ctx, s, forged)
	mustName(t, err, NotOurs)
	if !n.exists(victim) || n.count(victim) != 6 || !n.canWrite(victim, "after") {
		t.Fatalf("the forged state touched %s (exists %v)", victim, n.exists(victim))
	}
	if n.exists(name) {
		t.Errorf("the forged state created %s", name)
	}
	// Each later step, fed the forged state directly, refuses it as well.
	n.ok("PUT", "/"+victim+"/_block/write", nil) // as if block had run
	try := func(step Step, task string) {
		t.Helper()
		st := forged
		st.Step, st.Created, st.Restore = step, true, &Restore{}
		if task != "" {
			st.TaskID, st.Tasks = task, []string{task}
		}
		_, err := s.Do(ctx, st)
		if name := ErrorName(err); name != NotOurs {
			t.Errorf("%s: %s (%v), want NotOurs", step, name, err)
		}
		if !n.exists(victim) || n.count(victim) != 7 { // 6 and the probe written above
			t.Fatalf("forged %s deleted %s", step, victim)
		}
	}
	for _, step := range []Step{StepCreate, StepStart} {
		try(step, "")
		if n.exists(name) {
			t.Fatalf("forged %s created %s", step, name)
		}
	}
	// verify and swap get a finished copy from victim into the name, with the right count,
	// so only the check of from can refuse them.
	task := n.startTask(victim, name, 0, 0)
	n.waitTask(task)
	for _, step := range []Step{StepVerify, StepSwap} {
		try(step, task)
	}
}

// Rollback lifts the source's write block only when Elasticsearch shows this run set it:
// source_was_blocked in the state says nothing either way.
func TestForgedStatesCannotLiftAForeignBlock(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("forgeblock")

	// Blocked by an operator before the run; the state claims it was not.
	pre := p + "-pre"
	n.seed(pre, 3)
	n.ok("PUT", "/"+pre+"/_block/write", nil)
	st := stepTo(t, ctx, s, State{Source: pre, Run: "r1"}, StepCreate)
	if !st.SourceWasBlocked {
		t.Fatal("preflight did not see the block")
	}
	st.SourceWasBlocked = false
	st.Next = StepRollback
	if out, err := s.Do(ctx, st); err != nil || out.Status != StatusRolledBack {
		t.Fatalf("rollback: %v, status %q", err, out.Status)
	}
	if n.canWrite(pre, "x") {
		t.Error("rollback of a state saying source_was_blocked=false lifted the operator's block")
	}

	// Blocked by this run; the state claims it was blocked before.
	own := p + "-own"
	n.seed(own, 3)
	st = stepTo(t, ctx, s, State{Source: own, Run: "r1"}, StepCreate)
	st.SourceWasBlocked = true
	st.Next = StepRollback
	if out, err := s.Do(ctx, st); err != nil || out.Status != StatusRolledBack {
		t.Fatalf("rollback: %v, status %q", err, out.Status)
	}
	if !n.canWrite(own, "x") {
		t.Error("rollback of a state saying source_was_blocked=true left the block this run set")
	}
	// Nothing of the run is left on the source.
	for alias := range n.ok("GET", "/"+own+"/_alias", nil)[own].(map[string]any)["aliases"].(map[string]any) {
		t.Errorf("alias %q left on the source after rollback", alias)
	}

	// A whole run of an operator-blocked source: the copy keeps the block even when the state
	// forgot it.
	st = stepTo(t, ctx, s, State{Source: pre, Run: "r3"}, StepRestore)
	st.SourceWasBlocked = false
	out, err := Run(ctx, s, st)
	if err != nil || out.Status != StatusDone {
		t.Fatalf("run: %v, status %q", err, out.Status)
	}
	if n.canWrite(pre, "y") {
		t.Error("the copy of an operator-blocked source accepts writes")
	}
	// Rename-back carries the block through its temporary's _meta to the index copied back.
	out, err = Run(ctx, s, State{Source: pre, Run: "r4", Mode: ModeRenameBack})
	if err != nil || out.Status != StatusDone {
		t.Fatalf("rename-back run: %v, status %q", err, out.Status)
	}
	if got := n.resolve(pre); len(got) != 1 || got[0] != pre || n.canWrite(pre, "z") {
		t.Errorf("%s resolves to %v; the index copied back from a blocked source must be blocked", pre, got)
	}
}

// theirCopy starts someone else's reindex (not through the steps) of docs documents, at
// rps documents a second (0: unthrottled), and returns a state of run r1 that names it
// as this run's copy, to be sent as step.
func theirCopy(n *node, tag string, docs, rps int, step Step) (forged State, into string) {
	n.t.Helper()
	p := n.names(tag)
	theirs := p + "-theirs"
	into = theirs + "-copy"
	n.seed(theirs, docs)
	task := n.startTask(theirs, into, rps, 5)
	if rps > 0 {
		n.t.Cleanup(func() { n.call("POST", "/_tasks/"+task+"/_cancel", nil) })
	} else {
		n.waitTask(task)
	}
	return State{Step: step, Source: theirs, Dest: into, Run: "r1", Mode: ModeAlias, Phase: PhaseCopy,
		From: theirs, To: into, SourceIndex: theirs, SourceCount: i64(int64(docs)), TaskID: task, Tasks: []string{task}}, into
}

// A rollback state naming someone else's running reindex (from and to valid names, the
// phase consistent) leaves that copy running: only copies into an index this run created
// are this run's to cancel.
func TestForgedStatesCannotCancelAnotherCopy(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	forged, into := theirCopy(n, "forgecancel", 200, 5, StepRollback)
	if _, err := testSteps(t, n).Do(testCtx(t), forged); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if !n.taskRunning(forged.TaskID) {
		t.Error("a forged rollback cancelled someone else's copy")
	}
	if !n.exists(into) {
		t.Error("a forged rollback deleted someone else's copy")
	}
}

// A cleanup state listing someone else's copy task deletes nothing of it: the source's
// name does not resolve to a copy this run made.
func TestForgedStatesCannotDeleteAnotherTaskResult(t *testing.T) {
	t.Parallel()
	n := needNode(t)
	forged, _ := theirCopy(n, "forgeclean", 10, 0, StepCleanup)
	if _, err := testSteps(t, n).Do(testCtx(t), forged); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if code, _ := n.call("GET", "/_tasks/"+forged.TaskID, nil); code != http.StatusOK {
		t.Errorf("a forged cleanup deleted the result of someone else's copy (GET _tasks: HTTP %d)", code)
	}
}

// Every step refuses, before any request, a state whose from, to or source_index breaks
// the rules the request's names follow (the transport fails the test on any request).
func TestForgedStatesRefusedWithoutCallingElasticsearch(t *testing.T) {
	s := New(failTransport{t}, Config{})
	ctx := testCtx(t)
	bad := []string{".sec-hidden", "logs-*", "_all", lockPrefix + "r1-0011223344556677", "a%62", "a/../b", "Logs"}
	steps := []Step{StepBlock, StepCreate, StepStart, StepCheck, StepVerify, StepRestore, StepSwap, StepCleanup, StepRollback}
	for _, name := range bad {
		for _, field := range []string{"from", "to", "source_index"} {
			for _, step := range steps {
				st := State{Step: step, Source: "logs", Dest: "logs-r1", Run: "r1", Mode: ModeAlias, Phase: PhaseCopy,
					From: "logs", To: "logs-r1", SourceIndex: "logs", SourceCount: i64(1), TaskID: "n1:1", Tasks: []string{"n1:1"},
					Created: true, Restore: &Restore{}}
				switch field {
				case "from":
					st.From = name
				case "to":
					st.To = name
				case "source_index":
					st.SourceIndex = name
				}
				if _, err := s.Do(ctx, st); ErrorName(err) != InvalidRequest {
					t.Errorf("%s with %s %q: %v, want InvalidRequest", step, field, name, err)
				} else if !strings.Contains(err.Error(), field) {
					t.Errorf("%s with %s %q: %v does not name the field", step, field, name, err)
				}
			}
		}
	}
}

// States too large or too odd to be this workflow's are InvalidRequest before any request:
// not ElasticsearchError, which a state machine retries.
func TestOversizedOrMalformedStateIsInvalidRequest(t *testing.T) {
	s := New(failTransport{t}, Config{})
	ctx := testCtx(t)
	base := State{Step: StepCleanup, Source: "logs", Dest: "logs-r1", Run: "r1", Mode: ModeAlias, Phase: PhaseCopy,
		From: "logs", To: "logs-r1", SourceIndex: "logs", SourceCount: i64(1)}
	huge := base
	for i := 0; i < 150000; i++ {
		huge.Tasks = append(huge.Tasks, "abcdefghijklmnopqrstuv:"+strings.Repeat("1", 6))
	}
	many := base
	for i := 0; i <= MaxTasks; i++ {
		many.Tasks = append(many.Tasks, "n1:"+strings.Repeat("1", i%5+1)+string(rune('0'+i%10)))
	}
	badJSON := base
	badJSON.Step = StepValidate
	badJSON.Phase, badJSON.From, badJSON.To, badJSON.SourceIndex = "", "", "", ""
	badJSON.Mappings = json.RawMessage(`{"properties":`)
	bigMappings := base // mappings are checked by validate, but a forged state starts later
	bigMappings.Mappings = json.RawMessage(`{"_meta":{"x":"` + strings.Repeat("a", MaxStateBytes) + `"}}`)
	for name, st := range map[string]State{"150k task ids": huge, "too many tasks": many, "mappings not JSON": badJSON,
		"state over MaxStateBytes": bigMappings} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Do(ctx, st)
			mustName(t, err, InvalidRequest)
			if len(err.Error()) > 1000 {
				t.Errorf("the error quotes the state: %d bytes", len(err.Error()))
			}
		})
	}
}
