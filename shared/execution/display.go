package execution

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/logferry/logferry/shared/reindex"
)

// FormatLine renders one index for the progress display:
// "logs-2026.11.01   copying  42.0%  12.3k docs/s  ETA 1m20s".
func FormatLine(l Line) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-40s %-12s", l.Source, l.Phase)
	if l.Percent >= 0 {
		fmt.Fprintf(&b, " %5.1f%%", l.Percent)
	}
	if l.Rate > 0 {
		fmt.Fprintf(&b, "  %s docs/s", humanCount(l.Rate))
	}
	if l.ETA > 0 {
		fmt.Fprintf(&b, "  ETA %s", l.ETA.Round(time.Second))
	}
	if l.Error != "" {
		fmt.Fprintf(&b, "  (%s)", l.Error)
	}
	return strings.TrimRight(b.String(), " ")
}

func humanCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// Watch shows the tracker's progress on w until ctx ends. On a terminal it redraws one
// line per index in place every interval; elsewhere it prints a line each time an index
// changes phase, so a log keeps the history.
func Watch(ctx context.Context, t *Tracker, w io.Writer, terminal bool, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	drawn := 0
	last := map[string]string{}
	for final := false; ; {
		lines := t.Lines()
		if terminal {
			var b strings.Builder
			if drawn > 0 {
				fmt.Fprintf(&b, "\x1b[%dA", drawn)
			}
			lines = screenful(lines)
			for _, l := range lines {
				b.WriteString("\x1b[2K" + FormatLine(l) + "\n")
			}
			_, _ = io.WriteString(w, b.String())
			drawn = len(lines)
		} else {
			for _, l := range lines {
				key := l.Phase + "/" + l.Error
				if last[l.Source] != key {
					last[l.Source] = key
					_, _ = fmt.Fprintln(w, FormatLine(l))
				}
			}
		}
		if final {
			return
		}
		select {
		case <-ctx.Done():
			final = true // one last drawing, with the outcomes
		case <-tick.C:
		}
	}
}

// WriteReport prints the report as a table, then the reasons and failures with their
// messages.
func WriteReport(w io.Writer, r *reindex.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tOUTCOME\tSOURCE\tCOPY\tVERIFIED\tSECONDS\tDEST\t")
	for _, ix := range r.Indices {
		var src, cp, ver string = "-", "-", "-"
		if ix.Counts != nil {
			src, cp, ver = num(ix.Counts.Source), num(ix.Counts.Copy), num(ix.Counts.Verified)
		} else if ix.Docs != nil {
			src = num(ix.Docs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f\t%s\t\n", ix.Source, ix.Outcome, src, cp, ver, ix.DurationSeconds, ix.Dest)
	}
	_ = tw.Flush()
	for _, ix := range r.Indices {
		switch {
		case ix.Reason != "":
			fmt.Fprintf(w, "  %s: %s\n", ix.Source, ix.Reason)
		case ix.Error != "":
			fmt.Fprintf(w, "  %s: %s: %s\n", ix.Source, ix.Error, ix.Message)
		}
	}
	t := r.Totals
	fmt.Fprintf(w, "run %s: %d swapped, %d rolled back, %d rollback failed, %d skipped, %d planned\n",
		r.Run, t.Swapped, t.RolledBack, t.RollbackFailed, t.Skipped, t.Planned)
}

func num(p *int64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// MaxScreenLines is how many indices the terminal display shows one line each; past it,
// the waiting and finished ones are counted on one line and only those in progress shown.
const MaxScreenLines = 15

func screenful(lines []Line) []Line {
	if len(lines) <= MaxScreenLines {
		return lines
	}
	var busy []Line
	counts := map[string]int{}
	for _, l := range lines {
		switch l.Phase {
		case "planned", string(reindex.OutcomeSwapped), string(reindex.OutcomeRolledBack), string(reindex.OutcomeRollbackFailed), string(reindex.OutcomeSkipped):
			counts[l.Phase]++
		default:
			busy = append(busy, l)
		}
	}
	sum := fmt.Sprintf("%d waiting, %d swapped, %d rolled back, %d rollback failed", counts["planned"], counts["swapped"], counts["rolled_back"], counts["rollback_failed"])
	return append(busy, Line{Source: fmt.Sprintf("(%d indices)", len(lines)), Phase: sum, Percent: -1})
}
