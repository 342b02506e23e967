package reindex

import (
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
				ctx := testCtx(t)
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
				// Whoever takes the lock first wins: the swap only when it ran before rollback began.
				if swapWins := paused == hookRollbackStart; swapWins != (swapErr == nil) {
					t.Errorf("swap won: %v, want %v", swapErr == nil, swapWins)
				}
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

// The lock's life: a finished run leaves no lock, neither the swap's alias nor an index; a
// run left unfinished after its swap does not hand its lock alias on to the next run's
// copy; a rollback finds the lock index a failed rollback left, adopts it and releases it;
// and an index under the lock's name that this run did not create stops rollback before
// it deletes anything.
func TestLockLifecycle(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeAlias, ModeRenameBack} {
		t.Run("finished-"+string(mode), func(t *testing.T) {
			n := needNode(t)
			s := testSteps(t, n)
			p := n.names("lockdone")
			src := p + "-logs"
			n.seed(src, 12)
			out, err := Run(testCtx(t), s, State{Source: src, Mode: mode, Run: "r1"})
			if err != nil {
				t.Fatal(err)
			}
			for _, lock := range []string{lockName("r1", src, out.Dest), lockName("r1", out.Dest, src)} {
				if got := n.resolve(lock); len(got) > 0 {
					t.Errorf("lock %s still resolves to %v after the run finished", lock, got)
				}
			}
		})
	}

	t.Run("unfinished-run-then-another", func(t *testing.T) {
		n := needNode(t)
		s := testSteps(t, n)
		ctx := testCtx(t)
		p := n.names("lockagain")
		src := p + "-logs"
		n.seed(src, 9)
		st := stepTo(t, ctx, s, State{Source: src, Run: "r1"}, StepCleanup) // swapped, never cleaned up
		lock := lockName("r1", src, st.Dest)
		if got := n.resolve(lock); len(got) != 1 || got[0] != st.Dest {
			t.Fatalf("the swap's lock %s resolves to %v, want %s", lock, got, st.Dest)
		}
		out, err := Run(ctx, s, State{Source: src, Run: "r2"})
		if err != nil {
			t.Fatal(err)
		}
		if got := n.resolve(lock); len(got) > 0 {
			t.Errorf("run r1's lock %s was carried on to %v", lock, got)
		}
		if n.count(src) != 9 || n.resolve(src)[0] != out.Dest {
			t.Errorf("%s resolves to %v, want %s with 9 documents", src, n.resolve(src), out.Dest)
		}
	})

	t.Run("rollback-adopts-a-left-lock", func(t *testing.T) {
		n := needNode(t)
		s := testSteps(t, n)
		ctx := testCtx(t)
		p := n.names("lockleft")
		src := p + "-logs"
		n.seed(src, 15)
		st := stepTo(t, ctx, s, State{Source: src, Run: "r1"}, StepSwap)
		// A rollback that failed half-way left its lock: the swap must not go through.
		if c, err := s.claimLock(ctx, &st); err != nil || c != claimHeld {
			t.Fatalf("claim: %v, %v", c, err)
		}
		_, err := s.Do(ctx, st)
		mustName(t, err, PreemptedByRollback)
		if got := n.resolve(src); len(got) != 1 || got[0] != src {
			t.Fatalf("%s resolves to %v after a preempted swap", src, got)
		}
		rb := st
		rb.Next = StepRollback
		out, err := s.Do(ctx, rb)
		if err != nil || out.Status != StatusRolledBack {
			t.Fatalf("rollback: %v, status %q", err, out.Status)
		}
		if n.exists(st.lock()) || n.exists(st.Dest) || n.count(src) != 15 || !n.canWrite(src, "after") {
			t.Errorf("after rollback: lock exists %v, copy exists %v, %d documents",
				n.exists(st.lock()), n.exists(st.Dest), n.count(src))
		}
	})

	t.Run("foreign-index-under-the-lock-name", func(t *testing.T) {
		n := needNode(t)
		s := testSteps(t, n)
		ctx := testCtx(t)
		p := n.names("lockforeign")
		src := p + "-logs"
		n.seed(src, 6)
		st := stepTo(t, ctx, s, State{Source: src, Run: "r1"}, StepSwap)
		lock := st.lock()
		n.ok("PUT", "/"+lock, map[string]any{"settings": map[string]any{"number_of_replicas": 0}})
		t.Cleanup(func() { n.call("DELETE", "/"+lock, nil) })
		rb := st
		rb.Next = StepRollback
		_, err := s.Do(ctx, rb)
		mustName(t, err, NotOurs)
		if !n.exists(lock) || !n.exists(st.Dest) || n.count(src) != 6 {
			t.Errorf("rollback acted despite a foreign lock: lock %v, copy %v, %d documents", n.exists(lock), n.exists(st.Dest), n.count(src))
		}
	})
}
