package esnode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

// esURL is the node shared by the API tests: ES_URL, or one started by TestMain.
var esURL string

func TestMain(m *testing.M) {
	if os.Getenv(orphanHelperEnv) != "" {
		orphanHelper()
		return
	}
	url, stop := ForTests(m)
	esURL = url
	code := m.Run()
	stop()
	os.Exit(code)
}

func needNode(t *testing.T) *elasticsearch.Client {
	t.Helper()
	if esURL == "" {
		t.Skip("no Elasticsearch under -short")
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL}})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return es
}

// call performs one request through the go-elasticsearch transport and decodes the JSON body.
func call(t *testing.T, es *elasticsearch.Client, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := es.Perform(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, out
}

func mustOK(t *testing.T, es *elasticsearch.Client, method, path string, body any) map[string]any {
	t.Helper()
	code, out := call(t, es, method, path, body)
	if code/100 != 2 {
		t.Fatalf("%s %s: HTTP %d: %v", method, path, code, out)
	}
	return out
}

// uniq gives each test its own index names, so the suite can run against a shared cluster.
func uniq(t *testing.T, name string) string {
	n := fmt.Sprintf("esnode-test-%s-%d", name, time.Now().UnixNano())
	t.Cleanup(func() {
		if es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL}}); err == nil {
			if resp, err := es.Indices.Delete([]string{n}); err == nil {
				resp.Body.Close()
			}
		}
	})
	return n
}

func count(t *testing.T, es *elasticsearch.Client, index string) int {
	t.Helper()
	out := mustOK(t, es, "GET", "/"+index+"/_count", nil)
	return int(out["count"].(float64))
}

func seed(t *testing.T, es *elasticsearch.Client, index string, n int) {
	t.Helper()
	mustOK(t, es, "PUT", "/"+index, map[string]any{
		"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0},
		"mappings": map[string]any{"properties": map[string]any{
			"message": map[string]any{"type": "text"},
			"n":       map[string]any{"type": "long"},
		}},
	})
	var bulk bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&bulk, "{\"index\":{\"_id\":\"%d\"}}\n{\"message\":\"doc %d\",\"n\":%d}\n", i, i, i)
	}
	resp, err := es.Bulk(&bulk, es.Bulk.WithIndex(index), es.Bulk.WithRefresh("true"))
	if err != nil {
		t.Fatalf("bulk: %v", err)
	}
	defer resp.Body.Close()
	var br struct{ Errors bool }
	if err := json.NewDecoder(resp.Body).Decode(&br); err != nil || resp.IsError() || br.Errors {
		t.Fatalf("bulk: %s errors=%v decode=%v", resp.Status(), br.Errors, err)
	}
}

func TestRootAnswersAsElasticsearch717(t *testing.T) {
	if esURL == "" {
		t.Skip("no Elasticsearch under -short")
	}
	resp, err := http.Get(esURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("X-Elastic-Product"); got != "Elasticsearch" {
		t.Errorf("X-Elastic-Product = %q, want Elasticsearch", got)
	}
	var info struct {
		Version struct{ Number string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if os.Getenv(EnvURL) == "" && !strings.HasPrefix(info.Version.Number, "7.17.") {
		t.Errorf("version = %q, want 7.17.x", info.Version.Number)
	}
}

func TestGoElasticsearchV8ClientPassesProductCheck(t *testing.T) {
	es := needNode(t)
	resp, err := es.Info()
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	defer resp.Body.Close()
	if resp.IsError() {
		t.Fatalf("Info: %s", resp.Status())
	}
	h := mustOK(t, es, "GET", "/_cluster/health", nil)
	if s := h["status"]; s != "green" && s != "yellow" {
		t.Errorf("health status = %v", s)
	}
}

func TestReindexAsyncTaskCompletes(t *testing.T) {
	es := needNode(t)
	src, dst := uniq(t, "src"), uniq(t, "dst")
	seed(t, es, src, 250)
	out := mustOK(t, es, "POST", "/_reindex?wait_for_completion=false&slices=1", map[string]any{
		"source": map[string]any{"index": src, "size": 100},
		"dest":   map[string]any{"index": dst},
	})
	task, _ := out["task"].(string)
	if task == "" {
		t.Fatalf("_reindex returned no task: %v", out)
	}
	deadline := time.Now().Add(30 * time.Second)
	var st map[string]any
	for {
		st = mustOK(t, es, "GET", "/_tasks/"+task, nil)
		if st["completed"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s not completed after 30s: %v", task, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r, _ := st["response"].(map[string]any)
	if r["created"] != float64(250) || len(r["failures"].([]any)) != 0 {
		t.Errorf("task response = %v, want 250 created and no failures", r)
	}
	mustOK(t, es, "POST", "/"+dst+"/_refresh", nil)
	if got := count(t, es, dst); got != 250 {
		t.Errorf("count(%s) = %d, want 250", dst, got)
	}
}

func TestWriteBlockRejectsWrites(t *testing.T) {
	es := needNode(t)
	idx := uniq(t, "blocked")
	seed(t, es, idx, 3)
	out := mustOK(t, es, "PUT", "/"+idx+"/_block/write", nil)
	if out["acknowledged"] != true {
		t.Fatalf("_block/write: %v", out)
	}
	code, resp := call(t, es, "PUT", "/"+idx+"/_doc/new", map[string]any{"message": "late"})
	if code != http.StatusForbidden || !strings.Contains(fmt.Sprint(resp["error"]), "cluster_block_exception") {
		t.Errorf("write to blocked index: HTTP %d %v, want 403 cluster_block_exception", code, resp)
	}
	// Reads still work while blocked: that is what makes the block safe during a reindex.
	if got := count(t, es, idx); got != 3 {
		t.Errorf("count while blocked = %d, want 3", got)
	}
	mustOK(t, es, "PUT", "/"+idx+"/_settings", map[string]any{"index.blocks.write": false})
	mustOK(t, es, "PUT", "/"+idx+"/_doc/new?refresh=true", map[string]any{"message": "after unblock"})
	if got := count(t, es, idx); got != 4 {
		t.Errorf("count after unblock = %d, want 4", got)
	}
}

func TestAliasSwapIsAtomic(t *testing.T) {
	es := needNode(t)
	a, b, alias := uniq(t, "a"), uniq(t, "b"), uniq(t, "alias")
	seed(t, es, a, 2)
	seed(t, es, b, 5)
	mustOK(t, es, "POST", "/_aliases", map[string]any{"actions": []any{
		map[string]any{"add": map[string]any{"index": a, "alias": alias, "is_write_index": true}},
	}})
	if got := count(t, es, alias); got != 2 {
		t.Fatalf("count(alias→a) = %d, want 2", got)
	}
	mustOK(t, es, "POST", "/_aliases", map[string]any{"actions": []any{
		map[string]any{"remove": map[string]any{"index": a, "alias": alias}},
		map[string]any{"add": map[string]any{"index": b, "alias": alias, "is_write_index": true}},
	}})
	if got := count(t, es, alias); got != 5 {
		t.Errorf("count(alias→b) = %d, want 5", got)
	}
	out := mustOK(t, es, "GET", "/_alias/"+alias, nil)
	if _, ok := out[b]; !ok || len(out) != 1 {
		t.Errorf("alias %s points at %v, want only %s", alias, out, b)
	}
}

func TestIndexTemplateApplies(t *testing.T) {
	es := needNode(t)
	prefix := fmt.Sprintf("esnode-tpl-%d", time.Now().UnixNano())
	tpl := prefix + "-template"
	t.Cleanup(func() {
		call(t, es, "DELETE", "/_index_template/"+tpl, nil)
		call(t, es, "DELETE", "/"+prefix+"-*", nil)
	})
	mustOK(t, es, "PUT", "/_index_template/"+tpl, map[string]any{
		"index_patterns": []string{prefix + "-*"},
		"template": map[string]any{
			"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0},
			"mappings": map[string]any{"properties": map[string]any{
				"source.ip":  map[string]any{"type": "ip"},
				"@timestamp": map[string]any{"type": "date"},
			}},
		},
	})
	idx := prefix + "-logs"
	mustOK(t, es, "PUT", "/"+idx+"/_doc/1?refresh=true", map[string]any{"@timestamp": "2026-01-01T00:00:00Z", "source": map[string]any{"ip": "10.0.0.1"}})
	m := mustOK(t, es, "GET", "/"+idx+"/_mapping/field/source.ip", nil)
	got := fmt.Sprint(m)
	if !strings.Contains(got, "type:ip") {
		t.Errorf("source.ip mapping = %s, want type ip from the template", got)
	}
	// An ip field rejects a non-ip value: proof the template's mapping is live, not dynamic text.
	code, _ := call(t, es, "PUT", "/"+idx+"/_doc/2", map[string]any{"source": map[string]any{"ip": "not-an-ip"}})
	if code != http.StatusBadRequest {
		t.Errorf("indexing a bad ip: HTTP %d, want 400", code)
	}
}

func TestStopRemovesDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	dir := t.TempDir()
	n, err := Start(context.Background(), Options{Dir: dir, Heap: "256m"})
	if err != nil {
		t.Fatal(err)
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{n.URL}})
	if err != nil {
		t.Fatal(err)
	}
	seed(t, es, "kept-until-stop", 1)
	if _, err := os.Stat(n.DataDir()); err != nil {
		t.Fatalf("data dir while running: %v", err)
	}
	pid := n.PID()
	if err := n.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(n.DataDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir after Stop: %v, want not exist", err)
	}
	if isLauncher(pid) {
		t.Errorf("JVM %d still running after Stop", pid)
	}
	if err := n.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestDetachedNodeAttachAndStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	dir := t.TempDir()
	n, err := Start(context.Background(), Options{Dir: dir, Heap: "256m", Detach: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	a, err := Attach(context.Background(), dir)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	if a.URL != n.URL || a.PID() != n.PID() {
		t.Errorf("Attach = %s pid %d, want %s pid %d", a.URL, a.PID(), n.URL, n.PID())
	}
	if err := a.Stop(); err != nil {
		t.Fatalf("Stop via Attach: %v", err)
	}
	if isLauncher(n.PID()) {
		t.Errorf("JVM %d still running", n.PID())
	}
	if _, err := os.Stat(filepath.Join(dir, dataSub)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir after Stop: %v", err)
	}
	if _, err := Attach(context.Background(), dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Attach after Stop: %v, want os.ErrNotExist", err)
	}
}

const orphanHelperEnv = "ESNODE_ORPHAN_HELPER"

// orphanHelper runs in a child test binary: it starts a node, reports it, and waits to be killed.
func orphanHelper() {
	n, err := Start(context.Background(), Options{Heap: "256m"})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Printf("NODE %d %s\n", n.PID(), n.Dir())
	select {}
}

func TestKilledParentLeavesNoOrphanJVM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), orphanHelperEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := readLine(out)
	if err != nil || !strings.HasPrefix(line, "NODE ") {
		_ = cmd.Process.Kill()
		t.Fatalf("helper said %q (%v)", line, err)
	}
	f := strings.Fields(line)
	pid, _ := strconv.Atoi(f[1])
	dir := f[2]
	if !isLauncher(pid) {
		t.Fatalf("JVM %d not running before the kill", pid)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL) // no deferred Stop can run
	_ = cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for isLauncher(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("JVM %d outlived its killed parent by 30s", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ephemeral dir %s after parent kill: %v, want removed by the JVM's shutdown hook", dir, err)
		os.RemoveAll(dir)
	}
}

// readLine reads one line byte by byte (the pipe stays open; no buffering past the newline).
func readLine(r io.Reader) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		if _, err := r.Read(one); err != nil {
			return string(b), err
		}
		if one[0] == '\n' {
			return string(b), nil
		}
		b = append(b, one[0])
	}
}

func TestStartReportsMissingTools(t *testing.T) {
	_, err := Start(context.Background(), Options{Java: "/nonexistent/java", LauncherDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "pom.xml") {
		t.Errorf("missing launcher dir: err = %v, want it to name pom.xml", err)
	}

	// A launcher project that is not built, with no Maven: the error must say to install Maven.
	dir := t.TempDir()
	pom, err := os.ReadFile(filepath.Join("launcher", "pom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pom.xml"), pom, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err = Start(context.Background(), Options{Java: "/usr/bin/true", LauncherDir: dir})
	if err == nil || !strings.Contains(err.Error(), "mvn is not on PATH") {
		t.Errorf("no mvn: err = %v, want it to say mvn is not on PATH", err)
	}
	t.Setenv("JAVA_HOME", "")
	_, err = Start(context.Background(), Options{LauncherDir: dir})
	if err == nil || !strings.Contains(err.Error(), "java not found") {
		t.Errorf("no java: err = %v, want it to say java not found", err)
	}
}

func TestStartReportsJVMFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	// An impossible heap makes the JVM exit at once: Start must say so and include the log.
	_, err := Start(context.Background(), Options{Heap: "1k"})
	if err == nil || !strings.Contains(err.Error(), "JVM exited") || !strings.Contains(err.Error(), "esnode.log") {
		t.Errorf("err = %v, want 'JVM exited' with the log tail", err)
	}
}

// TestReindexSafetyFeatures covers the rest of what shared/reindex relies on
// (spec/reindex-safety.md): copy-time settings, slices=auto, throttling and _rethrottle,
// conflicts=proceed with op_type=create into a partial destination, and _cat/count.
func TestReindexSafetyFeatures(t *testing.T) {
	es := needNode(t)
	src, dst := uniq(t, "safe-src"), uniq(t, "safe-dst")
	seed(t, es, src, 200)
	mustOK(t, es, "PUT", "/"+dst, map[string]any{"settings": map[string]any{
		"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1",
	}})
	// A partial destination from an earlier failed attempt.
	mustOK(t, es, "PUT", "/"+dst+"/_doc/7", map[string]any{"message": "doc 7", "n": 7})

	// Throttled to 1 request/s with batches of 10: without the rethrottle this takes ~200 s.
	out := mustOK(t, es, "POST", "/_reindex?wait_for_completion=false&slices=auto&requests_per_second=1", map[string]any{
		"source":    map[string]any{"index": src, "size": 10},
		"dest":      map[string]any{"index": dst, "op_type": "create"},
		"conflicts": "proceed",
	})
	task := out["task"].(string)
	mustOK(t, es, "POST", "/_reindex/"+task+"/_rethrottle?requests_per_second=-1", nil)
	var st map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st = mustOK(t, es, "GET", "/_tasks/"+task, nil)
		if st["completed"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rethrottled task %s not done in 30s: %v", task, st)
		}
	}
	r := st["response"].(map[string]any)
	if r["created"] != float64(199) || r["version_conflicts"] != float64(1) || len(r["failures"].([]any)) != 0 {
		t.Errorf("response = created %v conflicts %v failures %v, want 199, 1, none", r["created"], r["version_conflicts"], r["failures"])
	}
	mustOK(t, es, "PUT", "/"+dst+"/_settings", map[string]any{"index": map[string]any{"refresh_interval": nil}})
	mustOK(t, es, "POST", "/"+dst+"/_refresh", nil)
	code, _ := call(t, es, "GET", "/_cat/count/"+dst+"?format=json", nil)
	if code != http.StatusOK {
		t.Errorf("_cat/count: HTTP %d", code)
	}
	if got := count(t, es, dst); got != 200 {
		t.Errorf("count(%s) = %d, want 200", dst, got)
	}
}
