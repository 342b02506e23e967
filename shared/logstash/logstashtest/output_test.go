package logstashtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

// The output sees each accepted request's events before the answer; when it fails, the
// input answers 429 (its queue is blocked) and stores nothing of the request.
func TestOutputReceivesEventsAndItsFailureIs429(t *testing.T) {
	var mu sync.Mutex
	var got []string
	fail := true
	s := logstashtest.New(t, logstashtest.Options{Output: func(_ context.Context, evs []json.RawMessage) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.New("elasticsearch unavailable")
		}
		for _, e := range evs {
			got = append(got, string(e))
		}
		return nil
	}})
	body := `[{"@metadata":{"_id":"a"},"x":1},{"@metadata":{"_id":"b"},"x":2}]`
	if resp, _ := post(t, s.URL, "application/json", "", []byte(body)); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status = %d with the output failing, want 429", resp.StatusCode)
	}
	if len(s.Docs()) != 0 {
		t.Fatalf("stored %d events of a refused request", len(s.Docs()))
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	if resp, _ := post(t, s.URL, "application/json", "", []byte(body)); resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if len(got) != 2 || s.Deliveries("a") != 1 || s.Deliveries("b") != 1 {
		t.Fatalf("output got %q, deliveries a=%d b=%d; want both events once", got, s.Deliveries("a"), s.Deliveries("b"))
	}
}

// ElasticsearchOutput writes the _bulk request Logstash's elasticsearch output would:
// the daily index from @timestamp in UTC, _id from @metadata._id, no @metadata, @version
// "1", @timestamp set when missing; refused documents are counted, 429 items retried.
func TestElasticsearchOutputBulkRequest(t *testing.T) {
	var lines []string
	answer := `{"errors":true,"items":[{"index":{"_index":"elb-logs-2026.11.28","_id":"a","status":201}},` +
		`{"index":{"_index":"elb-logs-2026.12.01","_id":"b","status":400,"error":{"type":"mapper_parsing_exception"}}}]}`
	es := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		lines = strings.Split(strings.TrimSpace(string(b)), "\n")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	defer es.Close()
	o := &logstashtest.ElasticsearchOutput{URL: es.URL}
	err := o.Push(context.Background(), []json.RawMessage{
		json.RawMessage(`{"@metadata":{"_id":"a"},"@timestamp":"2026-11-28T23:59:59.5-01:00","x":1}`),
		json.RawMessage(`{"@metadata":{"_id":"b"},"x":2}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 {
		t.Fatalf("bulk body has %d lines, want 4: %q", len(lines), lines)
	}
	if lines[0] != `{"index":{"_id":"a","_index":"elb-logs-2026.11.29"}}` {
		t.Errorf("action = %s, want the UTC day's index and the id", lines[0])
	}
	var doc map[string]any
	json.Unmarshal([]byte(lines[1]), &doc)
	if _, ok := doc["@metadata"]; ok || doc["@version"] != "1" || doc["x"] != 1.0 {
		t.Errorf("document = %s, want no @metadata, @version 1, the fields", lines[1])
	}
	json.Unmarshal([]byte(lines[3]), &doc)
	if doc["@timestamp"] == nil {
		t.Errorf("document without @timestamp got none: %s", lines[3])
	}
	if st := o.Stats(); st.Indexed != 1 || st.Rejected != 1 || len(st.Errors) != 1 {
		t.Errorf("stats = %+v, want 1 indexed, 1 rejected with its error", st)
	}
	answer = `{"errors":true,"items":[{"index":{"status":429}}]}`
	if err := o.Push(context.Background(), []json.RawMessage{json.RawMessage(`{"@metadata":{"_id":"c"}}`)}); err == nil {
		t.Error("a 429 item did not make Push fail (the input must refuse the request so it is retried)")
	}
}
