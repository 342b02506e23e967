package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

// TestInvokeIngestEventFiles runs every events/ingest-*.json through `logferry invoke`
// against the S3 tree in testdata/s3 and the Logstash stand-in.
func TestInvokeIngestEventFiles(t *testing.T) {
	files, _ := filepath.Glob("../../events/ingest-*.json")
	if len(files) < 5 {
		t.Fatalf("want the ingest sample events, found %q", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ls := logstashtest.New(t, logstashtest.Options{})
			e, out, errb := testEnv(map[string]string{"LOGSTASH_URL": ls.URL})
			code := run(context.Background(), e, []string{"invoke", "-s3-dir", "../../testdata/s3", "ingest", f})
			if code != 0 {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errb)
			}
			var resp map[string]any
			if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
				t.Fatalf("response %q: %v", out, err)
			}
			if strings.Contains(out.String(), `"error"`) {
				t.Fatalf("response reports an error: %s", out)
			}
			if !strings.Contains(f, "testfile") && len(ls.Docs()) == 0 {
				t.Fatalf("nothing shipped: %s", out)
			}
			if strings.Contains(f, "continuation") {
				// Only the lines from the continuation's offset on are shipped.
				var ev struct {
					C struct {
						Key    string
						Offset int64
					} `json:"logferry_continuation"`
				}
				b, _ := os.ReadFile(f)
				json.Unmarshal(b, &ev)
				obj, err := os.ReadFile(filepath.Join("../../testdata/s3/elb-logs", ev.C.Key))
				if err != nil || ev.C.Offset == 0 {
					t.Fatalf("continuation event names %+v: %v", ev.C, err)
				}
				if want := strings.Count(string(obj[ev.C.Offset:]), "\n"); len(ls.Docs()) != want {
					t.Fatalf("continuation shipped %d documents, want the %d lines after offset %d", len(ls.Docs()), want, ev.C.Offset)
				}
			}
		})
	}
}

func TestInvokeReportsErrorsAsLambdaDoes(t *testing.T) {
	ls := logstashtest.New(t, logstashtest.Options{})
	e, out, _ := testEnv(map[string]string{"LOGSTASH_URL": ls.URL})
	e.Stdin = strings.NewReader(`{"detail-type":"Object Deleted","source":"aws.s3","detail":{}}`)
	if code := run(context.Background(), e, []string{"invoke", "ingest", "-"}); code != 1 {
		t.Fatalf("exit %d", code)
	}
	var le struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(out.Bytes(), &le); err != nil || le.ErrorType == "" || !strings.Contains(le.ErrorMessage, "Object Deleted") {
		t.Fatalf("output %q (%v)", out, err)
	}
	e, _, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"invoke", "nosuch", "x.json"}); code != 2 || !strings.Contains(errb.String(), "unknown function") {
		t.Fatalf("exit %d: %s", code, errb)
	}
}
