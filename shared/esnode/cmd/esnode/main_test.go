package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpDownIdempotent drives the same code `make es-up` / `make es-down` run.
func TestUpDownIdempotent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	ctx := context.Background()
	dir := t.TempDir()
	up := func() string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(ctx, []string{"up", "-dir", dir, "-heap", "256m"}, &out, &errb); err != nil {
			t.Fatalf("up: %v\n%s", err, errb.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		return lines[len(lines)-1]
	}
	down := func() {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(ctx, []string{"down", "-dir", dir}, &out, &errb); err != nil {
			t.Fatalf("down: %v\n%s", err, errb.String())
		}
	}
	t.Cleanup(down)

	first := up()
	if !strings.HasPrefix(first, "http://127.0.0.1:") {
		t.Fatalf("up printed %q as its last line, want the node URL", first)
	}
	if second := up(); second != first {
		t.Errorf("second up = %q, want the running node %q", second, first)
	}
	down()
	if _, err := os.Stat(filepath.Join(dir, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data after down: %v, want removed", err)
	}
	down() // nothing running: still succeeds

	if err := run(ctx, []string{"sideways"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("unknown subcommand: err = %v, want usage", err)
	}
}
