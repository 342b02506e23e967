package reindex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestCheckIndexName(t *testing.T) {
	good := []string{"logs", "logs-2026.11.25", "a", "ü-logs", "x_y+z", strings.Repeat("a", 255)}
	for _, n := range good {
		if err := CheckIndexName(n); err != nil {
			t.Errorf("CheckIndexName(%q) = %v, want nil", n, err)
		}
	}
	bad := map[string]string{
		"":                       "empty",
		"_all":                   "every index",
		".":                      "not allowed",
		"..":                     "not allowed",
		".kibana":                "system and hidden",
		".tasks":                 "system and hidden",
		"-logs":                  "must not start",
		"_logs":                  "must not start",
		"+logs":                  "must not start",
		"logs-*":                 "wildcard",
		"lo?s":                   "wildcard",
		"Logs":                   "lowercase",
		"a,b":                    `','`,
		"a b":                    `' '`,
		"a/b":                    `'/'`,
		`a\b`:                    `'\\'`,
		`a"b`:                    `'"'`,
		"a<b":                    `'<'`,
		"<logs-{now/d}>":         "",
		"a|b":                    `'|'`,
		"a#b":                    `'#'`,
		"cluster:idx":            `':'`,
		strings.Repeat("a", 256): "over 255",
		"a\x00b":                 "control",
		"a\xffb":                 "invalid UTF-8",
		"x%61":                   "decodes",
		"\u01c5ogs":              "lowercase",
	}
	for n, want := range bad {
		err := CheckIndexName(n)
		if err == nil {
			t.Errorf("CheckIndexName(%q) = nil, want an error", n)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("CheckIndexName(%q) = %q, want it to mention %q", n, err, want)
		}
	}
}

func TestCheckRunID(t *testing.T) {
	for _, id := range []string{"20261125-163205-a1b2c3", "exec_1", "a"} {
		if err := checkRunID(id); err != nil {
			t.Errorf("checkRunID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", "Exec", "-a", "a b", "a.b", strings.Repeat("a", 65)} {
		if checkRunID(id) == nil {
			t.Errorf("checkRunID(%q) = nil, want an error", id)
		}
	}
}

func TestErrorName(t *testing.T) {
	base := fail(ReindexFailed, StepCheck, "task x: 1 documents failed")
	wrapped := fmt.Errorf("handler: %w", base)
	if got := ErrorName(wrapped); got != ReindexFailed {
		t.Errorf("ErrorName(wrapped) = %q", got)
	}
	if got := ErrorName(errors.New("dial tcp: connection refused")); got != ElasticsearchError {
		t.Errorf("ErrorName(plain) = %q, want %q", got, ElasticsearchError)
	}
	if got := named(StepVerify, errors.New("x")); ErrorName(got) != ElasticsearchError || !strings.Contains(got.Error(), "verify") {
		t.Errorf("named = %v", got)
	}
	if !strings.Contains(base.Error(), "ReindexFailed") || !strings.Contains(base.Error(), "check") {
		t.Errorf("Error() = %q, want the name and the step", base.Error())
	}
}

// Steps that need no cluster refuse bad requests before they send anything: the transport
// here fails every request, so reaching Elasticsearch would show as ElasticsearchError.
func TestStepsRefuseBadStateWithoutCallingElasticsearch(t *testing.T) {
	s := New(failTransport{t}, Config{})
	ctx := context.Background()
	valid := State{Source: "logs", Dest: "logs-r1", Mode: ModeAlias, Run: "r1"}
	cases := map[string]State{
		"unknown step":          {Step: "explode", Source: "logs"},
		"wildcard source":       {Step: StepValidate, Source: "logs-*"},
		"_all":                  {Step: StepValidate, Source: "_all"},
		"dot source":            {Step: StepValidate, Source: ".security"},
		"dest is source":        {Step: StepValidate, Source: "logs", Dest: "logs"},
		"bad mode":              {Step: StepValidate, Source: "logs", Mode: "move"},
		"bad run":               {Step: StepValidate, Source: "logs", Run: "Run 1"},
		"negative rps":          {Step: StepValidate, Source: "logs", RequestsPerSecond: -5},
		"mappings not object":   {Step: StepValidate, Source: "logs", Mappings: json.RawMessage(`[1]`)},
		"settings not object":   {Step: StepValidate, Source: "logs", Settings: json.RawMessage(`"x"`)},
		"settings set a block":  {Step: StepValidate, Source: "logs", Settings: json.RawMessage(`{"index":{"blocks":{"write":true}}}`)},
		"huge mappings":         {Step: StepValidate, Source: "logs", Mappings: json.RawMessage(`{"_meta":{"x":"` + strings.Repeat("a", MaxMappingsBytes) + `"}}`)},
		"preflight unvalidated": {Step: StepPreflight, Source: "logs"},
		"source named a lock":   {Step: StepValidate, Source: lockPrefix + "r1-0011223344556677"},
		"dest named a lock":     {Step: StepValidate, Source: "logs", Dest: lockPrefix + "r1-0011223344556677"},
		"block before preflight": func() State {
			st := valid
			st.Step = StepBlock
			return st
		}(),
		"swap with forged from": func() State {
			st := valid
			st.Step, st.Phase, st.SourceIndex, st.From, st.To, st.SourceCount = StepSwap, PhaseCopy, "logs", "other", "logs-r1", i64(1)
			return st
		}(),
		"phase back in alias mode": func() State {
			st := valid
			st.Step, st.Phase, st.SourceIndex, st.From, st.To, st.SourceCount = StepSwap, PhaseBack, "logs", "logs-r1", "logs", i64(1)
			return st
		}(),
		"task id with a path": func() State {
			st := valid
			st.Step, st.Phase, st.SourceIndex, st.From, st.To, st.SourceCount = StepCheck, PhaseCopy, "logs", "logs", "logs-r1", i64(1)
			st.TaskID = "n1:1/../../logs"
			return st
		}(),
		"listed task id with a query": func() State {
			st := valid
			st.Step, st.Phase, st.SourceIndex, st.From, st.To, st.SourceCount = StepCleanup, PhaseCopy, "logs", "logs", "logs-r1", i64(1)
			st.TaskID, st.Tasks = "n1:1", []string{"n1:1", "n1:2?x=y"}
			return st
		}(),
		"verify without count": func() State {
			st := valid
			st.Step, st.Phase, st.SourceIndex, st.From, st.To = StepVerify, PhaseCopy, "logs", "logs", "logs-r1"
			return st
		}(),
	}
	for name, st := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := s.Do(ctx, st)
			mustName(t, err, InvalidRequest)
			if out.Step != st.Step || out.Next != st.Next {
				t.Errorf("a failed step changed the state: %+v", out)
			}
		})
	}
}

type failTransport struct{ t *testing.T }

func (f failTransport) Perform(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
	return nil, errors.New("no cluster in this test")
}

func TestFlatSettings(t *testing.T) {
	got, err := flatSettings(json.RawMessage(`{"index":{"number_of_shards":3,"refresh_interval":"5s"},"number_of_replicas":2,"index.codec":"best_compression"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"index.number_of_shards": "3", "index.refresh_interval": "5s",
		"index.number_of_replicas": "2", "index.codec": "best_compression"}
	if len(got) != len(want) {
		t.Fatalf("flatSettings = %v, want %v", got, want)
	}
	for k, v := range want {
		if fmt.Sprint(got[k]) != v {
			t.Errorf("%s = %v, want %s", k, got[k], v)
		}
	}
}

func TestWithMarkerKeepsOtherMeta(t *testing.T) {
	m, err := withMarker(json.RawMessage(`{"_meta":{"team":"x"},"properties":{"n":{"type":"long"}}}`), marker{CreatedBy: createdBy, Run: "r1", Source: "logs", Phase: PhaseCopy})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m)
	info := indexInfo{Mappings: b}
	if !info.ours("r1") || info.ours("r2") {
		t.Errorf("ours(r1) = %v, ours(r2) = %v for %s", info.ours("r1"), info.ours("r2"), b)
	}
	if !strings.Contains(string(b), `"team":"x"`) || !strings.Contains(string(b), `"type":"long"`) {
		t.Errorf("withMarker lost mappings: %s", b)
	}
}

func TestTaskOutcome(t *testing.T) {
	decode := func(s string) *taskResult {
		var r taskResult
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	st := &State{TaskID: "n:1"}
	cases := []struct {
		name, json string
		done       bool
		errName    string
	}{
		{"running", `{"completed":false,"task":{"status":{"total":10,"created":3}}}`, false, ""},
		{"clean", `{"completed":true,"response":{"total":10,"created":10,"failures":[]}}`, true, ""},
		{"error", `{"completed":true,"error":{"type":"x","reason":"boom"}}`, true, ReindexFailed},
		{"failures", `{"completed":true,"response":{"total":10,"created":9,"failures":[{"id":"x","cause":{"type":"mapper_parsing_exception","reason":"bad"}}]}}`, true, ReindexFailed},
		{"cancelled", `{"completed":true,"response":{"total":10,"created":4,"canceled":"by user request","failures":[]}}`, true, ReindexFailed},
		{"short", `{"completed":true,"response":{"total":10,"created":8,"failures":[]}}`, true, ReindexFailed},
		{"conflict aborted", `{"completed":true,"response":{"total":10,"created":8,"version_conflicts":1,"failures":[{"id":"x","cause":{"type":"version_conflict_engine_exception","reason":"exists"}}]}}`, true, ReindexFailed},
		{"conflicts proceeded", `{"completed":true,"response":{"total":10,"created":8,"version_conflicts":2,"failures":[]}}`, true, ""},
		{"no response", `{"completed":true}`, true, ReindexFailed},
	}
	for _, c := range cases {
		_, done, err := taskOutcome(decode(c.json), st)
		if done != c.done || (c.errName == "") != (err == nil) || err != nil && ErrorName(err) != c.errName {
			t.Errorf("%s: done=%v err=%v, want done=%v %s", c.name, done, err, c.done, c.errName)
		}
	}
}

func TestStateStaysSmall(t *testing.T) {
	st := State{Source: "logs", Mappings: json.RawMessage(`{"_meta":{"x":"` + strings.Repeat("a", MaxMappingsBytes-20) + `"}}`),
		Settings: json.RawMessage(`{"number_of_shards":1}`), SourceAliases: map[string]json.RawMessage{}}
	for i := 0; i < 50; i++ {
		st.SourceAliases[fmt.Sprintf("alias-%d", i)] = json.RawMessage(`{"filter":{"term":{"n":"1"}}}`)
		st.Tasks = append(st.Tasks, "abcdefghijklmnopqrstuv:123456")
	}
	if err := st.checkSize(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st)
	if len(b) > 256<<10 {
		t.Fatalf("state is %d bytes", len(b))
	}
}
