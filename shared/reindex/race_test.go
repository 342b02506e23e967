package reindex

import (
	"context"
	"net/http"
	"testing"
)

// A swap and a rollback of the same run at the same moment — a Step Functions task timeout
// shorter than the Lambda's starts rollback while the swap invocation still runs — must
// never lose both copies. Elasticsearch has no conditional delete, so each interleaving is
// made deterministic: one step is paused at its critical point (swap: copy verified, source
// not yet removed; rollback: indices read, destination not yet deleted) while the other
// runs to its end, then the paused step resumes. Afterwards one complete copy must be
// reachable under the source's name.
func TestSwapRollbackRace(t *testing.T) {
	t.Parallel()
	copies := []struct {
		name string
		mode Mode
		back bool // race the second (copy-back) swap of rename-back
	}{
		{"alias", ModeAlias, false},
		{"rename-back-copy", ModeRenameBack, false},
		{"rename-back-back", ModeRenameBack, true},
	}
	for _, c := range copies {
		for label, paused := range map[string]string{
			"swap-after-verify":    hookSwapVerified,
			"rollback-at-start":    hookRollbackStart,
			"rollback-after-check": hookRollbackChecked,
		} {
			t.Run(c.name+"/"+label, func(t *testing.T) {
				t.Parallel()
				n := needNode(t)
				plain := testSteps(t, n)
				ctx := context.Background()
				p := n.names("race")
				src := p + "-logs"
				const docs = 40
				n.seed(src, docs)
				st := stepTo(t, ctx, plain, State{Source: src, Mode: c.mode, Run: "r1"}, StepSwap)
				if c.back {
					out, err := plain.Do(ctx, st)
					if err != nil {
						t.Fatal(err)
					}
					st = stepTo(t, ctx, plain, out, StepSwap)
				}
				// What a Catch hands rollback: the swap's input, with the error.
				rb := st
				rb.Next, rb.Error = StepRollback, &CaughtError{Error: "States.Timeout"}

				hooked := testSteps(t, n)
				ran := false
				var swapOut, rbOut State
				var swapErr, rbErr error
				if paused == hookSwapVerified {
					hooked.testHook = func(point string) {
						if point == paused && !ran {
							ran = true
							rbOut, rbErr = plain.Do(ctx, rb)
						}
					}
					swapOut, swapErr = hooked.Do(ctx, st)
				} else {
					hooked.testHook = func(point string) {
						if point == paused && !ran {
							ran = true
							swapOut, swapErr = plain.Do(ctx, st)
						}
					}
					rbOut, rbErr = hooked.Do(ctx, rb)
				}
				if !ran {
					t.Fatal("the hook never ran: the race was not exercised")
				}
				t.Logf("swap: status %q, err %v", swapOut.Status, swapErr)
				t.Logf("rollback: status %q, err %v", rbOut.Status, rbErr)

				// The invariant: a complete copy is reachable under the source's name.
				if code, _ := n.call("POST", "/"+src+"/_refresh", nil); code == http.StatusNotFound {
					t.Fatalf("%s is gone and nothing answers to the name: both copies lost (left: %v)", src, n.resolve(p+"*"))
				}
				if got := n.count(src); got != docs {
					t.Fatalf("%s holds %d documents, want %d", src, got, docs)
				}

				// And each side reports what happened, so the workflow goes on correctly.
				if swapErr != nil {
					mustName(t, swapErr, PreemptedByRollback)
					if rbErr != nil || rbOut.Status != StatusRolledBack {
						t.Errorf("the swap was preempted, but rollback: %v, status %q", rbErr, rbOut.Status)
					}
					if !n.canWrite(src, "after-rollback") {
						t.Errorf("%s is still write-blocked after the rollback won", src)
					}
				} else if rbErr != nil {
					t.Errorf("the swap went through, and rollback failed: %v", rbErr)
				}
				// A rollback that finished leaves no lock index behind.
				if lock := st.lock(); rbErr == nil && n.exists(lock) && len(n.resolve(lock)) == 1 && n.resolve(lock)[0] == lock {
					t.Errorf("rollback left its lock index %s behind", lock)
				}
			})
		}
	}
}
