package demo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/demo"
	"github.com/logferry/logferry/shared/esnode"
	"github.com/logferry/logferry/shared/motoserver"
)

var esURL, motoURL string

func TestMain(m *testing.M) {
	var stopES, stopMoto func()
	esURL, stopES = esnode.ForTests(m)
	motoURL, stopMoto = motoserver.ForTests(m)
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	stopMoto()
	stopES()
	os.Exit(code)
}

// binaries builds what `make demo` builds, once per test binary: the logferry command and
// the ingest function for this machine.
func binaries(t *testing.T) (logferry, bootstrap string) {
	t.Helper()
	build.Do(func() {
		dir, err := os.MkdirTemp("", "demo-test-bin-")
		if err != nil {
			build.err = err
			return
		}
		build.dir = dir
		build.logferry, build.bootstrap = filepath.Join(dir, "logferry"), filepath.Join(dir, "ingest", "bootstrap")
		for _, b := range [][]string{
			{"build", "-o", build.logferry, "github.com/logferry/logferry/cmd/logferry"},
			{"build", "-tags", "lambda.norpc", "-o", build.bootstrap, "github.com/logferry/logferry/functions/ingest"},
		} {
			if out, err := exec.Command("go", b...).CombinedOutput(); err != nil {
				build.err = fmt.Errorf("go %s: %v\n%s", strings.Join(b, " "), err, out)
				return
			}
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.logferry, build.bootstrap
}

var build struct {
	sync.Once
	dir, logferry, bootstrap string
	err                      error
}

func servers(t *testing.T) {
	if esURL == "" || motoURL == "" {
		t.Skip("needs Elasticsearch and moto (not under -short)")
	}
}

// dropIndices removes what a demo run with this name suffix left in the shared node.
func dropIndices(t *testing.T, suffix string) {
	t.Cleanup(func() {
		tag := strings.TrimPrefix(suffix, "-")
		for _, path := range []string{"/" + tag + "-elb-logs-*", "/_index_template/logferry-" + tag + "-elb-logs"} {
			req, _ := http.NewRequest(http.MethodDelete, esURL+path, nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	})
}

// The demo's own code on a small data set (3 days × 4 objects × ~30 lines), sharing the
// suite's Elasticsearch node and moto server under names of its own: every check passes,
// the counts add up, and nothing it started is left running.
func TestDemoSmallDataSet(t *testing.T) {
	servers(t)
	logferry, bootstrap := binaries(t)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	suffix := fmt.Sprintf("-t%d", os.Getpid())
	dropIndices(t, suffix)
	rep, err := demo.Run(ctx, demo.Config{
		Logferry: logferry, IngestBootstrap: bootstrap, Days: 3, ObjectsPerDay: 4, LinesPerObject: 30,
		ESURL: esURL, MotoURL: motoURL, NameSuffix: suffix, Out: &out,
		WorkDir: "../..", // the repository: the state machine definition and tmp/sfn
	})
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("failed checks: %q", rep.Failed())
	}
	if rep.Objects != 12 || rep.Lines < 12*21 || rep.Lines > 12*39 {
		t.Errorf("objects, lines = %d, %d; want 12 objects of 21..39 lines", rep.Objects, rep.Lines)
	}
	if rep.Documents != rep.Lines || rep.Duplicates != 0 || rep.Missing != 0 || rep.Failures != 0 {
		t.Errorf("documents %d for %d lines, %d duplicates, %d missing, %d failures; want one document per line and nothing else",
			rep.Documents, rep.Lines, rep.Duplicates, rep.Missing, rep.Failures)
	}
	if rep.Redelivered <= 0 {
		t.Errorf("redelivered = %d, want the re-delivered object's lines", rep.Redelivered)
	}
	if len(rep.Stages) != 11 {
		t.Errorf("%d stages timed, want 11", len(rep.Stages))
	}
	for _, want := range []string{"NOT Logstash", "==> summary", "demo passed", "stopped the ingest function's environments", "stopped the Logstash stand-in"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	noChildrenLeft(t, logferry, bootstrap)
}

// A function that cannot start leaves every message on the queue: the demo says which
// checks failed (Report.OK is false, so `logferry demo` exits 1) and still stops everything.
func TestDemoReportsFailedChecks(t *testing.T) {
	servers(t)
	logferry, _ := binaries(t)
	broken := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\necho 'init failed on purpose' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dropIndices(t, fmt.Sprintf("-f%d", os.Getpid()))
	rep, err := demo.Run(ctx, demo.Config{
		Logferry: logferry, IngestBootstrap: broken, Days: 1, ObjectsPerDay: 4, LinesPerObject: 10,
		ESURL: esURL, MotoURL: motoURL, NameSuffix: fmt.Sprintf("-f%d", os.Getpid()), Out: &out,
	})
	t.Logf("demo output:\n%s", out.String())
	if err == nil && rep.OK() {
		t.Fatal("a demo whose function cannot start passed")
	}
	if rep != nil && rep.Documents != 0 {
		t.Errorf("documents = %d, want none", rep.Documents)
	}
	if !strings.Contains(out.String(), "demo FAILED") || !strings.Contains(out.String(), "[FAIL] ingest: no failures") {
		t.Errorf("output does not say the ingest failed")
	}
	noChildrenLeft(t, broken)
}

// noChildrenLeft fails if a process running one of exes is still a child of this one.
func noChildrenLeft(t *testing.T, exes ...string) {
	t.Helper()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", os.Getpid()))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, pid := range strings.Fields(string(b)) {
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			for _, exe := range exes {
				if strings.Contains(string(cmdline), exe) {
					t.Errorf("process %s (%s) is still running", pid, strings.ReplaceAll(string(cmdline), "\x00", " "))
				}
			}
		}
	}
}

// Ctrl-C while the function is shipping: Run returns the context's error, says what it
// stopped, and no process it started is left.
func TestDemoStopsEverythingWhenInterrupted(t *testing.T) {
	servers(t)
	logferry, bootstrap := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	out := &cancelOn{marker: "execution environments", cancel: cancel}
	dropIndices(t, fmt.Sprintf("-i%d", os.Getpid()))
	_, err := demo.Run(ctx, demo.Config{
		Logferry: logferry, IngestBootstrap: bootstrap, Days: 3, ObjectsPerDay: 4, LinesPerObject: 30,
		ESURL: esURL, MotoURL: motoURL, NameSuffix: fmt.Sprintf("-i%d", os.Getpid()), Out: out,
	})
	t.Logf("demo output:\n%s", out.String())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if !strings.Contains(out.String(), "stopped the ingest function's environments") {
		t.Error("output does not say the function was stopped")
	}
	noChildrenLeft(t, logferry, bootstrap)
}

// cancelOn cancels once marker has been written (as Ctrl-C at that point would).
type cancelOn struct {
	marker string
	cancel func()
	buf    bytes.Buffer
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.marker) {
		c.cancel()
	}
	return len(p), nil
}

func (c *cancelOn) String() string { return c.buf.String() }
