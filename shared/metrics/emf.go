// Package metrics writes CloudWatch Embedded Metric Format records: one JSON log line that
// CloudWatch Logs turns into metrics, so a Lambda publishes metrics without API calls.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Unit is a CloudWatch metric unit.
type Unit string

const (
	Count        Unit = "Count"
	Bytes        Unit = "Bytes"
	Milliseconds Unit = "Milliseconds"
	Seconds      Unit = "Seconds"
)

// Metric is one named value.
type Metric struct {
	Name  string
	Unit  Unit
	Value float64
}

// Record is one EMF line: metrics under a namespace and one dimension set, plus properties
// that are searchable in Logs Insights but are not metrics.
type Record struct {
	Namespace string
	// Dimensions are name/value pairs, in order; every metric is published under exactly
	// this set. Keep them low-cardinality (function name, log kind), never object keys.
	Dimensions [][2]string
	Metrics    []Metric
	Properties map[string]any
	// Time defaults to now.
	Time time.Time
}

// WriteTo writes the record as one line of JSON.
func (r Record) WriteTo(w io.Writer) (int64, error) {
	b, err := r.MarshalJSON()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(b, '\n'))
	return int64(n), err
}

// MarshalJSON renders the EMF document: the _aws envelope plus each dimension, metric and
// property as a top-level member.
func (r Record) MarshalJSON() ([]byte, error) {
	if r.Namespace == "" {
		return nil, fmt.Errorf("metrics: record without a namespace")
	}
	ts := r.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	type metricDef struct {
		Name string `json:"Name"`
		Unit Unit   `json:"Unit,omitempty"`
	}
	type directive struct {
		Namespace  string      `json:"Namespace"`
		Dimensions [][]string  `json:"Dimensions"`
		Metrics    []metricDef `json:"Metrics"`
	}
	doc := make(map[string]any, len(r.Properties)+len(r.Dimensions)+len(r.Metrics)+1)
	for k, v := range r.Properties {
		doc[k] = v
	}
	dimNames := make([]string, 0, len(r.Dimensions))
	for _, d := range r.Dimensions {
		dimNames = append(dimNames, d[0])
		doc[d[0]] = d[1]
	}
	defs := make([]metricDef, 0, len(r.Metrics))
	for _, m := range r.Metrics {
		if _, clash := doc[m.Name]; clash {
			return nil, fmt.Errorf("metrics: %q is both a metric and a dimension or property", m.Name)
		}
		defs = append(defs, metricDef{Name: m.Name, Unit: m.Unit})
		doc[m.Name] = m.Value
	}
	doc["_aws"] = map[string]any{
		"Timestamp": ts.UnixMilli(),
		"CloudWatchMetrics": []directive{{
			Namespace:  r.Namespace,
			Dimensions: [][]string{dimNames},
			Metrics:    defs,
		}},
	}
	return json.Marshal(doc)
}
