package execution

import (
	"strings"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/reindex"
)

// The display follows what the Tracker saw: percent from the task's counters, the rate
// since the copy started, and the ETA; a step error is shown while it is retried.
func TestTrackerLines(t *testing.T) {
	tr := NewTracker()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tr.now = func() time.Time { return t0.Add(10 * time.Second) }
	tr.Saw([]byte(`{"step":"plan","input":{}}`), []byte(`{"run":"r","indices":[{"source":"a","outcome":"planned"},{"source":"b","outcome":"planned"}],"skipped":[]}`), "")
	item := `{"source":"a","state":{"source":"a","status":"running","next":"check","task_id":"n:1","copy":{"total":1000,"created":250,"updated":0}},"copy_task":"n:1","copy_started":"2026-12-01T10:00:00Z"}`
	tr.Saw([]byte(`{"step":"index","item":{"source":"a"}}`), []byte(item), "")
	lines := tr.Lines()
	if len(lines) != 2 || lines[0].Phase != "copying" || lines[0].Percent != 25 || lines[0].Rate != 25 || lines[0].ETA != 30*time.Second || lines[1].Phase != "planned" {
		t.Fatalf("lines %+v", lines)
	}
	if s := FormatLine(lines[0]); !strings.Contains(s, "25.0%") || !strings.Contains(s, "25 docs/s") || !strings.Contains(s, "ETA 30s") {
		t.Errorf("line %q", s)
	}
	tr.Saw([]byte(`{"step":"index","item":`+item+`}`), nil, reindex.ElasticsearchError)
	if l := tr.Lines()[0]; l.Error != reindex.ElasticsearchError || l.Phase != "copying" {
		t.Errorf("while retried: %+v", l)
	}
	if u := tr.Unfinished(); len(u) != 1 || u[0].Source != "a" || u[0].State.TaskID != "n:1" {
		t.Errorf("unfinished %+v", u)
	}
	many := make([]Line, 40)
	for i := range many {
		many[i] = Line{Source: "x", Phase: "planned"}
	}
	many[3].Phase = "copying"
	if s := screenful(many); len(s) != 2 || s[0].Phase != "copying" || !strings.Contains(s[1].Phase, "39 waiting") {
		t.Errorf("screenful %+v", s)
	}
}
