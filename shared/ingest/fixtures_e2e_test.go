package ingest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/logferry/logferry/shared/logstash/logstashtest"
	"github.com/logferry/logferry/shared/s3test"
)

// TestFixturesThroughS3 serves testdata/s3 from the in-process S3 server and ships every
// object through Run into the Logstash stand-in. What Logstash received must be exactly
// the documents in testdata/golden, which `logferry parse` produces from the same bytes.
func TestFixturesThroughS3(t *testing.T) {
	r := &rig{s3: s3test.New(t)}
	root := "../../testdata/s3"
	if err := r.s3.LoadDir(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	keys := r.s3.List(t, bucket, "")
	if len(keys) < 8 {
		t.Fatalf("testdata/s3/%s holds only %d objects", bucket, len(keys))
	}
	for _, key := range keys {
		t.Run(path.Base(key), func(t *testing.T) {
			r.ls = logstashtest.New(t, logstashtest.Options{})
			res, err := Run(context.Background(), Object{Bucket: bucket, Key: key}, r.config())
			switch {
			case strings.HasSuffix(key, "ELBAccessLogTestFile"):
				if err != nil || !res.Skipped {
					t.Fatalf("test file: %+v, %v", res, err)
				}
				return
			case strings.HasSuffix(key, ".csv"):
				if !errors.Is(err, ErrNotLog) || len(r.ls.Docs()) != 0 {
					t.Fatalf("not a log: err %v, %d documents shipped", err, len(r.ls.Docs()))
				}
				return
			}
			want, readErr := golden(t, filepath.Join("../../testdata/golden", path.Base(key)+".ndjson"))
			if (readErr != "") != (err != nil) || (err != nil && !IsPermanent(err)) {
				t.Fatalf("Run error %v; golden read error %q", err, readErr)
			}
			got := r.ls.Docs()
			if len(got) != len(want) || res.Documents != int64(len(want)) {
				t.Fatalf("Logstash holds %d documents (Run counted %d), golden has %d", len(got), res.Documents, len(want))
			}
			for id, w := range want {
				raw, ok := got[id]
				if !ok {
					t.Fatalf("document %s never arrived", id)
				}
				var g map[string]any
				if err := json.Unmarshal(raw, &g); err != nil {
					t.Fatal(err)
				}
				// Golden files abbreviate an event.original over 4 KiB to its length and hash.
				if ev, _ := w["event"].(map[string]any); ev != nil {
					if o, _ := ev["original"].(string); strings.HasPrefix(o, "<elided: ") {
						delete(ev, "original")
						delete(g["event"].(map[string]any), "original")
					}
				}
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("document %s differs from the golden file:\n got  %.2000s\n want %.2000v", id, raw, w)
				}
			}
		})
	}
}

// golden reads a golden file: documents by id, and the read error it ends with, if any.
func golden(t *testing.T, name string) (map[string]map[string]any, string) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	docs := map[string]map[string]any{}
	var readErr string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d map[string]any
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e, ok := d["_read_error"].(string); ok {
			readErr = e
			continue
		}
		id := d["@metadata"].(map[string]any)["_id"].(string)
		docs[id] = d
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return docs, readErr
}
