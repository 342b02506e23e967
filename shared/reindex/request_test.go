package reindex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every problem of an execution input is named at once, each with its key.
func TestParseRequestNamesEveryProblem(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`[]`, []string{"must be a JSON object"}},
		{`{}`, []string{`give "indices"`}},
		{`{"pattern":"logs-*","indices":["a"]}`, []string{"not both"}},
		{`{"pattern":"logs-*","sorce":"x","dryrun":true}`, []string{`unknown keys "dryrun", "sorce"`, "known: indices, pattern"}},
		{`{"indices":["Logs","a","a","_x","logferry-lock-1"],"swap":"copy"}`, []string{"upper-case", `"a" is listed twice`, "must not start with", "workflow's locks", `swap: "copy"`}},
		{`{"indices":[]}`, []string{"the list is empty"}},
		{`{"pattern":"*"}`, []string{"means every index"}},
		{`{"pattern":"a-*,b-*"}`, []string{"is a list"}},
		{`{"pattern":".kibana*"}`, []string{"starts with '.'"}},
		{`{"pattern":"x*","maxConcurrency":0,"requestsPerSecond":-1,"quietMinutes":-5,"maxWaitMinutes":99999}`,
			[]string{"maxConcurrency: 0", "requestsPerSecond: -1", "quietMinutes: -5", "maxWaitMinutes: 99999"}},
		{`{"pattern":"x*","maxConcurrency":"two","dryRun":"yes","template":1}`, []string{"maxConcurrency: want a whole number", "dryRun: want true or false", "template: want true or false"}},
		{`{"pattern":"x*","mappings":[1],"settings":{"index":{"blocks":{"write":true}}}}`, []string{"mappings must be a JSON object", "blocks are managed"}},
		{`{"pattern":"x*","maxConcurrency":2.5}`, []string{"maxConcurrency: want a whole number"}},
	} {
		_, err := ParseRequest([]byte(tc.in))
		if ErrorName(err) != InvalidRequest {
			t.Errorf("%s: error %v, want InvalidRequest", tc.in, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\n  does not say %q", tc.in, err, w)
			}
		}
	}
	r, err := ParseRequest([]byte(`{"pattern":"logs-2026.10.*"}`))
	if err != nil || r.mode() != ModeAlias || r.maxConcurrency() != 2 || r.quietMinutes() != DefaultQuietMinutes || r.maxWaitMinutes() != 1440 {
		t.Errorf("defaults: %+v %v", r, err)
	}
	if r, _ := ParseRequest([]byte(`{"pattern":"x*","quietMinutes":0}`)); r.quietMinutes() != 0 {
		t.Errorf("quietMinutes 0 is not kept: the check must be able to be turned off")
	}
}

// The copy-paste examples in events/ are valid execution input.
func TestExecutionInputExamples(t *testing.T) {
	files, _ := filepath.Glob("../../events/reindex-execution-*.json")
	if len(files) < 3 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseRequest(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestMatchPattern(t *testing.T) {
	for _, tc := range []struct {
		p, name string
		ok      bool
	}{
		{"logs-2026.10.*", "logs-2026.10.01", true},
		{"logs-2026.10.*", "logs-2026.11.01", false},
		{"logs-*-eu", "logs-2026-eu", true},
		{"logs-*-eu", "logs-2026-us", false},
		{"*-eu", "x-eu", true},
		{"logs", "logs", true},
		{"logs", "logs2", false},
	} {
		if got := matchPattern(tc.p, tc.name); got != tc.ok {
			t.Errorf("matchPattern(%q, %q) = %v", tc.p, tc.name, got)
		}
	}
}

// Items: the first Advance builds the State from the shared request; a finished item and
// a rollback sent to Advance are refused without asking Elasticsearch.
func TestItemRefusesWhatItCannotDo(t *testing.T) {
	s := New(nil, Config{})
	for name, it := range map[string]Item{
		"finished":        {Source: "a", Report: &IndexReport{Source: "a", Outcome: OutcomeSwapped}},
		"empty":           {Source: "a"},
		"rollback":        {Source: "a", State: &State{Source: "a", Next: StepRollback}},
		"other source":    {Source: "a", State: &State{Source: "b", Next: StepPreflight}},
		"no next":         {Source: "a", State: &State{Source: "a"}},
		"bad source name": {Source: "A", Request: &IndexRequest{Mode: ModeAlias, Run: "r1"}},
	} {
		if _, err := s.Advance(t.Context(), it); ErrorName(err) != InvalidRequest {
			t.Errorf("%s: %v, want InvalidRequest", name, err)
		}
	}
	r, err := s.Rollback(t.Context(), Item{Source: "a", Error: &CaughtError{Error: "X", Cause: strings.Repeat("é", 300)}})
	if err != nil || r.Report == nil || r.Report.Outcome != OutcomeRolledBack || len(r.Report.Message) > MaxMessageBytes+3 {
		t.Errorf("rollback of an item that never started: %+v %v", r.Report, err)
	}
}
