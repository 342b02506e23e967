package ingestevent

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/escape"
)

// hostile is 1 MB (the bound does not depend on the size) of what a terminal would act on: colour, clear screen, CR, LF.
var hostile = strings.Repeat("\x1b[31m\x1b[2J\r\nX", 1<<20/12)

// assertShortAndInert fails when text is long or holds a raw control character.
func assertShortAndInert(t *testing.T, what, text string, max int) {
	t.Helper()
	if len(text) > max {
		t.Errorf("%s is %d bytes (> %d): %.200q…", what, len(text), max, text)
	}
	if !escape.IsInert(text) {
		t.Errorf("%s holds a raw control character: %.200q", what, text)
	}
}

func TestOutputMalformedEventQuotedShort(t *testing.T) {
	r := newRig(t, time.Now)
	var logs bytes.Buffer
	r.h.deps.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	for name, event := range map[string]string{
		"continuation": `{"logferry_continuation":{"bucket":"b","key":` + q(hostile) + `,"offset":-1}}`,
		"eventbridge":  `{"detail-type":` + q(hostile) + `,"source":` + q(hostile) + `}`,
		"s3 record":    `{"Records":[{"eventSource":` + q(hostile) + `}]}`,
		"bad key":      `{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":` + q("%zz"+hostile) + `}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			logs.Reset()
			out, err := r.invoke(t, context.Background(), []byte(event))
			if err == nil {
				t.Fatalf("accepted: %.200s", out)
			}
			assertShortAndInert(t, "the error", err.Error(), 512)
			assertShortAndInert(t, "the log", logs.String(), 2048)
			assertShortAndInert(t, "the response", string(out), 2048)
		})
	}
	t.Run("sqs body", func(t *testing.T) {
		logs.Reset()
		body := `{"logferry_continuation":{"bucket":"b","key":` + q(hostile) + `,"offset":-1}}`
		out, err := r.invoke(t, context.Background(), sqsEvent([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		assertShortAndInert(t, "the log", logs.String(), 2048)
		if !strings.Contains(string(out), "msg-0") {
			t.Errorf("the message is not reported failed: %s", out)
		}
	})
}

// An object name is quoted escaped, and once, in the error Lambda reports.
func TestOutputObjectNamesEscapedOnce(t *testing.T) {
	r := newRig(t, time.Now)
	key := "AWSLogs/x/\x1b]0;owned\x07\r\nFAKE.log.gz"
	_, err := r.invoke(t, context.Background(), s3Event(key))
	if err == nil {
		t.Fatal("a missing object: want an error")
	}
	msg := err.Error()
	assertShortAndInert(t, "the error", msg, 1024)
	if strings.ContainsAny(msg, "\x07\n") {
		t.Errorf("raw BEL or LF in %q", msg)
	}
	esc := `AWSLogs/x/\x1b]0;owned\a\r\nFAKE.log.gz`
	if n := strings.Count(msg, esc); n != 1 {
		t.Errorf("the escaped name appears %d times, want once: %s", n, msg)
	}
}

// encoding/json quotes a number it cannot store whole; the event decoding cuts it short.
func TestOutputHugeNumberInEventQuotedShort(t *testing.T) {
	huge := strings.Repeat("9", 1<<20)
	for name, event := range map[string]string{
		"continuation": `{"logferry_continuation":{"bucket":"b","key":"k","offset":` + huge + `}}`,
		"s3 record":    `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":` + huge + `}}}]}`,
		"eventbridge":  `{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"k","size":` + huge + `}}}`,
	} {
		_, err := objectsIn([]byte(event))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		assertShortAndInert(t, name+": the error", err.Error(), 512)
	}
}
