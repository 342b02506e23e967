package metrics

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRecordIsValidEMF(t *testing.T) {
	var buf bytes.Buffer
	r := Record{
		Namespace:  "logferry",
		Dimensions: [][2]string{{"FunctionName", "ingest"}, {"Kind", "alb"}},
		Metrics:    []Metric{{"Lines", Count, 1200}, {"Duration", Milliseconds, 842.5}},
		Properties: map[string]any{"key": "AWSLogs/1/x.log.gz"},
		Time:       time.UnixMilli(1_700_000_000_123),
	}
	if _, err := r.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "}\n") || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("want exactly one line: %q", buf.String())
	}
	var doc struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		FunctionName, Kind, Key string
		Lines, Duration         float64
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	cw := doc.AWS.CloudWatchMetrics
	if doc.AWS.Timestamp != 1_700_000_000_123 || len(cw) != 1 || cw[0].Namespace != "logferry" ||
		strings.Join(cw[0].Dimensions[0], ",") != "FunctionName,Kind" || len(cw[0].Metrics) != 2 ||
		cw[0].Metrics[1].Name != "Duration" || cw[0].Metrics[1].Unit != "Milliseconds" {
		t.Fatalf("directive: %+v", doc.AWS)
	}
	if doc.FunctionName != "ingest" || doc.Kind != "alb" || doc.Key != "AWSLogs/1/x.log.gz" || doc.Lines != 1200 || doc.Duration != 842.5 {
		t.Fatalf("members: %+v", doc)
	}
}

func TestRecordRefusesNameClashAndMissingNamespace(t *testing.T) {
	if _, err := (Record{Namespace: "n", Dimensions: [][2]string{{"Lines", "x"}}, Metrics: []Metric{{"Lines", Count, 1}}}).MarshalJSON(); err == nil {
		t.Fatal("a metric named like a dimension must be refused")
	}
	if _, err := (Record{}).MarshalJSON(); err == nil {
		t.Fatal("a record without namespace must be refused")
	}
}
