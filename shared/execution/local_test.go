package execution_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

var newMappings = map[string]any{"properties": map[string]any{
	"@timestamp": map[string]any{"type": "date"}, "code": map[string]any{"type": "long"}}}

func old() time.Time { return time.Now().Add(-48 * time.Hour) }

// Six indices, two at a time, into mappings where "code" becomes a long. One index holds a
// code that is no number, so its copy fails: it is rolled back and intact, the five others
// are swapped with equal counts and the new mapping, and the execution fails naming it.
func TestBatchMaxConcurrencyTwoOneCopyFails(t *testing.T) {
	tools(t)
	e := newES(t, esURL)
	p := e.prefix("batch")
	bad := p + "-2026.10.03"
	for d := 1; d <= 6; d++ {
		name := p + "-2026.10.0" + string(rune('0'+d))
		e.index(name, 200+d, old(), func(i int) string {
			if name == bad && i == 150 {
				return "not-a-number"
			}
			return "200"
		})
	}
	r := runLocal(t, context.Background(), esURL, map[string]any{
		"pattern": p + "-2026.10.*", "mappings": newMappings, "maxConcurrency": 2,
	})
	if r.out.Status != "FAILED" || r.out.Error != "IndicesFailed" || !strings.Contains(r.out.Cause, bad) {
		t.Fatalf("execution: %+v, want FAILED IndicesFailed naming %s", r.out, bad)
	}
	for _, other := range []string{"01", "02", "04", "05", "06"} {
		if strings.Contains(r.out.Cause, p+"-2026.10."+other) {
			t.Errorf("cause names %s, which succeeded: %s", other, r.out.Cause)
		}
	}
	if r.maxActive != 2 {
		t.Errorf("at most %d indices were in progress at once, want exactly 2 (maxConcurrency)", r.maxActive)
	}
	rep := r.report(t)
	for d := 1; d <= 6; d++ {
		name := p + "-2026.10.0" + string(rune('0'+d))
		ix := rep[name]
		if name == bad {
			if ix["outcome"] != "rolled_back" || ix["error"] != "ReindexFailed" {
				t.Errorf("%s: report %v, want rolled_back with ReindexFailed", name, ix)
			}
			if c, alias := e.concrete(name); alias || c != name {
				t.Errorf("%s now resolves to %s", name, c)
			}
			if n := e.count(name); n != 200+d {
				t.Errorf("%s holds %d documents after rollback, want %d", name, n, 200+d)
			}
			if e.writeBlocked(name) {
				t.Errorf("%s is still write-blocked after rollback", name)
			}
			if left := e.indices(name + "-*"); len(left) > 0 {
				t.Errorf("rollback left %v", left)
			}
			if e.fieldType(name, "code") != "keyword" {
				t.Errorf("%s: the rolled back index changed its mapping", name)
			}
			continue
		}
		counts, _ := ix["counts"].(map[string]any)
		want := float64(200 + d)
		if ix["outcome"] != "swapped" || counts["source"] != want || counts["copy"] != want || counts["verified"] != want {
			t.Errorf("%s: report %v, want swapped with counts %v", name, ix, want)
		}
		if c, alias := e.concrete(name); !alias || c != ix["dest"] {
			t.Errorf("%s resolves to %s (alias %v), want the copy %v", name, c, alias, ix["dest"])
		}
		if n := e.count(name); n != 200+d {
			t.Errorf("%s holds %d documents, want %d", name, n, 200+d)
		}
		if ft := e.fieldType(name, "code"); ft != "long" {
			t.Errorf("%s: code is %q, want the new mapping long", name, ft)
		}
		if e.writeBlocked(name) {
			t.Errorf("%s is write-blocked", name)
		}
	}
	if locks := e.indices("logferry-lock-*"); len(locks) > 0 {
		t.Errorf("locks left: %v", locks)
	}
}

// rename-back keeps the concrete name and leaves no temporary; alias mode run twice on
// the same index (the second time its name is the alias the first run left) succeeds.
func TestRenameBackAndAliasTwice(t *testing.T) {
	tools(t)
	e := newES(t, esURL)
	p := e.prefix("modes")
	rb, al := p+"-rb", p+"-al"
	e.index(rb, 120, old(), func(int) string { return "7" })
	e.index(al, 130, old(), func(int) string { return "8" })

	r := runLocal(t, context.Background(), esURL, map[string]any{"indices": []string{rb}, "swap": "rename-back", "mappings": newMappings})
	if r.out.Status != "SUCCEEDED" {
		t.Fatalf("rename-back: %+v", r.out)
	}
	if c, alias := e.concrete(rb); alias || c != rb {
		t.Errorf("after rename-back %s resolves to %s (alias %v), want the concrete index", rb, c, alias)
	}
	if n := e.count(rb); n != 120 {
		t.Errorf("%s holds %d, want 120", rb, n)
	}
	if left := e.indices(rb + "-*"); len(left) > 0 {
		t.Errorf("rename-back left %v", left)
	}
	if ft := e.fieldType(rb, "code"); ft != "long" {
		t.Errorf("%s: code is %q, want long", rb, ft)
	}

	var dests []string
	for i := 0; i < 2; i++ {
		r := runLocal(t, context.Background(), esURL, map[string]any{"pattern": al + "*", "mappings": newMappings})
		if r.out.Status != "SUCCEEDED" {
			t.Fatalf("alias run %d: %+v", i+1, r.out)
		}
		ix := r.report(t)[al]
		if ix == nil || ix["outcome"] != "swapped" {
			t.Fatalf("alias run %d: report %v", i+1, r.report(t))
		}
		c, alias := e.concrete(al)
		if !alias || c != ix["dest"] {
			t.Errorf("run %d: %s resolves to %s, want the alias to %v", i+1, al, c, ix["dest"])
		}
		dests = append(dests, c)
		if n := e.count(al); n != 130 {
			t.Errorf("run %d: %s holds %d, want 130", i+1, al, n)
		}
	}
	if left := e.indices(al + "-*"); len(left) != 1 || left[0] != dests[1] {
		t.Errorf("after two runs %v exist, want only the second copy %s", left, dests[1])
	}
}

// A dry run changes nothing; a pattern with an index still being written to skips that one
// and reports why, and the execution still succeeds.
func TestDryRunAndQuietPeriod(t *testing.T) {
	tools(t)
	e := newES(t, esURL)
	p := e.prefix("quiet")
	cold, live := p+"-2026.10.01", p+"-2026.10.02"
	e.index(cold, 50, old(), func(int) string { return "1" })
	e.index(live, 60, time.Now().Add(-2*time.Minute), func(int) string { return "2" })
	before := snapshot(e, p+"*")

	r := runLocal(t, context.Background(), esURL, map[string]any{"pattern": p + "-*", "dryRun": true, "quietMinutes": 10})
	if r.out.Status != "SUCCEEDED" {
		t.Fatalf("dry run: %+v", r.out)
	}
	rep := r.report(t)
	if rep[cold]["outcome"] != "planned" || rep[cold]["docs"] != 50.0 {
		t.Errorf("dry run: %s is %v, want planned with 50 docs", cold, rep[cold])
	}
	if rep[live]["outcome"] != "skipped" || !strings.Contains(rep[live]["reason"].(string), "quietMinutes 10") {
		t.Errorf("dry run: %s is %v, want skipped for quietMinutes", live, rep[live])
	}
	if after := snapshot(e, p+"*"); after != before {
		t.Errorf("the dry run changed the cluster:\nbefore %s\nafter  %s", before, after)
	}

	r = runLocal(t, context.Background(), esURL, map[string]any{"pattern": p + "-*", "quietMinutes": 10})
	if r.out.Status != "SUCCEEDED" {
		t.Fatalf("run: %+v", r.out)
	}
	rep = r.report(t)
	if rep[cold]["outcome"] != "swapped" || rep[live]["outcome"] != "skipped" {
		t.Errorf("run: %v", rep)
	}
	if c, alias := e.concrete(live); alias || c != live || e.writeBlocked(live) {
		t.Errorf("the skipped index was touched: resolves to %s, blocked %v", c, e.writeBlocked(live))
	}
}

// snapshot is what a dry run must not change: names, aliases, settings, mappings, counts.
func snapshot(e *es, pattern string) string {
	code, out := e.call("GET", "/"+pattern+"?expand_wildcards=all&flat_settings=true", nil)
	_, cat := e.call("GET", "/_cat/indices/"+pattern+"?h=index,docs.count,status&s=index&format=json", nil)
	return strings.Join([]string{itoa(code), jsonString(out), jsonString(cat)}, "|")
}

// Bad input fails in the plan step with every problem named, before any index is touched.
func TestBadInputFailsBeforeAnything(t *testing.T) {
	tools(t)
	e := newES(t, esURL)
	p := e.prefix("bad")
	e.index(p+"-a", 5, old(), func(int) string { return "1" })
	before := snapshot(e, p+"*")
	r := runLocal(t, context.Background(), esURL, map[string]any{
		"indices": []string{p + "-a", p + "-missing"}, "swap": "sideways", "maxConcurrency": 0, "sorce": "x", "dryrun": true,
	})
	if r.out.Status != "FAILED" || r.out.Error != "InvalidRequest" {
		t.Fatalf("execution: %+v, want FAILED InvalidRequest", r.out)
	}
	for _, want := range []string{`"dryrun"`, `"sorce"`, `swap: "sideways"`, "maxConcurrency: 0"} {
		if !strings.Contains(r.out.Cause, want) {
			t.Errorf("cause does not name %s: %s", want, r.out.Cause)
		}
	}
	if after := snapshot(e, p+"*"); after != before {
		t.Errorf("bad input changed the cluster")
	}
	r = runLocal(t, context.Background(), esURL, map[string]any{"indices": []string{p + "-a", p + "-missing"}})
	if r.out.Status != "FAILED" || r.out.Error != "InvalidRequest" || !strings.Contains(r.out.Cause, p+"-missing\" does not exist") {
		t.Fatalf("missing index: %+v", r.out)
	}
	if after := snapshot(e, p+"*"); after != before {
		t.Errorf("a missing index changed the cluster")
	}
}
