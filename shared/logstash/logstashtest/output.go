package logstashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ElasticsearchOutput indexes events into Elasticsearch the way Logstash's elasticsearch
// output does with the pipeline README.md shows:
//
//	index => "<IndexPrefix>%{+YYYY.MM.dd}"   document_id => "%{[@metadata][_id]}"
//
// @metadata is not sent (Logstash never sends it); @version "1" is added and, on an event
// without @timestamp, @timestamp is the time the event was taken, as Logstash sets them. The
// daily index comes from @timestamp in UTC. Its Push is an Options.Output.
type ElasticsearchOutput struct {
	// URL of Elasticsearch, e.g. http://127.0.0.1:9200. Required.
	URL string
	// IndexPrefix of the daily indices. Default "elb-logs-".
	IndexPrefix string
	// Client sends the _bulk requests. Default: a client with a 60 s timeout.
	Client *http.Client
	// Now is the clock for events without @timestamp. Default time.Now.
	Now func() time.Time

	mu       sync.Mutex
	indexed  int64
	rejected int64
	errs     []string
}

// OutputStats is what an ElasticsearchOutput did so far.
type OutputStats struct {
	Indexed  int64    // documents Elasticsearch accepted (created or overwritten)
	Rejected int64    // documents it refused (mapping errors): Logstash logs and drops them
	Errors   []string // the first few refusals, for the report
}

// Stats returns the counts so far.
func (o *ElasticsearchOutput) Stats() OutputStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return OutputStats{Indexed: o.indexed, Rejected: o.rejected, Errors: append([]string(nil), o.errs...)}
}

// Push indexes events with one _bulk request. Documents refused for what they hold are
// counted as rejected (a retry cannot help; Logstash drops them too); a request that fails,
// or items refused with 429 or 5xx, return an error so the input refuses the whole request
// and the sender retries it (ids are deterministic: a retry overwrites).
func (o *ElasticsearchOutput) Push(ctx context.Context, events []json.RawMessage) error {
	if len(events) == 0 {
		return nil
	}
	prefix := o.IndexPrefix
	if prefix == "" {
		prefix = "elb-logs-"
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	var body bytes.Buffer
	for i, ev := range events {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(ev, &doc); err != nil {
			return fmt.Errorf("event %d is not a JSON object: %w", i, err)
		}
		var meta struct {
			ID string `json:"_id"`
		}
		if m, ok := doc["@metadata"]; ok {
			_ = json.Unmarshal(m, &meta)
			delete(doc, "@metadata")
		}
		ts := now().UTC()
		if raw, ok := doc["@timestamp"]; ok {
			var s string
			t, err := time.Time{}, json.Unmarshal(raw, &s)
			if err == nil {
				t, err = time.Parse(time.RFC3339Nano, s)
			}
			if err != nil {
				return fmt.Errorf("event %d: @timestamp %s: %w", i, raw, err)
			}
			ts = t.UTC()
		} else {
			doc["@timestamp"], _ = json.Marshal(ts.Format(time.RFC3339Nano))
		}
		doc["@version"] = json.RawMessage(`"1"`)
		action := map[string]map[string]string{"index": {"_index": prefix + ts.Format("2006.01.02")}}
		if meta.ID != "" {
			action["index"]["_id"] = meta.ID
		}
		a, _ := json.Marshal(action)
		d, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		body.Write(a)
		body.WriteByte('\n')
		body.Write(d)
		body.WriteByte('\n')
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.URL, "/")+"/_bulk", &body)
	if err != nil {
		return fmt.Errorf("elasticsearch output: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("elasticsearch output: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("elasticsearch output: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("elasticsearch output: _bulk answered %s: %.300s", resp.Status, raw)
	}
	var ans struct {
		Items []map[string]struct {
			Index  string          `json:"_index"`
			ID     string          `json:"_id"`
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("elasticsearch output: _bulk answer is not JSON: %w", err)
	}
	if len(ans.Items) != len(events) {
		return fmt.Errorf("elasticsearch output: _bulk answered %d items for %d documents", len(ans.Items), len(events))
	}
	var indexed, rejected int64
	var errs []string
	retry := 0
	for _, item := range ans.Items {
		r := item["index"]
		switch {
		case r.Status >= 200 && r.Status < 300:
			indexed++
		case r.Status == http.StatusTooManyRequests || r.Status >= 500:
			retry++
		default:
			rejected++
			errs = append(errs, fmt.Sprintf("%s/%s: %d %s", r.Index, r.ID, r.Status, r.Error))
		}
	}
	o.mu.Lock()
	o.indexed += indexed
	o.rejected += rejected
	for _, e := range errs {
		if len(o.errs) < 5 {
			o.errs = append(o.errs, e)
		}
	}
	o.mu.Unlock()
	if retry > 0 {
		return fmt.Errorf("elasticsearch output: %d of %d documents refused for now (429/5xx)", retry, len(events))
	}
	return nil
}
