package execution_test

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/esnode"
)

// The node is stopped and started again (same data directory, same port) while a copy
// runs: the task is gone (TaskLost), the index is rolled back intact, and the next
// execution succeeds. The test has a node of its own: the shared one serves other packages.
func TestNodeRestartMidCopyRollsBack(t *testing.T) {
	tools(t)
	dir := t.TempDir()
	first, err := esnode.Start(context.Background(), esnode.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(first.URL)
	port, _ := strconv.Atoi(u.Port())
	e := newES(t, first.URL)
	src := "restart-2026.10.01"
	e.index(src, 3000, old(), func(int) string { return "3" })

	// Throttled so the copy is still running when the node goes down. The node is killed
	// only once the execution holds the copy's task id, i.e. after the start step has
	// returned: a kill while start is in flight would lose its answer, and the retried start
	// would rightly begin a new copy (which verifies and swaps) instead of meeting TaskLost.
	type result struct{ r run }
	done := make(chan result, 1)
	started := make(chan struct{})
	var once sync.Once
	observe := func(res []byte) {
		var it struct {
			State *struct {
				TaskID string `json:"task_id"`
			} `json:"state"`
		}
		if json.Unmarshal(res, &it) == nil && it.State != nil && it.State.TaskID != "" {
			once.Do(func() { close(started) })
		}
	}
	go func() {
		done <- result{runLocalObserved(t, context.Background(), first.URL, map[string]any{"indices": []string{src}, "requestsPerSecond": 100, "quietMinutes": 0}, observe)}
	}()
	select {
	case <-started:
	case <-time.After(2 * time.Minute):
		t.Fatal("the copy never started")
	}
	if !copyRunning(e) {
		t.Fatal("the execution holds a task id but no copy runs")
	}
	// A crash, not a shutdown: the node gets no chance to finish anything.
	if err := syscall.Kill(first.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); portOpen(u.Host); {
		if time.Now().After(deadline) {
			t.Fatal("the killed node still answers")
		}
		time.Sleep(100 * time.Millisecond)
	}
	second, err := esnode.Start(context.Background(), esnode.Options{Dir: dir, HTTPPort: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Stop() })
	e.must("GET", "/_cluster/health/"+src+"?wait_for_status=green&timeout=60s", nil)

	res := <-done
	rep := res.r.report(t)[src]
	if res.r.out.Status != "FAILED" || rep["outcome"] != "rolled_back" || rep["error"] != "TaskLost" {
		t.Fatalf("execution %+v, report %v: want the index rolled back after TaskLost", res.r.out, rep)
	}
	if c, alias := e.concrete(src); alias || c != src || e.count(src) != 3000 || e.writeBlocked(src) {
		t.Fatalf("after rollback %s resolves to %s (alias %v), %d documents, blocked %v", src, c, alias, e.count(src), e.writeBlocked(src))
	}
	if left := e.indices(src + "-*"); len(left) > 0 {
		t.Fatalf("rollback left %v", left)
	}

	again := runLocal(t, context.Background(), second.URL, map[string]any{"indices": []string{src}, "quietMinutes": 0})
	if again.out.Status != "SUCCEEDED" || again.report(t)[src]["outcome"] != "swapped" || e.count(src) != 3000 {
		t.Fatalf("the next execution: %+v", again.out)
	}
}

func copyRunning(e *es) bool {
	code, out := e.call("GET", "/_tasks?actions=*reindex&detailed", nil)
	if code != 200 {
		return false
	}
	nodes, _ := out["nodes"].(map[string]any)
	for _, n := range nodes {
		if tasks, _ := n.(map[string]any)["tasks"].(map[string]any); len(tasks) > 0 {
			return true
		}
	}
	return false
}

func portOpen(hostport string) bool {
	c, err := net.DialTimeout("tcp", hostport, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
