package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/esnode"
)

var esURL string

func TestMain(m *testing.M) {
	url, stop := esnode.ForTests(m)
	esURL = url
	code := m.Run()
	stop()
	os.Exit(code)
}

// The flags become exactly the execution input a user would paste into the console, with
// only what was given; bad values fail before anything runs, naming the flag's key.
func TestReindexInputFromFlags(t *testing.T) {
	dir := t.TempDir()
	mf := filepath.Join(dir, "m.json")
	os.WriteFile(mf, []byte(`{"properties":{"code":{"type":"long"}}}`), 0o644)
	f := reindexFlags{indices: []string{"logs-1", "logs-2"}, mappings: mf, swap: "rename-back", quiet: 0, maxConcurrency: 3,
		set: map[string]bool{"quiet-minutes": true, "max-concurrency": true}}
	in, err := f.input()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"indices":["logs-1","logs-2"],"mappings":{"properties":{"code":{"type":"long"}}},"swap":"rename-back","maxConcurrency":3,"quietMinutes":0}`
	if string(in) != want {
		t.Errorf("input\n%s\nwant\n%s", in, want)
	}
	e, _, errb := testEnv(nil)
	code := run(context.Background(), e, []string{"reindex", "--es", "http://127.0.0.1:1", "--pattern", "logs-*", "--index", "x", "--swap", "sideways"})
	if code != 2 || !strings.Contains(errb.String(), `not both`) || !strings.Contains(errb.String(), `swap: "sideways"`) {
		t.Errorf("exit %d, stderr %s", code, errb)
	}
}

// Ctrl-C (SIGINT) to logferry reindex while a copy runs: the copy is cancelled and rolled
// back — the source unblocked and intact, no partial copy left — before it exits 1.
func TestReindexSIGINTMidCopyRollsBack(t *testing.T) {
	if esURL == "" {
		t.Skip("needs Elasticsearch and node; not under -short")
	}
	bin := filepath.Join(t.TempDir(), "logferry")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	src := fmt.Sprintf("sigint-%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() { esCall(t, "DELETE", "/"+src+"*", "") })
	esCall(t, "PUT", "/"+src, `{"settings":{"number_of_shards":1,"number_of_replicas":0}}`)
	var bulk strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&bulk, "{\"index\":{}}\n{\"n\":%d}\n", i)
	}
	esCall(t, "POST", "/"+src+"/_bulk?refresh=true", bulk.String())

	cmd := exec.Command(bin, "reindex", "--es", esURL, "--index", src, "--requests-per-second", "100", "--quiet-minutes", "0",
		"--definition", "../../infra/statemachine/reindex.asl.json")
	cmd.Env = append(os.Environ(), "LOGFERRY_SFN_DIR=../../tmp/sfn")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(esCall(t, "GET", "/_tasks?actions=*reindex&detailed", ""), src); {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the copy never started\n%s", stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("still running 3 minutes after SIGINT\n%s", stderr.String())
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("exit %v, want 1", err)
	}
	if !strings.Contains(stdout.String(), "rolled_back") || !strings.Contains(stdout.String(), "Interrupted") {
		t.Errorf("report does not show the rollback:\n%s\n%s", stdout.String(), stderr.String())
	}
	if tasks := esCall(t, "GET", "/_tasks?actions=*reindex&detailed", ""); strings.Contains(tasks, src) {
		t.Errorf("a copy still runs: %s", tasks)
	}
	var idx map[string]any
	json.Unmarshal([]byte(esCall(t, "GET", "/"+src+"*?flat_settings=true", "")), &idx)
	if len(idx) != 1 || idx[src] == nil {
		t.Fatalf("indices after the interrupt: %v, want only %s", keys(idx), src)
	}
	if s := idx[src].(map[string]any)["settings"].(map[string]any); s["index.blocks.write"] == "true" {
		t.Errorf("%s is still write-blocked", src)
	}
	if c := esCall(t, "GET", "/"+src+"/_count", ""); !strings.Contains(c, `"count":3000`) {
		t.Errorf("count after the interrupt: %s", c)
	}
}

func esCall(t *testing.T, method, path, body string) string {
	t.Helper()
	req, _ := http.NewRequest(method, esURL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if strings.HasSuffix(body, "\n") {
		req.Header.Set("Content-Type", "application/x-ndjson")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func keys(m map[string]any) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}
