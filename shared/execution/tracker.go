// Package execution runs the reindex state machine (infra/statemachine/reindex.asl.json):
// locally, with aws-local-stepfunctions on Node calling the Go reindex handler in this
// process through a Lambda Invoke endpoint, or in AWS, started and followed through the
// Step Functions API. Both feed a Tracker, which knows every index's latest state: for the
// progress display, the report, and rolling back what an interrupted run started.
package execution

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/logferry/logferry/shared/reindex"
)

// Tracker keeps the latest known Item of every index, from the state machine's Task
// payloads and results. It is safe for concurrent use.
type Tracker struct {
	mu     sync.Mutex
	now    func() time.Time
	plan   *reindex.Plan
	items  map[string]*tracked
	report *reindex.Report
}

type tracked struct {
	item reindex.Item
	// failing is the name of the last step error, until the next step succeeds.
	failing string
	seen    time.Time
}

// NewTracker returns an empty Tracker.
func NewTracker() *Tracker { return &Tracker{now: time.Now, items: map[string]*tracked{}} }

// Saw records one Task: the payload the state machine sent and the result (nil when the
// step failed, with errName). Payloads of steps the Tracker does not know are ignored.
func (t *Tracker) Saw(payload, result []byte, errName string) {
	var head struct {
		Step string          `json:"step"`
		Item json.RawMessage `json:"item"`
	}
	if json.Unmarshal(payload, &head) != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch head.Step {
	case "plan":
		var p reindex.Plan
		if result != nil && json.Unmarshal(result, &p) == nil {
			t.plan = &p
		}
	case "index", "index-rollback":
		var it reindex.Item
		src := result
		if src == nil {
			src = head.Item
		}
		if json.Unmarshal(src, &it) != nil || it.Source == "" {
			return
		}
		tr := t.items[it.Source]
		if tr == nil {
			tr = &tracked{}
			t.items[it.Source] = tr
		}
		// A failed step leaves the input item, which is what rollback works from.
		tr.item, tr.failing, tr.seen = it, errName, t.now()
	case "summary":
		var r reindex.Report
		if result != nil && json.Unmarshal(result, &r) == nil {
			t.report = &r
		}
	}
}

// Plan is the plan step's result, once seen.
func (t *Tracker) Plan() *reindex.Plan {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.plan
}

// Report is the summary step's result, once seen.
func (t *Tracker) Report() *reindex.Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.report
}

// Unfinished lists the items that started and have no report: what an interrupted run
// must roll back.
func (t *Tracker) Unfinished() []reindex.Item {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []reindex.Item
	for _, tr := range t.items {
		if tr.item.Report == nil && tr.item.State != nil {
			out = append(out, tr.item)
		}
	}
	slices.SortFunc(out, func(a, b reindex.Item) int { return strings.Compare(a.Source, b.Source) })
	return out
}

// Finished lists the reports of the items that have one.
func (t *Tracker) Finished() []reindex.IndexReport {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []reindex.IndexReport
	for _, tr := range t.items {
		if tr.item.Report != nil {
			out = append(out, *tr.item.Report)
		}
	}
	slices.SortFunc(out, func(a, b reindex.IndexReport) int { return strings.Compare(a.Source, b.Source) })
	return out
}

// Line is one index as the progress display shows it.
type Line struct {
	Source  string
	Phase   string  // planned, validate … cleanup, copying, rollback, swapped, rolled_back, …
	Percent float64 // of the current copy, -1 when unknown
	Rate    float64 // documents per second of the current copy, 0 when unknown
	ETA     time.Duration
	Error   string // the last step error's name, while it is retried
}

// Lines is the display's snapshot: the planned indices in order, with what is known of each.
func (t *Tracker) Lines() []Line {
	t.mu.Lock()
	defer t.mu.Unlock()
	var names []string
	if t.plan != nil {
		for _, ix := range t.plan.Indices {
			names = append(names, ix.Source)
		}
	}
	for n := range t.items {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	now := t.now()
	lines := make([]Line, 0, len(names))
	for _, n := range names {
		l := Line{Source: n, Phase: "planned", Percent: -1}
		if tr := t.items[n]; tr != nil {
			l = tr.line(now)
		}
		lines = append(lines, l)
	}
	return lines
}

func (tr *tracked) line(now time.Time) Line {
	it := tr.item
	l := Line{Source: it.Source, Percent: -1, Error: tr.failing}
	switch st := it.State; {
	case it.Report != nil:
		l.Phase = string(it.Report.Outcome)
		if it.Report.Outcome != reindex.OutcomeSwapped && it.Report.Error != "" {
			l.Error = it.Report.Error
		}
	case st == nil:
		l.Phase = "validate"
	case st.Status == reindex.StatusRunning && st.Copy != nil:
		l.Phase = "copying"
		if st.Phase == reindex.PhaseBack {
			l.Phase = "copying back"
		}
		done := st.Copy.Created + st.Copy.Updated + st.Copy.VersionConflicts
		if st.Copy.Total > 0 {
			l.Percent = 100 * float64(done) / float64(st.Copy.Total)
		}
		if el := tr.seen.Sub(it.CopyStarted).Seconds(); el > 0 && !it.CopyStarted.IsZero() {
			l.Rate = float64(done) / el
			if l.Rate > 0 && st.Copy.Total > done {
				l.ETA = time.Duration(float64(st.Copy.Total-done)/l.Rate*float64(time.Second)) - now.Sub(tr.seen)
				l.ETA = max(l.ETA, 0)
			}
		}
	case st.Status == reindex.StatusRunning:
		l.Phase = "copying"
	case it.Error != nil:
		l.Phase = "rollback"
		l.Error = it.Error.Error
	default:
		l.Phase = string(st.Next)
	}
	return l
}
