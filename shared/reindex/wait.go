package reindex

import "time"

// The wait schedule of a running copy. Step Functions keeps at most 25,000 events in one
// execution's history, and every check of a copy costs a Choice, a Wait and a Task (9
// events), so the waits must grow: each is at least 1/WaitGrowth of the time the copy has
// run, which bounds the number of checks to about WaitGrowth·ln(duration/(WaitGrowth·poll))
// whatever the copy's progress. Within that, the wait follows the expected remaining time,
// so the end of a copy is noticed soon after it comes.
const (
	// WaitGrowth: a wait is at least the copy's running time divided by this.
	WaitGrowth = 20
	// MaxWait is the longest wait between two checks.
	MaxWait = 10 * time.Minute
)

// NextWait is how long to wait before checking a copy that has run for elapsed, with the
// progress the last check saw (nil before the first), when the configured interval is poll.
func NextWait(elapsed time.Duration, p *Progress, poll time.Duration) time.Duration {
	if poll < time.Second {
		poll = time.Second
	}
	w := poll
	if done := doneDocs(p); done > 0 && elapsed > 0 && p.Total > done {
		// At the rate so far, the rest takes remaining; check at half of it, so the wait
		// shrinks as the end nears.
		remaining := time.Duration(float64(elapsed) * float64(p.Total-done) / float64(done))
		w = max(w, remaining/2)
	}
	w = max(w, elapsed/WaitGrowth)
	w = min(w, MaxWait)
	return w.Round(time.Second)
}

func doneDocs(p *Progress) int64 {
	if p == nil {
		return 0
	}
	return p.Created + p.Updated + p.VersionConflicts
}
