package demo

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
)

// functionLog is the ingest function's log stream, as CloudWatch Logs would keep it: every
// line goes to w; the Embedded Metric Format lines (one per object, README "Ingest") are
// also added up, so the demo reports what the function itself counted.
type functionLog struct {
	w io.Writer

	mu      sync.Mutex
	partial []byte
	sums    map[string]float64
	records int
}

func newFunctionLog(w io.Writer) *functionLog {
	return &functionLog{w: w, sums: map[string]float64{}}
}

func (l *functionLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(l.partial[:i])
		l.partial = l.partial[i+1:]
	}
	return n, err
}

// metricNames are the per-object metrics the demo adds up.
var metricNames = []string{"Lines", "Documents", "ParseFailures", "Retries", "DeadLettered", "ObjectsFailed", "ObjectsRejected", "Continuations"}

func (l *functionLog) line(b []byte) {
	if !bytes.Contains(b, []byte(`"_aws"`)) {
		return
	}
	var rec map[string]any
	if json.Unmarshal(b, &rec) != nil {
		return
	}
	l.records++
	for _, k := range metricNames {
		if v, ok := rec[k].(float64); ok {
			l.sums[k] += v
		}
	}
}

// metrics returns the sums so far and how many EMF records they come from.
func (l *functionLog) metrics() (map[string]float64, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]float64, len(l.sums))
	for k, v := range l.sums {
		out[k] = v
	}
	return out, l.records
}
