package ingestevent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

// TestEventCannotReadLocalFiles: whoever can put a message on the queue controls the
// event. An object without a bucket must never be read as a path on the function's
// machine (/proc/self/environ holds its credentials): every event shape that can carry
// one is rejected, naming what was wrong, and nothing of the file reaches the error, the
// log, the response or Logstash.
func TestEventCannotReadLocalFiles(t *testing.T) {
	const secret = "AWS_SECRET_ACCESS_KEY=do-not-leak"
	path := filepath.Join(t.TempDir(), "environ")
	if err := os.WriteFile(path, []byte(secret+" 2026-11-25T12:00:00.000000Z x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s3rec := fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":%q}}}]}`, path)
	cases := map[string]struct {
		event string
		want  string // in the error or the log
	}{
		"S3 record without bucket": {s3rec, "record 0 (ObjectCreated:Put) has no bucket name"},
		"continuation without bucket": {fmt.Sprintf(`{"logferry_continuation":{"bucket":"","key":%q,"offset":0}}`, path),
			"continuation without bucket"},
		"EventBridge without bucket": {fmt.Sprintf(`{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":""},"object":{"key":%q}}}`, path),
			"EventBridge event without bucket"},
		"SNS in SQS without bucket": {string(sqsEvent(mustJSON(t, map[string]string{"Type": "Notification", "Message": s3rec}))), "has no bucket name"},
		"SQS without bucket":        {string(sqsEvent([]byte(s3rec))), "record 0 (ObjectCreated:Put) has no bucket name"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, nil)
			var logs bytes.Buffer
			r.h.deps.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			out, err := r.invoke(t, context.Background(), []byte(tc.event))
			all := fmt.Sprint(err) + string(out) + logs.String()
			if strings.Contains(all, "do-not-leak") || strings.Contains(all, "AWS_SECRET") {
				t.Fatalf("the file's content escaped: %s", all)
			}
			if !strings.Contains(all, tc.want) {
				t.Fatalf("want %q named; got error %v, response %s, log %s", tc.want, err, out, logs.String())
			}
			if strings.HasPrefix(tc.event, `{"Records":[{"messageId"`) {
				var resp events.SQSEventResponse
				json.Unmarshal(out, &resp)
				if len(resp.BatchItemFailures) != 1 {
					t.Fatalf("SQS response %s; want the message failed (to its DLQ)", out)
				}
			} else if err == nil {
				t.Fatalf("event accepted: %s", out)
			}
			if n := len(r.ls.Requests()); n != 0 {
				t.Fatalf("%d requests reached Logstash", n)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A wrong password stops the invocation at the first refusal: the rest of the batch is
// not read, every message is handed back for redelivery, and nothing is dead-lettered
// (S3 holds the data).
func TestUnauthorizedStopsTheInvocation(t *testing.T) {
	r := newRig(t, nil)
	ls := logstashtest.New(t, logstashtest.Options{Username: "shipper", Password: "right"})
	dir := t.TempDir()
	dl, _ := logstash.NewDir(dir)
	cfg, _ := config.LoadIngest(func(k string) string {
		return map[string]string{"LOGSTASH_URL": ls.URL, "LOGSTASH_BATCH_DOCS": "100"}[k]
	})
	h, err := NewWithDeps(cfg, Deps{S3: r.s3.Client, SQS: r.sqs, Credentials: config.Credentials{Username: "shipper", Password: "wrong"},
		DeadLetter: dl, Logger: slog.New(slog.DiscardHandler), Metrics: r.metrics})
	if err != nil {
		t.Fatal(err)
	}
	var bodies [][]byte
	for i := range 3 {
		key := strings.Replace(albKey, "2x8y", fmt.Sprintf("u%03d", i), 1)
		obj, _ := albObject(t, 1000)
		r.s3.Put(t, bucket, key, obj)
		bodies = append(bodies, s3Event(key))
	}
	resp, err := h.Handle(context.Background(), sqsEvent(bodies...))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.(events.SQSEventResponse).BatchItemFailures; len(got) != 3 {
		t.Fatalf("failures %v; want all three messages redelivered", got)
	}
	if c := ls.StatusCounts(); c[401] == 0 || c[401] > 3 || len(ls.Requests()) != c[401] {
		t.Fatalf("statuses %v; want a few refused requests from the first object alone", c)
	}
	if names, _ := dl.List(context.Background()); len(names) != 0 {
		t.Fatalf("%d dead letters written for refused documents", len(names))
	}
}

// The same refusal on the paths without SQS: an S3 notification of three objects and an
// EventBridge event fail the invocation (Lambda retries an asynchronous event; S3 holds the
// data), the objects after the refused one are not started, and nothing is dead-lettered.
func TestUnauthorizedStopsDirectEvents(t *testing.T) {
	r := newRig(t, nil)
	ls := logstashtest.New(t, logstashtest.Options{Username: "shipper", Password: "right"})
	dl, _ := logstash.NewDir(t.TempDir())
	cfg, _ := config.LoadIngest(func(k string) string {
		return map[string]string{"LOGSTASH_URL": ls.URL, "LOGSTASH_BATCH_DOCS": "100"}[k]
	})
	h, err := NewWithDeps(cfg, Deps{S3: r.s3.Client, SQS: r.sqs, Credentials: config.Credentials{Username: "shipper", Password: "wrong"},
		DeadLetter: dl, Logger: slog.New(slog.DiscardHandler), Metrics: r.metrics})
	if err != nil {
		t.Fatal(err)
	}
	var records []string
	var keys []string
	for i := range 3 {
		key := strings.Replace(albKey, "2x8y", fmt.Sprintf("d%03d", i), 1)
		obj, _ := albObject(t, 1000)
		r.s3.Put(t, bucket, key, obj)
		keys = append(keys, key)
		rec := string(s3Event(key))
		records = append(records, rec[len(`{"Records":[`):len(rec)-len(`]}`)])
	}
	s3Notification := []byte(`{"Records":[` + strings.Join(records, ",") + `]}`)
	eventBridge := []byte(fmt.Sprintf(`{"version":"0","id":"1","detail-type":"Object Created","source":"aws.s3","account":"123456789012","time":"2026-11-25T12:05:00Z","region":"eu-west-1","resources":["arn:aws:s3:::elb-logs"],"detail":{"version":"0","bucket":{"name":%q},"object":{"key":%q,"size":1},"reason":"PutObject"}}`,
		bucket, url.QueryEscape(keys[0])))
	for name, tc := range map[string]struct {
		event      []byte
		notStarted int
	}{"s3 notification": {s3Notification, 2}, "eventbridge": {eventBridge, 0}} {
		t.Run(name, func(t *testing.T) {
			before := len(ls.Requests())
			out, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), tc.event)
			if err == nil || !strings.Contains(err.Error(), "will be retried") {
				t.Fatalf("invocation returned %s, %v; want it failed, to be retried", out, err)
			}
			if got := strings.Count(err.Error(), bucket+"/"); got != 1+tc.notStarted {
				t.Errorf("error names %d objects, want %d: %v", got, 1+tc.notStarted, err)
			}
			sent := len(ls.Requests()) - before
			if c := ls.StatusCounts(); sent == 0 || sent > 3 || c[401] != len(ls.Requests()) {
				t.Fatalf("%d requests, statuses %v; want a few refused requests from the first object alone", sent, c)
			}
			if names, _ := dl.List(context.Background()); len(names) != 0 {
				t.Fatalf("%d dead letters written for refused documents", len(names))
			}
		})
	}
}

// Every object of an invocation, and of the next warm invocation, shares one HTTP client:
// ten objects open no more connections than one object's requests in flight.
func TestObjectsShareConnections(t *testing.T) {
	r := newRig(t, nil)
	var bodies [][]byte
	for i := range 10 {
		key := strings.Replace(albKey, "2x8y", fmt.Sprintf("c%03d", i), 1)
		obj, _ := albObject(t, 150)
		r.s3.Put(t, bucket, key, obj)
		bodies = append(bodies, s3Event(key))
	}
	for _, half := range [][][]byte{bodies[:5], bodies[5:]} { // two warm invocations
		out, err := r.h.Handle(context.Background(), sqsEvent(half...))
		if err != nil || len(out.(events.SQSEventResponse).BatchItemFailures) != 0 {
			t.Fatalf("%v, %v", out, err)
		}
	}
	if n := len(r.ls.Docs()); n != 1500 {
		t.Fatalf("%d documents, want 1500", n)
	}
	// LOGSTASH_BATCH_DOCS 100: 2 requests per object, 20 in all, at most 3 in flight.
	if c := r.ls.Connections(); c > 3 {
		t.Fatalf("%d connections for 10 objects; want them reused (at most the 3 workers')", c)
	}
}
