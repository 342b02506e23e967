package reindex

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func (n *node) logIndex(name string, hidden bool, meta map[string]any, ts time.Time) {
	n.t.Helper()
	mappings := map[string]any{"properties": map[string]any{"@timestamp": map[string]any{"type": "date"}}}
	if meta != nil {
		mappings["_meta"] = map[string]any{"logferry": meta}
	}
	n.ok("PUT", "/"+name, map[string]any{
		"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0, "index.hidden": hidden},
		"mappings": mappings,
	})
	n.ok("POST", "/"+name+"/_doc?refresh=true", map[string]any{"@timestamp": ts.UTC().Format(time.RFC3339)})
}

// The plan resolves a pattern as a person means it: an index an earlier run swapped in
// stands under its old name (reindexed again by it); hidden and lock indices never appear;
// an unfinished copy is left out and its source skipped with the reason; an index written
// to within quietMinutes is skipped; every index comes with its count and size.
func TestPlanResolvesPattern(t *testing.T) {
	n := needNode(t)
	s := testSteps(t, n)
	p := n.names("plan")
	old := time.Now().Add(-30 * 24 * time.Hour)
	n.logIndex(p+"-a", false, nil, old)
	// b was reindexed by run r1: b is now an alias of b-r1.
	n.logIndex(p+"-b-r1", false, map[string]any{"created_by": "logferry", "run": "r1", "source": p + "-b", "phase": "copy"}, old)
	n.ok("POST", "/_aliases", map[string]any{"actions": []any{map[string]any{"add": map[string]any{"index": p + "-b-r1", "alias": p + "-b"}}}})
	// c is being copied by run r2.
	n.logIndex(p+"-c", false, nil, old)
	n.logIndex(p+"-c-r2", false, map[string]any{"created_by": "logferry", "run": "r2", "source": p + "-c", "phase": "copy"}, old)
	n.logIndex(p+"-hidden", true, nil, old)
	n.logIndex(p+"-live", false, nil, time.Now())

	plan, err := s.Plan(context.Background(), []byte(`{"pattern":"`+p+`-*","quietMinutes":15,"dryRun":true}`))
	if err != nil {
		t.Fatal(err)
	}
	var planned []string
	for _, ix := range plan.Indices {
		planned = append(planned, ix.Source+"→"+ix.Index)
		if ix.Docs == nil || *ix.Docs != 1 || ix.Bytes == nil || *ix.Bytes == 0 || ix.Outcome != OutcomePlanned || !strings.HasSuffix(ix.Dest, "-"+plan.Run) {
			t.Errorf("planned %+v", ix)
		}
	}
	if got := strings.Join(planned, " "); got != p+"-a→"+p+"-a "+p+"-b→"+p+"-b-r1" {
		t.Errorf("planned %s", got)
	}
	skipped := map[string]string{}
	for _, ix := range plan.Skipped {
		skipped[ix.Source] = ix.Reason
	}
	if len(skipped) != 2 || !strings.Contains(skipped[p+"-c"], p+"-c-r2") || !strings.Contains(skipped[p+"-live"], "quietMinutes 15") {
		t.Errorf("skipped %v", skipped)
	}
	if !plan.DryRun || plan.MaxConcurrency != 2 || plan.Request.Run != plan.Run || plan.Request.Mode != ModeAlias {
		t.Errorf("plan %+v", plan)
	}

	// Named explicitly: the same rules, and what cannot be reindexed is refused, all at once.
	_, err = s.Plan(context.Background(), []byte(`{"indices":["`+p+`-b","`+p+`-b-r1","`+p+`-hidden","`+p+`-nope"]}`))
	for _, want := range []string{`"` + p + `-b-r1" is a copy of "` + p + `-b"`, `"` + p + `-hidden" is a hidden`, `"` + p + `-nope" does not exist`} {
		if ErrorName(err) != InvalidRequest || !strings.Contains(err.Error(), want) {
			t.Errorf("explicit names: %v\n  does not say %s", err, want)
		}
	}
	plan, err = s.Plan(context.Background(), []byte(`{"indices":["`+p+`-b","`+p+`-c"],"quietMinutes":0}`))
	if err != nil || len(plan.Indices) != 1 || plan.Indices[0].Source != p+"-b" || len(plan.Skipped) != 1 || plan.Skipped[0].Source != p+"-c" {
		b, _ := json.Marshal(plan)
		t.Errorf("explicit: %s %v", b, err)
	}
	if _, err := s.Plan(context.Background(), []byte(`{"pattern":"`+p+`-zzz*"}`)); ErrorName(err) != InvalidRequest || !strings.Contains(err.Error(), "matches no open index") {
		t.Errorf("no match: %v", err)
	}
	if _, err := s.Plan(context.Background(), []byte(`{"pattern":"`+p+`-a*","template":true}`)); ErrorName(err) != InvalidRequest || !strings.Contains(err.Error(), "no index template matches") {
		t.Errorf("template without a template: %v", err)
	}
}
