package execution_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

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

// A dry run over many real indices through the interpreter: the plan and the report stay
// under the payload limit. Creating 400 indices takes minutes on a loaded 2-core machine,
// so make test creates LOGFERRY_DRYRUN_INDICES (default 20) and checks that the bytes per
// index measured here, times 400, still fit; LOGFERRY_DRYRUN_INDICES=400 runs the full year.
func TestManyIndexDryRun(t *testing.T) {
	tools(t)
	count := 20
	if v := os.Getenv("LOGFERRY_DRYRUN_INDICES"); v != "" {
		count, _ = strconv.Atoi(v)
	}
	e := newES(t, esURL)
	p := e.prefix("year")
	var bulk strings.Builder
	for d := 0; d < count; d++ {
		fmt.Fprintf(&bulk, "{\"index\":{\"_index\":\"%s-2025.%02d.%02d\"}}\n{\"@timestamp\":\"2025-01-01T00:00:00Z\",\"code\":\"1\"}\n", p, 1+d/31, 1+d%31)
	}
	e.must("PUT", "/_index_template/"+p, map[string]any{"index_patterns": []string{p + "-*"}, "template": map[string]any{
		"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0},
		"mappings": map[string]any{"properties": map[string]any{"@timestamp": map[string]any{"type": "date"}, "code": map[string]any{"type": "keyword"}}}}})
	t.Cleanup(func() { e.call("DELETE", "/_index_template/"+p, nil) })
	if out := e.must("POST", "/_bulk?refresh=true", bulk.String()); out["errors"] == true {
		t.Fatalf("bulk: %v", out)
	}
	r := runLocal(t, context.Background(), esURL, map[string]any{"pattern": p + "-*", "dryRun": true, "quietMinutes": 0, "mappings": newMappings})
	if r.out.Status != "SUCCEEDED" {
		t.Fatalf("dry run: %+v", r.out)
	}
	plan := r.tracker.Plan()
	if plan == nil || len(plan.Indices) != count {
		t.Fatalf("plan lists %d indices, want %d", len(plan.Indices), count)
	}
	planBytes, _ := json.Marshal(plan)
	perIndex := (len(planBytes) + len(r.out.Output)) / count
	t.Logf("%d indices: plan %d bytes, report %d bytes; %d bytes per index, ×400 = %d", count, len(planBytes), len(r.out.Output), perIndex, perIndex*400)
	if perIndex*400 > stepFunctionsPayloadLimit || len(planBytes) > stepFunctionsPayloadLimit || len(r.out.Output) > stepFunctionsPayloadLimit {
		t.Errorf("a 400-index dry run would not fit one payload (%d bytes per index)", perIndex)
	}
	if strings.Count(string(planBytes), `"mappings"`) != 1 {
		t.Errorf("the plan carries the mappings %d times, want once", strings.Count(string(planBytes), `"mappings"`))
	}
}
