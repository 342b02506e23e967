package reindex

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// longMapping turns the keyword field "n" into a long: the mapping change the tests make.
var longMapping = json.RawMessage(`{"properties":{"n":{"type":"long"},"msg":{"type":"text"}}}`)

// addAliases gives src a filtered read alias and a write alias.
func (n *node) addAliases(src, read, write string) {
	n.ok("POST", "/_aliases", map[string]any{"actions": []any{
		map[string]any{"add": map[string]any{"index": src, "alias": read, "filter": map[string]any{"term": map[string]any{"n": "1"}}}},
		map[string]any{"add": map[string]any{"index": src, "alias": write, "is_write_index": true}},
	}})
}

// checkAliases asserts read (with its filter) and write (as write index) point at index.
func (n *node) checkAliases(index, read, write string) {
	n.t.Helper()
	out := n.ok("GET", "/"+index+"/_alias", nil)
	al := out[index].(map[string]any)["aliases"].(map[string]any)
	r, ok := al[read].(map[string]any)
	if !ok || r["filter"] == nil {
		n.t.Errorf("alias %s on %s = %v, want it with its filter", read, index, al[read])
	}
	w, ok := al[write].(map[string]any)
	if !ok || w["is_write_index"] != true {
		n.t.Errorf("alias %s on %s = %v, want it as write index", write, index, al[write])
	}
}

func TestRunAliasModeChangesMapping(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	p := n.names("alias")
	src := p + "-logs"
	n.seed(src, 300)
	n.addAliases(src, p+"-read", p+"-write")

	st, err := Run(testCtx(t), s, State{Source: src, Mappings: longMapping, Run: "r1"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	dest := src + "-r1"
	if st.Status != StatusDone || st.Next != "" || st.Dest != dest {
		t.Errorf("state = status %q next %q dest %q, want done, '', %s", st.Status, st.Next, st.Dest, dest)
	}
	if *st.SourceCount != 300 || *st.FromCount != 300 || *st.ToCount != 300 {
		t.Errorf("counts = source %d from %d to %d, want 300", *st.SourceCount, *st.FromCount, *st.ToCount)
	}
	if got := n.resolve(src); !slices.Equal(got, []string{dest}) {
		t.Errorf("%s resolves to %v, want the copy %s (the old index deleted)", src, got, dest)
	}
	if got := n.count(src); got != 300 {
		t.Errorf("count through the alias = %d, want 300", got)
	}
	if got := n.fieldType(dest, "n"); got != "long" {
		t.Errorf("n is %q in the copy, want long", got)
	}
	n.checkAliases(dest, p+"-read", p+"-write")
	// The filtered alias still filters: only the document with n == 1.
	if got := n.count(p + "-read"); got != 1 {
		t.Errorf("count through the filtered alias = %d, want 1", got)
	}
	if got := n.setting(dest, "index.refresh_interval"); got != "7s" {
		t.Errorf("refresh_interval = %q, want the source's 7s restored", got)
	}
	if got := n.setting(dest, "index.number_of_replicas"); got != "0" {
		t.Errorf("number_of_replicas = %q, want the source's 0 restored", got)
	}
	if !n.canWrite(src, "new") {
		t.Error("the new index is write-blocked")
	}
	for _, id := range st.Tasks {
		if code, _ := n.call("GET", "/_tasks/"+id, nil); code != http.StatusNotFound {
			t.Errorf("task result %s still stored after cleanup (HTTP %d)", id, code)
		}
	}
}

func TestRunRenameBackChangesMapping(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	p := n.names("back")
	src := p + "-logs"
	n.seed(src, 250)
	n.addAliases(src, p+"-read", p+"-write")

	st, err := Run(testCtx(t), s, State{Source: src, Mappings: longMapping, Mode: ModeRenameBack, Run: "r1"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st.Status != StatusDone || st.Phase != PhaseBack || len(st.Tasks) != 2 {
		t.Errorf("state = status %q phase %q tasks %v, want done, back, two tasks", st.Status, st.Phase, st.Tasks)
	}
	if got := n.resolve(src); !slices.Equal(got, []string{src}) {
		t.Errorf("%s resolves to %v, want a concrete index of that name", src, got)
	}
	if n.exists(st.Dest) {
		t.Errorf("temporary %s still exists", st.Dest)
	}
	if got := n.count(src); got != 250 || *st.ToCount != 250 || *st.FromCount != 250 {
		t.Errorf("count = %d (state from %d to %d), want 250", got, *st.FromCount, *st.ToCount)
	}
	if got := n.fieldType(src, "n"); got != "long" {
		t.Errorf("n is %q, want long", got)
	}
	n.checkAliases(src, p+"-read", p+"-write")
	if got := n.setting(src, "index.refresh_interval"); got != "7s" {
		t.Errorf("refresh_interval = %q, want 7s restored", got)
	}
	if !n.canWrite(src, "new") {
		t.Error("the new index is write-blocked")
	}
}

func TestRunTemplateMappings(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	p := n.names("tpl")
	src := p + "-logs"
	n.seed(src, 40)
	n.ok("PUT", "/_index_template/"+p, map[string]any{
		"index_patterns": []string{p + "-logs-*"},
		"template": map[string]any{
			"settings": map[string]any{"number_of_shards": 2, "refresh_interval": "3s"},
			"mappings": map[string]any{"properties": map[string]any{"n": map[string]any{"type": "long"}}},
		},
	})
	st, err := Run(testCtx(t), s, State{Source: src, Template: true, Run: "r1"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := n.fieldType(st.Dest, "n"); got != "long" {
		t.Errorf("n is %q, want the template's long", got)
	}
	if got := n.setting(st.Dest, "index.number_of_shards"); got != "2" {
		t.Errorf("shards = %q, want the template's 2", got)
	}
	if got := n.setting(st.Dest, "index.refresh_interval"); got != "3s" {
		t.Errorf("refresh_interval = %q, want the template's 3s restored", got)
	}
	if got := n.count(src); got != 40 {
		t.Errorf("count = %d, want 40", got)
	}

	// No template for the name: refused before anything happens.
	other := p + "-other"
	n.seed(other, 1)
	_, err = s.Do(testCtx(t), State{Step: StepValidate, Source: other, Template: true})
	mustName(t, err, InvalidRequest)
}

// The copy cannot fit the new mapping: the task reports failures, the run stops with
// ReindexFailed, and rollback leaves the source whole, writable, and alone.
func TestRunFailingCopyRollsBack(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	p := n.names("fail")
	src := p + "-logs"
	n.seed(src, 120, "abc")

	st, err := Run(testCtx(t), s, State{Source: src, Mappings: longMapping, Run: "r1"})
	mustName(t, err, ReindexFailed)
	if !strings.Contains(err.Error(), "abc") && !strings.Contains(err.Error(), "mapper_parsing_exception") {
		t.Errorf("error does not say which document failed: %v", err)
	}
	if st.Status != StatusRolledBack || st.Error == nil || st.Error.Error != ReindexFailed {
		t.Errorf("state = status %q error %+v, want rolled_back with ReindexFailed", st.Status, st.Error)
	}
	if n.exists(src + "-r1") {
		t.Error("the partial destination was left behind")
	}
	if got := n.count(src); got != 121 {
		t.Errorf("source holds %d documents, want all 121", got)
	}
	if got := n.setting(src, "index.blocks.write"); got == "true" {
		t.Error("source is still write-blocked")
	}
	if !n.canWrite(src, "after") {
		t.Error("source refuses writes after rollback")
	}
}

// Writes to the source while the copy runs are refused by the block, and the counts match.
func TestWritesDuringCopyAreRejected(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("block")
	src := p + "-logs"
	n.seed(src, 1500)

	// 1000 documents per batch at 400/s: the copy waits ~2.5 s between its two batches.
	st := stepTo(t, ctx, s, State{Source: src, Mappings: longMapping, Run: "r1", RequestsPerSecond: 400}, StepStart)
	if n.canWrite(src, "before-start") {
		t.Fatal("the source accepted a write after block")
	}
	st, err := s.Do(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	// A start retried while its task runs adopts that task instead of starting another.
	again := st
	again.Next, again.TaskID, again.Tasks = StepStart, "", nil
	again.Status = ""
	again2, err := s.Do(ctx, again)
	if err != nil || again2.TaskID != st.TaskID {
		t.Errorf("retried start: task %q err %v, want the running task %q", again2.TaskID, err, st.TaskID)
	}
	rejected := 0
	pace := newPoll(t, "the throttled copy")
	for st.Next == StepCheck {
		if st, err = s.Do(ctx, st); err != nil {
			t.Fatal(err)
		}
		if st.Status == StatusRunning {
			if n.canWrite(src, fmt.Sprintf("during-%d", rejected)) {
				t.Fatal("the source accepted a write during the copy")
			}
			rejected++
			pace.pause()
		}
	}
	if rejected == 0 {
		t.Fatal("the copy finished before a write could be tried: throttle more")
	}
	st, err = Run(ctx, s, st)
	if err != nil {
		t.Fatalf("Run from verify: %v", err)
	}
	if *st.FromCount != 1500 || *st.ToCount != 1500 || n.count(src) != 1500 {
		t.Errorf("counts = %d / %d / %d, want 1500", *st.FromCount, *st.ToCount, n.count(src))
	}
}

// A destination with a document the source lacks (or missing one) is never a success:
// verify and swap both say CountMismatch, and the source stays.
func TestCountMismatchIsNeverSuccess(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	type tweak struct {
		name  string
		tweak func(dest string)
	}
	var cases []tweak
	for _, mode := range []Mode{ModeAlias, ModeRenameBack} {
		cases = append(cases,
			tweak{string(mode) + "/extra", func(dest string) { n.ok("PUT", "/"+dest+"/_doc/intruder", map[string]any{"n": 5}) }},
			tweak{string(mode) + "/missing", func(dest string) { n.ok("DELETE", "/"+dest+"/_doc/d7", nil) }})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := &node{t: t, es: n.es}
			p := n.names("count")
			src := p + "-logs"
			n.seed(src, 50)
			mode := Mode(strings.Split(tc.name, "/")[0])
			st := stepTo(t, ctx, s, State{Source: src, Mappings: longMapping, Run: "r1", Mode: mode}, StepVerify)
			tc.tweak(st.Dest)

			_, err := s.Do(ctx, st)
			mustName(t, err, CountMismatch)
			// A state that claims verification does not get past swap either.
			forged := st
			forged.Next, forged.Status = StepSwap, StatusVerified
			_, err = s.Do(ctx, forged)
			mustName(t, err, CountMismatch)
			if got := n.resolve(src); !slices.Equal(got, []string{src}) || n.count(src) != 50 {
				t.Fatalf("source %s resolves to %v with %d documents, want itself with 50", src, got, n.count(src))
			}
			// Run from that point ends in rollback with the source intact.
			out, err := Run(ctx, s, st)
			mustName(t, err, CountMismatch)
			if out.Status != StatusRolledBack || n.exists(st.Dest) || !n.canWrite(src, "after") {
				t.Errorf("after rollback: status %q, dest exists %v", out.Status, n.exists(st.Dest))
			}
		})
	}
}

// An unknown task is TaskLost at every step that reads it, never "done".
func TestLostTaskIsTaskLost(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("lost")
	src := p + "-logs"
	n.seed(src, 30)
	st := stepTo(t, ctx, s, State{Source: src, Run: "r1"}, StepCheck)
	// Complete the real copy so the counts would match: only the task id is wrong.
	for st.Next == StepCheck {
		var err error
		if st, err = s.Do(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	nodeID := strings.Split(st.TaskID, ":")[0]
	for _, id := range []string{nodeID + ":99999999", "gonenode:1"} {
		lost := st
		lost.TaskID = id
		for _, step := range []Step{StepCheck, StepVerify, StepSwap} {
			lost.Next = step
			_, err := s.Do(ctx, lost)
			mustName(t, err, TaskLost)
		}
	}
	if got := n.resolve(src); !slices.Equal(got, []string{src}) {
		t.Errorf("source resolves to %v after lost-task swaps", got)
	}
}

// A start retried after its first task's result went missing copies into the partial
// destination with conflicts=proceed, and the result verifies.
func TestStartIntoPartialDestination(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("partial")
	src := p + "-logs"
	n.seed(src, 80)
	st := stepTo(t, ctx, s, State{Source: src, Mappings: longMapping, Run: "r1"}, StepStart)
	for _, id := range []string{"d1", "d2", "d3"} {
		n.ok("PUT", "/"+st.Dest+"/_doc/"+id, map[string]any{"n": 1})
	}
	out, err := Run(ctx, s, st)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.Conflicts != "proceed" || out.Copy == nil || out.Copy.VersionConflicts != 3 {
		t.Errorf("conflicts %q copy %+v, want proceed with 3 version conflicts", out.Conflicts, out.Copy)
	}
	if got := n.count(src); got != 80 {
		t.Errorf("count = %d, want 80", got)
	}
}

// Every step run twice with the same input (a crash after the step acted, before its
// output was recorded) ends where running it once does.
func TestEveryStepRetried(t *testing.T) {
	for _, mode := range []Mode{ModeAlias, ModeRenameBack} {
		t.Run(string(mode), func(t *testing.T) {
			n := needNode(t)
			s := testSteps(t, n)
			ctx := testCtx(t)
			p := n.names("retry")
			src := p + "-logs"
			n.seed(src, 60)
			n.addAliases(src, p+"-read", p+"-write")
			st := State{Step: StepValidate, Source: src, Mappings: longMapping, Mode: mode, Run: "r1"}
			seen := map[string]bool{}
			pace := newPoll(t, "the retried workflow")
			for st.Next != "" || st.Step != "" {
				step := st.Step
				if step == "" {
					step = st.Next
				}
				first, err := s.Do(ctx, st)
				if err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				if first.Status == StatusRunning && step == StepCheck {
					pace.pause()
					st = first
					continue
				}
				second, err := s.Do(ctx, st)
				if err != nil {
					t.Fatalf("%s retried: %v", step, err)
				}
				a, b := comparable(first), comparable(second)
				if a != b {
					t.Errorf("%s retried gave\n%s\nfirst gave\n%s", step, b, a)
				}
				seen[string(step)] = true
				if st.Phase == PhaseBack {
					seen[string(step)+"/back"] = true
				}
				st = first
			}
			if st.Status != StatusDone {
				t.Fatalf("status %q, want done", st.Status)
			}
			want := n.count(src)
			if want != 60 || n.fieldType(src, "n") != "long" && mode == ModeRenameBack {
				t.Errorf("count %d type %q", want, n.fieldType(src, "n"))
			}
			n.checkAliases(n.resolve(src)[0], p+"-read", p+"-write")
			for _, step := range []Step{StepValidate, StepPreflight, StepBlock, StepCreate, StepStart, StepCheck, StepVerify, StepRestore, StepSwap, StepCleanup} {
				if !seen[string(step)] {
					t.Errorf("step %s was not retried", step)
				}
			}
			if mode == ModeRenameBack && !seen["swap/back"] {
				t.Error("the second swap was not retried")
			}
			// Rollback after success changes nothing.
			rb := st
			rb.Next = StepRollback
			for i := 0; i < 2; i++ {
				out, err := s.Do(ctx, rb)
				if err != nil || out.Status != StatusSwapped {
					t.Fatalf("rollback after success: %v, status %q, want swapped", err, out.Status)
				}
			}
			if n.count(src) != 60 {
				t.Errorf("rollback after success lost documents: %d", n.count(src))
			}
		})
	}
}

// comparable is a state's JSON without the task progress, which moves between two reads.
func comparable(st State) string {
	st.Copy = nil
	b, _ := json.Marshal(st)
	return string(b)
}

// Rollback while the copy runs cancels it, deletes the destination and lifts the block;
// run twice it does the same.
func TestRollbackCancelsRunningCopy(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("cancel")
	src := p + "-logs"
	n.seed(src, 1500)
	st := stepTo(t, ctx, s, State{Source: src, Run: "r1", RequestsPerSecond: 100}, StepCheck)
	st.Next = StepRollback
	for i := 0; i < 2; i++ {
		out, err := s.Do(ctx, st)
		if err != nil {
			t.Fatalf("rollback %d: %v", i, err)
		}
		if out.Status != StatusRolledBack {
			t.Errorf("status %q", out.Status)
		}
	}
	got := n.ok("GET", "/_tasks/"+st.TaskID, nil)
	if got["completed"] != true {
		t.Errorf("task still running after rollback: %v", got)
	}
	if n.exists(st.Dest) {
		t.Error("destination left behind")
	}
	if n.count(src) != 1500 || !n.canWrite(src, "after") {
		t.Error("source not intact and writable")
	}
}

// A source that was write-blocked before the run stays blocked through rollback and the
// copy inherits the block.
func TestPreBlockedSourceKeepsItsBlock(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("preblocked")
	src := p + "-logs"
	n.seed(src, 10)
	n.ok("PUT", "/"+src+"/_block/write", nil)
	st := stepTo(t, ctx, s, State{Source: src, Run: "r1"}, StepVerify)
	st.Next = StepRollback
	if _, err := s.Do(ctx, st); err != nil {
		t.Fatal(err)
	}
	if n.canWrite(src, "x") {
		t.Error("rollback lifted a block the run did not set")
	}
	out, err := Run(ctx, s, State{Source: src, Run: "r2"})
	if err != nil {
		t.Fatal(err)
	}
	if n.canWrite(src, "y") || out.Status != StatusDone {
		t.Error("the copy of a write-blocked index accepts writes")
	}
}

// Rename-back failing after the source was deleted keeps the data (in the verified
// temporary) and points the source's name at it.
func TestRollbackAfterSourceDeletedKeepsData(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("rbfail")
	src := p + "-logs"
	n.seed(src, 70)
	n.addAliases(src, p+"-read", p+"-write")
	st := stepTo(t, ctx, s, State{Source: src, Mappings: longMapping, Mode: ModeRenameBack, Run: "r1"}, StepSwap)
	st = stepTo(t, ctx, s, st, StepStart) // source deleted, new index created, copy not started
	if st.Phase != PhaseBack || !n.exists(src) {
		t.Fatalf("phase %q", st.Phase)
	}
	st.Next = StepRollback
	for i := 0; i < 2; i++ {
		out, err := s.Do(ctx, st)
		if err != nil || out.Status != StatusRolledBack {
			t.Fatalf("rollback %d: %v %q", i, err, out.Status)
		}
	}
	if got := n.resolve(src); !slices.Equal(got, []string{st.Dest}) {
		t.Fatalf("%s resolves to %v, want the temporary %s", src, got, st.Dest)
	}
	if n.count(src) != 70 || !n.canWrite(src+"-write", "after") {
		t.Errorf("data not reachable and writable through the old names")
	}
	n.checkAliases(st.Dest, p+"-read", p+"-write")
}

func TestValidateRefusesExistingDestination(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("exists")
	src := p + "-logs"
	n.seed(src, 5)
	n.seed(src+"-r1", 5) // someone else's index under the name the copy would get
	_, err := s.Do(ctx, State{Step: StepValidate, Source: src, Run: "r1"})
	mustName(t, err, NotOurs)
	n.ok("POST", "/_aliases", map[string]any{"actions": []any{map[string]any{"add": map[string]any{"index": src, "alias": p + "-al"}}}})
	_, err = s.Do(ctx, State{Step: StepValidate, Source: src, Dest: p + "-al", Run: "r2"})
	mustName(t, err, NotOurs)
	// An index from another run of ours is not this run's either.
	st := stepTo(t, ctx, s, State{Source: src, Run: "r3"}, StepStart)
	_, err = s.Do(ctx, State{Step: StepValidate, Source: src, Dest: st.Dest, Run: "r4"})
	mustName(t, err, NotOurs)
	// Missing source, and an alias over several indices.
	_, err = s.Do(ctx, State{Source: p + "-missing", Dest: p + "-x", Run: "r5", Mode: ModeAlias, Step: StepPreflight})
	mustName(t, err, InvalidRequest)
	n.seed(p+"-b", 1)
	n.ok("POST", "/_aliases", map[string]any{"actions": []any{map[string]any{"add": map[string]any{"index": p + "-b", "alias": p + "-al"}}}})
	_, err = Run(ctx, s, State{Source: p + "-al", Run: "r6"})
	mustName(t, err, InvalidRequest)
	// A closed source.
	n.seed(p+"-closed", 1)
	n.ok("POST", "/"+p+"-closed/_close", nil)
	_, err = Run(ctx, s, State{Source: p + "-closed", Run: "r7"})
	mustName(t, err, InvalidRequest)
	if !strings.Contains(err.Error(), "closed") {
		t.Errorf("closed source: %v", err)
	}
}

// A second run on the same name reindexes the index the alias from the first run points at,
// and moves the alias (with the other aliases) again.
func TestRunTwiceThroughTheAlias(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	ctx := testCtx(t)
	p := n.names("twice")
	src := p + "-logs"
	n.seed(src, 33)
	n.addAliases(src, p+"-read", p+"-write")
	if _, err := Run(ctx, s, State{Source: src, Mappings: longMapping, Run: "r1"}); err != nil {
		t.Fatal(err)
	}
	st, err := Run(ctx, s, State{Source: src, Run: "r2", Settings: json.RawMessage(`{"index":{"number_of_shards":2}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if st.SourceIndex != src+"-r1" {
		t.Errorf("source_index = %q, want the first copy", st.SourceIndex)
	}
	if got := n.resolve(src); !slices.Equal(got, []string{src + "-r2"}) || n.exists(src+"-r1") {
		t.Errorf("%s resolves to %v; first copy still exists: %v", src, got, n.exists(src+"-r1"))
	}
	if n.count(src) != 33 || n.fieldType(src+"-r2", "n") != "long" || n.setting(src+"-r2", "index.number_of_shards") != "2" {
		t.Errorf("count %d, type %q, shards %q", n.count(src), n.fieldType(src+"-r2", "n"), n.setting(src+"-r2", "index.number_of_shards"))
	}
	n.checkAliases(src+"-r2", p+"-read", p+"-write")
}
