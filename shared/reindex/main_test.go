package reindex

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/logferry/logferry/shared/esnode"
)

// esURL is the real node: ES_URL, or one TestMain started. "" under -short.
var esURL string

func TestMain(m *testing.M) {
	url, stop := esnode.ForTests(m)
	esURL = url
	code := m.Run()
	stop()
	os.Exit(code)
}

// node is a test's handle on the real Elasticsearch node.
type node struct {
	t  *testing.T
	es *elasticsearch.Client
}

func needNode(t *testing.T) *node {
	t.Helper()
	if esURL == "" {
		t.Skip("no Elasticsearch under -short")
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL}})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return &node{t: t, es: es}
}

func testSteps(t *testing.T, n *node) *Steps {
	var log *slog.Logger
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return New(n.es, Config{Logger: log, PollInterval: 100 * time.Millisecond, CancelTimeout: 20 * time.Second})
}

var seq atomic.Int64

// names returns a unique prefix for a test's indices and deletes them all afterwards.
func (n *node) names(tag string) string {
	p := fmt.Sprintf("rx-%s-%d-%d", tag, time.Now().UnixNano()%1e9, seq.Add(1))
	n.t.Cleanup(func() {
		n.call("DELETE", "/"+p+"*?expand_wildcards=all", nil)
		n.call("DELETE", "/_index_template/"+p, nil)
	})
	return p
}

// call performs one request and decodes the JSON body.
func (n *node) call(method, path string, body any) (int, map[string]any) {
	n.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			n.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, path, r)
	if err != nil {
		n.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := n.es.Perform(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			n.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, out
}

func (n *node) ok(method, path string, body any) map[string]any {
	n.t.Helper()
	code, out := n.call(method, path, body)
	if code/100 != 2 {
		n.t.Fatalf("%s %s: HTTP %d: %v", method, path, code, out)
	}
	return out
}

func (n *node) exists(index string) bool {
	n.t.Helper()
	code, _ := n.call("HEAD", "/"+index, nil)
	return code == http.StatusOK
}

func (n *node) count(index string) int64 {
	n.t.Helper()
	n.ok("POST", "/"+index+"/_refresh", nil)
	return int64(n.ok("GET", "/"+index+"/_count", nil)["count"].(float64))
}

// seed creates index with a keyword field "n" and writes docs: "0", "1", ... plus extra.
func (n *node) seed(index string, docs int, extra ...string) {
	n.t.Helper()
	n.ok("PUT", "/"+index, map[string]any{
		"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "7s"},
		"mappings": map[string]any{"properties": map[string]any{
			"n":   map[string]any{"type": "keyword"},
			"msg": map[string]any{"type": "text"},
		}},
	})
	var bulk bytes.Buffer
	for i := 0; i < docs; i++ {
		fmt.Fprintf(&bulk, "{\"index\":{\"_id\":\"d%d\"}}\n{\"n\":\"%d\",\"msg\":\"doc %d\"}\n", i, i, i)
	}
	for i, v := range extra {
		fmt.Fprintf(&bulk, "{\"index\":{\"_id\":\"x%d\"}}\n{\"n\":%q}\n", i, v)
	}
	resp, err := n.es.Bulk(&bulk, n.es.Bulk.WithIndex(index), n.es.Bulk.WithRefresh("true"))
	if err != nil {
		n.t.Fatalf("bulk: %v", err)
	}
	defer resp.Body.Close()
	var br struct{ Errors bool }
	if err := json.NewDecoder(resp.Body).Decode(&br); err != nil || resp.IsError() || br.Errors {
		n.t.Fatalf("bulk: %s errors=%v decode=%v", resp.Status(), br.Errors, err)
	}
}

// fieldType is the mapping type of field in index.
func (n *node) fieldType(index, field string) string {
	n.t.Helper()
	out := n.ok("GET", "/"+index+"/_mapping", nil)
	for _, v := range out {
		props := v.(map[string]any)["mappings"].(map[string]any)["properties"].(map[string]any)
		if f, ok := props[field].(map[string]any); ok {
			return f["type"].(string)
		}
	}
	return ""
}

// resolve lists the concrete indices behind name.
func (n *node) resolve(name string) []string {
	n.t.Helper()
	code, out := n.call("GET", "/"+name+"/_settings", nil)
	if code == http.StatusNotFound {
		return nil
	}
	var names []string
	for k := range out {
		names = append(names, k)
	}
	return names
}

func (n *node) setting(index, key string) string {
	n.t.Helper()
	out := n.ok("GET", "/"+index+"/_settings?flat_settings=true", nil)
	for _, v := range out {
		if s, ok := v.(map[string]any)["settings"].(map[string]any)[key].(string); ok {
			return s
		}
	}
	return ""
}

// canWrite tells whether a document write to index is accepted; a refusal must be the
// write block.
func (n *node) canWrite(index, id string) bool {
	n.t.Helper()
	code, out := n.call("PUT", "/"+index+"/_doc/"+id, map[string]any{"n": "1"})
	if code/100 == 2 {
		return true
	}
	if code != http.StatusForbidden || !strings.Contains(fmt.Sprint(out), "cluster_block_exception") {
		n.t.Fatalf("write to %s: HTTP %d %v, want success or a write block", index, code, out)
	}
	return false
}

func mustName(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s", want)
	}
	if got := ErrorName(err); got != want {
		t.Fatalf("ErrorName = %s (%v), want %s", got, err, want)
	}
}

// stepTo runs steps from st until Next is stop (not running it), polling check.
func stepTo(t *testing.T, ctx context.Context, s *Steps, st State, stop Step) State {
	t.Helper()
	if st.Next == "" && st.Step == "" {
		st.Step = StepValidate
	}
	pace := newPoll(t, "steps up to "+string(stop))
	for st.Next != stop || st.Step != "" {
		if st.Next == "" && st.Step == "" {
			t.Fatalf("workflow finished before %s: %+v", stop, st)
		}
		var err error
		if st, err = s.Do(ctx, st); err != nil {
			t.Fatalf("step before %s: %v", stop, err)
		}
		if st.Status == StatusRunning {
			pace.pause()
		}
	}
	return st
}

// pollTimeout is how long a test waits for Elasticsearch to finish something (a copy, a
// cancelled task) before it fails; the slowest copy in these tests takes a few seconds.
const pollTimeout = 2 * time.Minute

// poll paces a loop that asks Elasticsearch again until something is done, and fails the
// test once the loop has run past pollTimeout: every polling loop has a deadline.
type poll struct {
	t    *testing.T
	what string
	end  time.Time
}

func newPoll(t *testing.T, what string) *poll {
	return &poll{t: t, what: what, end: time.Now().Add(pollTimeout)}
}

// pause fails the test past the deadline; otherwise it waits a moment before the next ask.
func (p *poll) pause() {
	p.t.Helper()
	if time.Now().After(p.end) {
		p.t.Fatalf("%s: not done after %s", p.what, pollTimeout)
	}
	time.Sleep(50 * time.Millisecond)
}

// waitFor asks cond until it holds, failing the test after pollTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	p := newPoll(t, what)
	for !cond() {
		p.pause()
	}
}

// testCtx is the deadline of a test against the node: every step, Run and its polling of a
// copy end by then (and rollback's own minute after it), however the copy goes.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
