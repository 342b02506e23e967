package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/escape"
	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

// assertInertOutput fails when what a terminal would be shown is long or acts on it.
func assertInertOutput(t *testing.T, what string, b []byte, max int) {
	t.Helper()
	if len(b) > max {
		t.Errorf("%s is %d bytes (> %d): %.200q…", what, len(b), max, b)
	}
	if !escape.IsInert(string(b)) {
		t.Errorf("%s holds a raw control character: %.300q", what, b)
	}
}

func TestOutputInvokeCapsTheEvent(t *testing.T) {
	ls := logstashtest.New(t, logstashtest.Options{})
	e, out, errb := testEnv(map[string]string{"LOGSTASH_URL": ls.URL})
	e.Stdin = bytes.NewReader(bytes.Repeat([]byte(" "), maxEventBytes+1))
	if code := run(context.Background(), e, []string{"invoke", "ingest", "-"}); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(errb.String(), "larger than 6 MiB") {
		t.Errorf("stderr %q: want the cap named", errb)
	}
	assertInertOutput(t, "stdout+stderr", append(out.Bytes(), errb.Bytes()...), 512)

	big := filepath.Join(t.TempDir(), "big.json")
	os.WriteFile(big, bytes.Repeat([]byte(" "), maxEventBytes+1), 0o600)
	e, _, errb = testEnv(map[string]string{"LOGSTASH_URL": ls.URL})
	if code := run(context.Background(), e, []string{"invoke", "ingest", big}); code != 1 || !strings.Contains(errb.String(), "larger than 6 MiB") {
		t.Errorf("an event file over the cap: exit %d, stderr %q", code, errb)
	}
}

func TestOutputInvokeQuotesAMalformedEventShort(t *testing.T) {
	ls := logstashtest.New(t, logstashtest.Options{})
	e, out, errb := testEnv(map[string]string{"LOGSTASH_URL": ls.URL})
	key := strings.Repeat(`\u001b[2J\r\n`, 4<<20/16) // 4 MB of JSON, under the cap
	e.Stdin = strings.NewReader(`{"logferry_continuation":{"bucket":"b","key":"` + key + `","offset":-1}}`)
	if code := run(context.Background(), e, []string{"invoke", "ingest", "-"}); code != 1 {
		t.Fatalf("exit %d, want 1; stderr %.300s", code, errb)
	}
	if !strings.Contains(out.String(), "continuation without bucket, key or a valid offset") {
		t.Errorf("stdout %.300q: want the reason", out)
	}
	assertInertOutput(t, "stdout+stderr", append(out.Bytes(), errb.Bytes()...), 1024)
}

func TestOutputReplayListsNamesEscaped(t *testing.T) {
	dir := t.TempDir()
	dl, err := logstash.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = dl.Put(context.Background(), logstash.FailedBatch{
		Docs: [][]byte{replayDoc(0)}, Source: logstash.Source{Bucket: "elb", Key: "k\x1b[2J.log"},
		Status: 400, Err: "logstash answered 400: \x1b]0;owned\x07\r\nforged line", Attempts: 1, Time: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	// A file someone else put there, named to act on the terminal.
	os.WriteFile(filepath.Join(dir, "\x1b[31mevil\r\n"+logstash.Ext), []byte("not gzip"), 0o600)

	e, out, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"replay", "--dry-run", dir}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	assertInertOutput(t, "stdout+stderr", append(out.Bytes(), errb.Bytes()...), 2048)
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("%d lines for 2 batches (a forged line got through?):\n%s", n, out)
	}
	if !strings.Contains(out.String(), `\x1b[31mevil\r\n`) || !strings.Contains(out.String(), `\x1b]0;owned\a\r\nforged line`) {
		t.Errorf("names or errors not shown escaped:\n%s", out)
	}

	// Sending them: the kept batch is named once, escaped.
	ls := logstashtest.New(t, logstashtest.Options{})
	e, out, errb = testEnv(nil)
	if code := run(context.Background(), e, []string{"replay", dir, "--to", ls.URL}); code != 1 {
		t.Fatalf("exit %d, want 1 (one batch is unreadable): %s", code, errb)
	}
	assertInertOutput(t, "stdout+stderr", append(out.Bytes(), errb.Bytes()...), 2048)
	if n := strings.Count(errb.String(), "evil"); n != 1 {
		t.Errorf("the unreadable batch is named %d times, want once:\n%s", n, errb)
	}
}
