package execution_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/logferry/logferry/shared/esnode"
	"github.com/logferry/logferry/shared/execution"
	"github.com/logferry/logferry/shared/lambdaapi"
	"github.com/logferry/logferry/shared/reindexstep"
)

// definition is the one ASL file, deployed by infra/ and run here.
const definition = "../../infra/statemachine/reindex.asl.json"

var esURL string

func TestMain(m *testing.M) {
	url, stop := esnode.ForTests(m)
	esURL = url
	code := m.Run()
	stop()
	os.Exit(code)
}

// tools finds node 22 and aws-local-stepfunctions as `make sfn-tools` installs them.
func tools(t *testing.T) execution.Tools {
	t.Helper()
	if testing.Short() {
		t.Skip("needs node and Elasticsearch; not under -short")
	}
	dir := os.Getenv("LOGFERRY_SFN_DIR")
	if dir == "" {
		dir = "../../tmp/sfn"
	}
	tl, err := execution.FindTools(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// es is a test's handle on a real node.
type es struct {
	t   *testing.T
	url string
}

func newES(t *testing.T, url string) *es { return &es{t: t, url: url} }

func (e *es) call(method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	code, out, err := e.try(method, path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	return code, out
}

// try is call for any goroutine: a failed request is an error, not a test failure.
func (e *es) try(method, path string, body any) (int, map[string]any, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.url+path, r)
	req.Header.Set("Content-Type", "application/json")
	if s, ok := body.(string); ok && strings.HasSuffix(s, "\n") {
		req.Header.Set("Content-Type", "application/x-ndjson")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"_raw": string(raw)}
	}
	return res.StatusCode, out, nil
}

func (e *es) must(method, path string, body any) map[string]any {
	e.t.Helper()
	code, out := e.call(method, path, body)
	if code >= 300 {
		e.t.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	return out
}

var seq atomic.Int64

// prefix returns a unique index prefix for a test and deletes its indices afterwards.
func (e *es) prefix(tag string) string {
	p := fmt.Sprintf("sm-%s-%d-%d", tag, time.Now().UnixNano()%1e8, seq.Add(1))
	e.t.Cleanup(func() {
		e.call("DELETE", "/"+p+"*?expand_wildcards=all", nil)
		e.call("DELETE", "/logferry-lock-*?expand_wildcards=all", nil)
	})
	return p
}

// index creates name with a keyword "code" and a date @timestamp, holding n documents
// stamped at ts, and refreshes it.
func (e *es) index(name string, n int, ts time.Time, code func(i int) string) {
	e.t.Helper()
	e.must("PUT", "/"+name, map[string]any{
		"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0},
		"mappings": map[string]any{"properties": map[string]any{
			"@timestamp": map[string]any{"type": "date"}, "code": map[string]any{"type": "keyword"}}},
	})
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "{\"index\":{\"_id\":\"%d\"}}\n{\"@timestamp\":%q,\"code\":%q}\n", i, ts.UTC().Format(time.RFC3339), code(i))
	}
	if n > 0 {
		out := e.must("POST", "/"+name+"/_bulk?refresh=true", b.String())
		if out["errors"] == true {
			e.t.Fatalf("bulk into %s: %v", name, out)
		}
	}
}

func (e *es) count(name string) int {
	e.t.Helper()
	out := e.must("GET", "/"+name+"/_count", nil)
	return int(out["count"].(float64))
}

// indices lists the concrete indices (hidden too) matching pattern.
func (e *es) indices(pattern string) []string {
	e.t.Helper()
	code, out := e.call("GET", "/"+pattern+"?expand_wildcards=all", nil)
	if code == 404 {
		return nil
	}
	var names []string
	for n := range out {
		names = append(names, n)
	}
	return names
}

// writeBlocked tells whether index has a write block.
func (e *es) writeBlocked(name string) bool {
	e.t.Helper()
	out := e.must("GET", "/"+name+"/_settings?flat_settings=true", nil)
	for _, v := range out {
		s, _ := v.(map[string]any)["settings"].(map[string]any)
		if s["index.blocks.write"] == "true" {
			return true
		}
	}
	return false
}

// concrete is the index name resolves to, and whether name is an alias.
func (e *es) concrete(name string) (string, bool) {
	e.t.Helper()
	out := e.must("GET", "/"+name, nil)
	if len(out) != 1 {
		e.t.Fatalf("%s resolves to %d indices", name, len(out))
	}
	for n := range out {
		return n, n != name
	}
	return "", false
}

// fieldType is the mapping type of field in the index behind name.
func (e *es) fieldType(name, field string) string {
	e.t.Helper()
	out := e.must("GET", "/"+name+"/_mapping", nil)
	for _, v := range out {
		props, _ := v.(map[string]any)["mappings"].(map[string]any)["properties"].(map[string]any)
		f, _ := props[field].(map[string]any)
		s, _ := f["type"].(string)
		return s
	}
	return ""
}

// run is one local execution of the definition against url with the real handler.
type run struct {
	out     execution.Outcome
	tracker *execution.Tracker
	// maxActive is the most indices that were between their first step and their report
	// at once.
	maxActive int64
}

func runLocal(t *testing.T, ctx context.Context, url string, input any) run {
	t.Helper()
	return runLocalObserved(t, ctx, url, input, nil)
}

// runLocalObserved is runLocal with observe called on every result the function returns
// (the test's view of the execution's progress, with no sleep).
func runLocalObserved(t *testing.T, ctx context.Context, url string, input any, observe func(result []byte)) run {
	t.Helper()
	tl := tools(t)
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	var log *slog.Logger
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	env := map[string]string{"ES_URL": url, "REINDEX_POLL_SECONDS": "1"}
	h, err := reindexstep.NewWithOptions(context.Background(), func(k string) string { return env[k] }, reindexstep.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	act := &activity{inner: lambda.NewHandler(h.Invoke), active: map[string]bool{}, observe: observe}
	tr := execution.NewTracker()
	out, err := execution.RunLocal(ctx, execution.LocalConfig{
		Tools: tl, Definition: definition, Input: in, Function: act, Tracker: tr, Stderr: os.Stderr,
	})
	if err != nil {
		t.Fatalf("RunLocal: %v", err)
	}
	return run{out: out, tracker: tr, maxActive: act.max.Load()}
}

// activity counts the indices in progress at once, from the items the handler returns.
type activity struct {
	observe func(result []byte) // nil: none
	inner   lambdaapi.Handler
	mu      sync.Mutex
	active  map[string]bool
	max     atomic.Int64
}

func (a *activity) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	res, err := a.inner.Invoke(ctx, payload)
	if err == nil && a.observe != nil {
		a.observe(res)
	}
	var head struct {
		Step string `json:"step"`
	}
	_ = json.Unmarshal(payload, &head)
	if err == nil && (head.Step == "index" || head.Step == "index-rollback") {
		var it struct {
			Source string          `json:"source"`
			Report json.RawMessage `json:"report"`
		}
		_ = json.Unmarshal(res, &it)
		a.mu.Lock()
		a.active[it.Source] = it.Report == nil
		n := int64(0)
		for _, on := range a.active {
			if on {
				n++
			}
		}
		if n > a.max.Load() {
			a.max.Store(n)
		}
		a.mu.Unlock()
	}
	return res, err
}

// report is the execution's report: its output, or the summary a failed one produced.
func (r run) report(t *testing.T) map[string]map[string]any {
	t.Helper()
	rep := r.tracker.Report()
	if rep == nil {
		t.Fatalf("no report; execution %s %s: %s", r.out.Status, r.out.Error, r.out.Cause)
	}
	b, _ := json.Marshal(rep.Indices)
	var list []map[string]any
	_ = json.Unmarshal(b, &list)
	out := map[string]map[string]any{}
	for _, ix := range list {
		out[ix["source"].(string)] = ix
	}
	return out
}

func repoFile(p string) string { return filepath.Join("..", "..", p) }

func itoa(n int) string { return fmt.Sprint(n) }

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
