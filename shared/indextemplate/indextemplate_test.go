package indextemplate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/esnode"
)

var esURL string

func TestMain(m *testing.M) {
	url, stop := esnode.ForTests(m)
	esURL = url
	code := m.Run()
	stop()
	os.Exit(code)
}

const goldenDir = "../../testdata/golden"

// goldenDocs reads every document of every golden file, parse failures included (a
// file's closing {"_read_error":…} line is not a document).
func goldenDocs(t *testing.T) []map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.ndjson"))
	if err != nil || len(files) < 7 {
		t.Fatalf("golden files: %v (%d found)", err, len(files))
	}
	var docs []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var d map[string]any
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if _, ok := d["_read_error"]; ok {
				continue
			}
			docs = append(docs, d)
		}
	}
	return docs
}

// leaves collects the dotted paths of a document's values (arrays count as their field).
func leaves(prefix string, v any, into map[string]bool) {
	if m, ok := v.(map[string]any); ok {
		for k, c := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			leaves(p, c, into)
		}
		return
	}
	into[prefix] = true
}

// Every field of every golden document has a type in Fields (so none is left to dynamic
// mapping), and the template nests them without conflicts.
func TestFieldsCoverDocuments(t *testing.T) {
	typed := map[string]bool{}
	for _, f := range Fields {
		typed[f.Path] = true
	}
	seen := map[string]bool{}
	for _, d := range goldenDocs(t) {
		delete(d, "@metadata") // Logstash never indexes @metadata
		leaves("", d, seen)
	}
	var missing []string
	for p := range seen {
		if !typed[p] {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("fields written but not in the template: %s", strings.Join(missing, ", "))
	}
	if len(seen) < 80 {
		t.Errorf("only %d distinct fields in the golden documents: the fixtures lost coverage", len(seen))
	}
	if _, err := Template(Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestTemplateOptions(t *testing.T) {
	tm, err := Template(Options{Patterns: []string{"a-*", "b-*"}, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(tm["index_patterns"]); got != "[a-* b-*]" {
		t.Errorf("index_patterns = %s", got)
	}
	if m := tm["template"].(map[string]any)["mappings"].(map[string]any); m["dynamic"] != "strict" {
		t.Errorf("dynamic = %v, want strict", m["dynamic"])
	}
	if _, err := Template(Options{Patterns: []string{"bad pattern"}}); err == nil || !strings.Contains(err.Error(), `"bad pattern"`) {
		t.Errorf("bad pattern: err = %v", err)
	}
	if _, err := properties([]Field{{"a.b", "long"}, {"a", "long"}}); err == nil {
		t.Error("a field that is also an object was accepted")
	}
}

// es is a tiny client for the real node: one JSON request, the decoded answer.
func es(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		r, ctype = bytes.NewReader(b), "application/x-ndjson"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, esURL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	c := http.Client{Timeout: 60 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		t.Fatalf("%s %s: %d, not JSON: %.500s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func needNode(t *testing.T) {
	t.Helper()
	if esURL == "" {
		t.Skip("no Elasticsearch under -short")
	}
}

// install puts the template under a name unique to the test and removes it, and the
// indices it matched, afterwards.
func install(t *testing.T, o Options) {
	t.Helper()
	body, err := Template(o)
	if err != nil {
		t.Fatal(err)
	}
	if code, out := es(t, "PUT", "/_index_template/"+o.Name, body); code != 200 {
		t.Fatalf("installing the template: %d %v", code, out)
	}
	t.Cleanup(func() {
		for _, p := range o.Patterns {
			es(t, "DELETE", "/"+p+"?expand_wildcards=all", nil)
		}
		es(t, "DELETE", "/_index_template/"+o.Name, nil)
	})
}

func unique(tag string) string {
	return fmt.Sprintf("lft-%s-%d", tag, time.Now().UnixNano()%1e9)
}

// The proof: with the template installed and dynamic: strict (any field it does not map
// rejects the document), every golden document, parse failures included, indexes into
// the real node, and the typed fields answer the queries dashboards make of them.
func TestGoldenDocumentsIndexUnderStrictTemplate(t *testing.T) {
	needNode(t)
	prefix := unique("strict")
	install(t, Options{Name: prefix, Patterns: []string{prefix + "-*"}, Strict: true})
	index := prefix + "-2026.11.25" // the daily index Logstash's elb-logs-%{+YYYY.MM.dd} makes

	docs := goldenDocs(t)
	var bulk bytes.Buffer
	for _, d := range docs {
		meta := d["@metadata"].(map[string]any)
		delete(d, "@metadata") // as Logstash does: the id goes to _id, @metadata is never indexed
		action, _ := json.Marshal(map[string]any{"index": map[string]any{"_index": index, "_id": meta["_id"]}})
		src, _ := json.Marshal(d)
		bulk.Write(action)
		bulk.WriteByte('\n')
		bulk.Write(src)
		bulk.WriteByte('\n')
	}
	code, out := es(t, "POST", "/_bulk?refresh=true", bulk.Bytes())
	if code != 200 {
		t.Fatalf("_bulk: %d %v", code, out)
	}
	items := out["items"].([]any)
	if len(items) != len(docs) {
		t.Fatalf("_bulk answered %d items for %d documents", len(items), len(docs))
	}
	rejected := 0
	for i, it := range items {
		r := it.(map[string]any)["index"].(map[string]any)
		if s := r["status"].(float64); s != 201 && s != 200 {
			rejected++
			if rejected <= 5 {
				b, _ := json.Marshal(docs[i])
				t.Errorf("document %s rejected: %v\n%.600s", r["_id"], r["error"], b)
			}
		}
	}
	if rejected > 0 {
		t.Fatalf("%d of %d documents rejected", rejected, len(docs))
	}
	count := func(q map[string]any) int {
		t.Helper()
		code, out := es(t, "POST", "/"+index+"/_count", map[string]any{"query": q})
		if code != 200 {
			t.Fatalf("_count %v: %d %v", q, code, out)
		}
		return int(out["count"].(float64))
	}
	if n := count(map[string]any{"match_all": map[string]any{}}); n != len(docs) {
		t.Fatalf("index holds %d documents, want %d", n, len(docs))
	}

	// What the same questions answer when asked of the documents themselves.
	inPrefix := func(field, cidr string) int {
		p := netip.MustParsePrefix(cidr)
		n := 0
		for _, d := range docs {
			if v, ok := get(d, field).(string); ok && p.Contains(netip.MustParseAddr(v)) {
				n++
			}
		}
		return n
	}
	for _, q := range []struct{ field, cidr string }{
		{"source.ip", "192.168.0.0/16"}, {"source.ip", "2001:db8::/32"}, {"source.ip", "203.0.113.0/24"},
		{"client.ip", "192.0.2.0/24"}, {"client.ip", "2001:db8::/32"},
	} {
		want := inPrefix(q.field, q.cidr)
		if want == 0 {
			t.Errorf("no golden document has %s in %s: the query proves nothing", q.field, q.cidr)
		}
		if got := count(map[string]any{"term": map[string]any{q.field: q.cidr}}); got != want {
			t.Errorf("term %s: %s matched %d, want %d", q.field, q.cidr, got, want)
		}
	}

	from, to := "2026-11-25T11:59:00Z", "2026-11-25T11:59:30Z"
	tf, tt := time.Date(2026, 11, 25, 11, 59, 0, 0, time.UTC), time.Date(2026, 11, 25, 11, 59, 30, 0, time.UTC)
	want := 0
	for _, d := range docs {
		if s, ok := d["@timestamp"].(string); ok {
			ts, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatal(err)
			}
			if !ts.Before(tf) && ts.Before(tt) {
				want++
			}
		}
	}
	if want == 0 || want == len(docs) {
		t.Fatalf("range %s..%s selects %d of %d golden documents: pick a range that tells", from, to, want, len(docs))
	}
	if got := count(map[string]any{"range": map[string]any{"@timestamp": map[string]any{"gte": from, "lt": to}}}); got != want {
		t.Errorf("@timestamp range matched %d, want %d", got, want)
	}

	for _, field := range []string{"http.response.body.bytes", "source.bytes", "aws.elb.request_processing_time.sec",
		"aws.elb.connection_time.ms", "aws.elb.tls_handshake_latency", "http.response.status_code"} {
		var wantSum float64
		n := 0
		for _, d := range docs {
			if v, ok := get(d, field).(float64); ok {
				wantSum += v
				n++
			}
		}
		if n == 0 {
			t.Errorf("no golden document has %s", field)
			continue
		}
		code, out := es(t, "POST", "/"+index+"/_search", map[string]any{"size": 0,
			"aggs": map[string]any{"s": map[string]any{"sum": map[string]any{"field": field}}}})
		if code != 200 {
			t.Fatalf("sum %s: %d %v", field, code, out)
		}
		got := out["aggregations"].(map[string]any)["s"].(map[string]any)["value"].(float64)
		// float fields hold 32-bit floats: compare to their precision.
		if math.Abs(got-wantSum) > 1e-6*math.Max(1, math.Abs(wantSum)) {
			t.Errorf("sum of %s = %v, want %v (%d documents)", field, got, wantSum, n)
		}
	}

	// The mapping Elasticsearch holds is the template's, not one it guessed.
	_, mp := es(t, "GET", "/"+index+"/_mapping/field/source.ip,@timestamp,aws.elb.backend.port,event.end", nil)
	fm := mp[index].(map[string]any)["mappings"].(map[string]any)
	for field, typ := range map[string]string{"source.ip": "ip", "@timestamp": "date", "aws.elb.backend.port": "keyword", "event.end": "date"} {
		leaf := field[strings.LastIndexByte(field, '.')+1:]
		got := fm[field].(map[string]any)["mapping"].(map[string]any)[leaf].(map[string]any)["type"]
		if got != typ {
			t.Errorf("%s mapped as %v, want %s", field, got, typ)
		}
	}

	// And strict means strict: a field the template does not know is refused.
	code, out = es(t, "PUT", "/"+index+"/_doc/unknown", map[string]any{"aws": map[string]any{"elb": map[string]any{"future_field": "x"}}})
	if code != 400 || !strings.Contains(fmt.Sprint(out), "strict") {
		t.Errorf("unknown field under dynamic: strict: %d %v", code, out)
	}
}

// Without Strict, a field AWS adds later lands as keyword — not text plus a keyword
// sub-field, and not a date because it looks like one.
func TestNewFieldsMapToKeyword(t *testing.T) {
	needNode(t)
	prefix := unique("dyn")
	install(t, Options{Name: prefix, Patterns: []string{prefix + "-*"}})
	index := prefix + "-2026.11.25"
	doc := map[string]any{"@timestamp": "2026-11-25T12:00:00Z",
		"aws": map[string]any{"elb": map[string]any{"future_name": "a value", "future_time": "2026-11-25T12:00:00Z"}}}
	if code, out := es(t, "PUT", "/"+index+"/_doc/1?refresh=true", doc); code != 201 {
		t.Fatalf("index: %d %v", code, out)
	}
	_, mp := es(t, "GET", "/"+index+"/_mapping/field/aws.elb.future_name,aws.elb.future_time", nil)
	fm := mp[index].(map[string]any)["mappings"].(map[string]any)
	for _, field := range []string{"aws.elb.future_name", "aws.elb.future_time"} {
		f, ok := fm[field].(map[string]any)
		if !ok {
			t.Fatalf("%s not mapped: %v", field, fm)
		}
		m := f["mapping"].(map[string]any)[field[strings.LastIndexByte(field, '.')+1:]].(map[string]any)
		if m["type"] != "keyword" || m["fields"] != nil {
			t.Errorf("%s mapped as %v, want a plain keyword", field, m)
		}
	}
}

// get follows a dotted path through nested objects.
func get(d map[string]any, path string) any {
	var cur any = d
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}
