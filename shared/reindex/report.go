package reindex

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Outcome is how one index of an execution ended.
type Outcome string

const (
	OutcomePlanned        Outcome = "planned"         // dry run: would be reindexed
	OutcomeSkipped        Outcome = "skipped"         // left alone, Reason says why
	OutcomeSwapped        Outcome = "swapped"         // reindexed: the copy replaced the source
	OutcomeRolledBack     Outcome = "rolled_back"     // failed and rolled back: the source is as it was
	OutcomeRollbackFailed Outcome = "rollback_failed" // failed, and rollback could not finish: look at it
)

// IndexReport is one line of an execution's report. It is kept short (names, counts, the
// error's name and a trimmed message) so 400 of them fit in one Step Functions payload.
type IndexReport struct {
	Source string `json:"source"`
	// Index is the concrete index behind Source when the plan was made.
	Index string `json:"index,omitempty"`
	Dest  string `json:"dest,omitempty"`
	Mode  Mode   `json:"mode,omitempty"`
	// Docs and Bytes are the plan's document count and primary store size.
	Docs  *int64 `json:"docs,omitempty"`
	Bytes *int64 `json:"bytes,omitempty"`
	// Counts are what the run counted.
	Counts          *Counts `json:"counts,omitempty"`
	DurationSeconds float64 `json:"duration_seconds,omitempty"`
	Outcome         Outcome `json:"outcome"`
	Reason          string  `json:"reason,omitempty"`
	// Error and Message are the failure's stable name and text (trimmed to MaxMessageBytes).
	Error   string `json:"error,omitempty"`
	Message string `json:"message,omitempty"`
}

// Counts are an index's document counts: the source's when it was write-blocked, the
// copy's as the task or verify saw it, and the count verify proved equal on both sides.
type Counts struct {
	Source   *int64 `json:"source,omitempty"`
	Copy     *int64 `json:"copy,omitempty"`
	Verified *int64 `json:"verified,omitempty"`
}

// MaxMessageBytes trims error messages in reports.
const MaxMessageBytes = 200

// Failed tells whether the index counts against the execution.
func (r IndexReport) Failed() bool {
	return r.Outcome != OutcomeSwapped && r.Outcome != OutcomeSkipped && r.Outcome != OutcomePlanned
}

// Report is an execution's output: every index with its outcome.
type Report struct {
	Run     string        `json:"run"`
	DryRun  bool          `json:"dry_run"`
	OK      bool          `json:"ok"`
	Indices []IndexReport `json:"indices"`
	// Failed names the indices that failed; Cause says it in one line, for the console.
	Failed []string `json:"failed"`
	Cause  string   `json:"cause,omitempty"`
	Totals Totals   `json:"totals"`
}

// Totals counts the indices by outcome.
type Totals struct {
	Planned        int `json:"planned,omitempty"`
	Swapped        int `json:"swapped,omitempty"`
	RolledBack     int `json:"rolled_back,omitempty"`
	RollbackFailed int `json:"rollback_failed,omitempty"`
	Skipped        int `json:"skipped,omitempty"`
}

// SummaryInput is what the state machine hands the summary step after the Map (or, in a
// dry run, right after the plan): the per-index results and the plan's skipped indices.
type SummaryInput struct {
	Run     string        `json:"run"`
	DryRun  bool          `json:"dry_run"`
	Indices []IndexReport `json:"indices"`
	Skipped []IndexReport `json:"skipped"`
}

// Summarize makes the execution's report.
func Summarize(in SummaryInput) Report {
	r := Report{Run: in.Run, DryRun: in.DryRun, Indices: make([]IndexReport, 0, len(in.Indices)+len(in.Skipped)), Failed: []string{}}
	r.Indices = append(append(r.Indices, in.Indices...), in.Skipped...)
	slices.SortStableFunc(r.Indices, func(a, b IndexReport) int { return strings.Compare(a.Source, b.Source) })
	var causes []string
	for _, ix := range r.Indices {
		switch ix.Outcome {
		case OutcomePlanned:
			r.Totals.Planned++
		case OutcomeSwapped:
			r.Totals.Swapped++
		case OutcomeRolledBack:
			r.Totals.RolledBack++
		case OutcomeRollbackFailed:
			r.Totals.RollbackFailed++
		case OutcomeSkipped:
			r.Totals.Skipped++
		}
		if ix.Failed() {
			r.Failed = append(r.Failed, ix.Source)
			causes = append(causes, fmt.Sprintf("%s (%s, %s)", ix.Source, ix.Outcome, ix.Error))
		}
	}
	r.OK = len(r.Failed) == 0
	if !r.OK {
		r.Cause = fmt.Sprintf("%d of %d indices failed: %s", len(r.Failed), len(r.Indices), strings.Join(causes, "; "))
		if len(r.Cause) > 4000 {
			r.Cause = r.Cause[:4000] + "…"
		}
	}
	return r
}

func trimMessage(s string) string {
	if len(s) <= MaxMessageBytes {
		return s
	}
	cut := MaxMessageBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
