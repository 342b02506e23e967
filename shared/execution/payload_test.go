package execution_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/reindex"
)

// stepFunctionsPayloadLimit is the most one state's input or output may hold.
const stepFunctionsPayloadLimit = 256 << 10

// A year of daily indices (400) with the largest mappings the plan accepts, every index
// failing with the longest message: the largest state the execution passes on — the Map's
// output, the plan with each index's report in place of its planned line — fits in one
// payload, and so does the report.
func TestYearOfIndicesFitsOnePayload(t *testing.T) {
	mappings := json.RawMessage(`{"properties":{"f":{"type":"keyword","meta":{"x":"` + strings.Repeat("m", reindex.MaxMappingsBytes-100) + `"}}}}`)
	plan := reindex.Plan{Run: "20261201-120000-abcdef", MaxConcurrency: 2, Skipped: []reindex.IndexReport{},
		Request: reindex.IndexRequest{Mode: reindex.ModeRenameBack, Run: "20261201-120000-abcdef", Mappings: mappings, MaxWaitSeconds: 86400}}
	var results []reindex.IndexReport
	n := int64(123456789)
	for d := 0; d < 400; d++ {
		src := fmt.Sprintf("elb-logs-2025.%02d.%02d", 1+d/31, 1+d%31)
		dest := src + "-" + plan.Run + "-tmp"
		plan.Indices = append(plan.Indices, reindex.IndexReport{Source: src, Index: src, Dest: dest, Mode: plan.Request.Mode, Docs: &n, Bytes: &n, Outcome: reindex.OutcomePlanned})
		results = append(results, reindex.IndexReport{Source: src, Index: src, Dest: dest, Mode: plan.Request.Mode,
			Counts: &reindex.Counts{Source: &n, Copy: &n}, DurationSeconds: 86399.999, Outcome: reindex.OutcomeRollbackFailed,
			Error: reindex.RollbackIncomplete, Message: strings.Repeat("é", reindex.MaxMessageBytes) + "…"})
	}
	for i := range results {
		results[i].Message = results[i].Message[:reindex.MaxMessageBytes] // as trimmed
	}
	afterMap := plan
	afterMap.Indices = results
	b, _ := json.Marshal(afterMap)
	t.Logf("the Map's output for 400 failed indices with %d KiB of mappings: %d bytes (limit %d)", len(mappings)>>10, len(b), stepFunctionsPayloadLimit)
	if len(b) > stepFunctionsPayloadLimit {
		t.Errorf("the Map's output is %d bytes, over %d", len(b), stepFunctionsPayloadLimit)
	}
	rep, _ := json.Marshal(reindex.Summarize(reindex.SummaryInput{Run: plan.Run, Indices: results}))
	if len(rep) > stepFunctionsPayloadLimit {
		t.Errorf("the report is %d bytes, over %d", len(rep), stepFunctionsPayloadLimit)
	}
}

// A year of daily indices (400) on the real node, dry-run through the interpreter: the plan
// lists every one with its count, the execution's output and every state's input and
// output stay under the payload limit, and nothing on the node changed. Elasticsearch 7.17
// creates indices one cluster-state update at a time, so they are created a few at once,
// without waiting for their shards (the one _bulk waits for the primaries).
func TestManyIndexDryRun(t *testing.T) {
	tools(t)
	const count = 400
	start := time.Now()
	e := newES(t, esURL)
	p := e.prefix("year")
	// The days end two days ago, so every newest @timestamp is older than quietMinutes.
	last := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2)
	names := make([]string, count)
	want := map[string]int{}
	var bulk strings.Builder
	for d := range names {
		day := last.AddDate(0, 0, d-count+1)
		names[d] = p + "-" + day.Format("2006.01.02")
		want[names[d]] = 1 + d%4
		for i := 0; i < want[names[d]]; i++ {
			fmt.Fprintf(&bulk, "{\"index\":{\"_index\":%q}}\n{\"@timestamp\":%q,\"code\":\"%d\"}\n", names[d], day.Add(time.Duration(i)*time.Hour).Format(time.RFC3339), i)
		}
	}
	body := map[string]any{"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0},
		"mappings": map[string]any{"properties": map[string]any{"@timestamp": map[string]any{"type": "date"}, "code": map[string]any{"type": "keyword"}}}}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	errs := make(chan string, count)
	for _, n := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if code, out, err := e.try("PUT", "/"+n+"?wait_for_active_shards=0&master_timeout=2m&timeout=2m", body); err != nil || code != 200 {
				errs <- fmt.Sprintf("create %s: %d %v %v", n, code, out, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Fatal(msg)
	}
	if out := e.must("POST", "/_bulk?refresh=true&timeout=2m", bulk.String()); out["errors"] == true {
		t.Fatalf("bulk: %v", out)
	}
	created := time.Since(start)
	before := e.snapshot(p + "*")

	r := runLocal(t, context.Background(), esURL, map[string]any{"pattern": p + "-*", "dryRun": true, "quietMinutes": 60, "mappings": newMappings})
	if r.out.Status != "SUCCEEDED" {
		t.Fatalf("dry run: %+v", r.out)
	}
	plan := r.tracker.Plan()
	if plan == nil {
		t.Fatal("no plan")
	}
	if len(plan.Indices) != count || len(plan.Skipped) != 0 {
		t.Errorf("plan lists %d indices and skips %d, want %d and none: %v", len(plan.Indices), len(plan.Skipped), count, plan.Skipped)
	}
	for _, ix := range plan.Indices {
		if ix.Docs == nil || int(*ix.Docs) != want[ix.Source] || ix.Outcome != reindex.OutcomePlanned {
			t.Errorf("plan: %s docs %v outcome %s, want %d planned", ix.Source, ix.Docs, ix.Outcome, want[ix.Source])
		}
		delete(want, ix.Source)
	}
	if len(want) > 0 {
		t.Errorf("plan is missing %d indices", len(want))
	}
	planBytes, _ := json.Marshal(plan)
	if strings.Count(string(planBytes), `"mappings"`) != 1 {
		t.Errorf("the plan carries the mappings %d times, want once", strings.Count(string(planBytes), `"mappings"`))
	}
	if len(r.out.Output) > stepFunctionsPayloadLimit {
		t.Errorf("the execution's output is %d bytes, over %d", len(r.out.Output), stepFunctionsPayloadLimit)
	}
	// A dry run passes Plan → DryRun? → Summarize → OK? → Succeeded.
	for _, st := range []string{"Plan", "DryRun?", "Summarize", "OK?", "Succeeded"} {
		if _, ok := r.out.States[st]; !ok {
			t.Errorf("state %s did not run (states: %v)", st, r.out.States)
		}
	}
	for name, sz := range r.out.States {
		t.Logf("state %s: input %d bytes, output %d bytes", name, sz.Input, sz.Output)
		if sz.Input > stepFunctionsPayloadLimit || sz.Output > stepFunctionsPayloadLimit {
			t.Errorf("state %s: input %d, output %d bytes, over %d", name, sz.Input, sz.Output, stepFunctionsPayloadLimit)
		}
	}
	if lock := e.indices("logferry-lock-" + plan.Run + "*"); len(lock) > 0 {
		t.Errorf("the dry run left lock indices %v", lock)
	}
	if after := e.snapshot(p + "*"); after != before {
		t.Errorf("the dry run changed the node:\nbefore %s\nafter  %s", before, after)
	}
	t.Logf("%d indices created and filled in %s; whole test %s; plan %d bytes, output %d bytes (limit %d)",
		count, created.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), len(planBytes), len(r.out.Output), stepFunctionsPayloadLimit)
}

// snapshot describes what a dry run must leave alone: the indices matching pattern (hidden
// too) with their uuid and count, their aliases and write blocks. Other packages share the
// node, so it looks only at the test's own names.
func (e *es) snapshot(pattern string) string {
	e.t.Helper()
	cat := e.must("GET", "/_cat/indices/"+pattern+"?h=index,uuid,docs.count,status&s=index&expand_wildcards=all", nil)
	_, aliases := e.call("GET", "/"+pattern+"/_alias?expand_wildcards=all", nil)
	blocks := e.must("GET", "/"+pattern+"/_settings/index.blocks.*?flat_settings=true", nil)
	return jsonString(map[string]any{"indices": cat["_raw"], "aliases": aliases, "blocks": blocks})
}
