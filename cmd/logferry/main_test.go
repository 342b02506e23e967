package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// testEnv returns an env with captured output and the given environment variables.
func testEnv(vars map[string]string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{
		Stdin:  strings.NewReader(""),
		Stdout: &out,
		Stderr: &errb,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Getenv: func(k string) string { return vars[k] },
	}, &out, &errb
}

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		to   string
		pos  string
	}{
		{[]string{"a", "--to", "u", "b"}, "u", "a,b"},
		{[]string{"-to=u", "a"}, "u", "a"},
		{[]string{"a", "b"}, "", "a,b"},
		{[]string{"--to", "u", "--", "-weird-file", "--to"}, "u", "-weird-file,--to"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		to := fs.String("to", "", "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || *to != tc.to || strings.Join(pos, ",") != tc.pos {
			t.Errorf("%q: to=%q pos=%q err=%v", tc.args, *to, pos, err)
		}
	}
}

func TestUnknownCommandAndUsage(t *testing.T) {
	e, _, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"frobnicate"}); code != 2 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Fatalf("code %d, stderr %q", code, errb)
	}
	e, _, errb = testEnv(nil)
	if code := run(context.Background(), e, nil); code != 2 || !strings.Contains(errb.String(), "usage: logferry") {
		t.Fatalf("code %d, stderr %q", code, errb)
	}
}
