package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// es is the few Elasticsearch calls the demo's checks make, over plain HTTP.
type es struct {
	url    string
	client *http.Client
}

func newES(url string) *es {
	return &es{url: strings.TrimRight(url, "/"), client: &http.Client{Timeout: 60 * time.Second}}
}

// do sends body (JSON, or nil) and decodes a 2xx answer into out (when not nil).
func (e *es) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return fmt.Errorf("elasticsearch %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("elasticsearch %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("elasticsearch %s %s: %s: %.400s", method, path, resp.Status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("elasticsearch %s %s: answer: %w", method, path, err)
		}
	}
	return nil
}

func (e *es) refresh(ctx context.Context, index string) error {
	return e.do(ctx, http.MethodPost, "/"+index+"/_refresh?allow_no_indices=true&expand_wildcards=all", nil, nil)
}

// count is _count of index (a name, alias or pattern) for query (nil: all).
func (e *es) count(ctx context.Context, index string, query any) (int64, error) {
	var body any
	if query != nil {
		body = map[string]any{"query": query}
	}
	var out struct {
		Count int64 `json:"count"`
	}
	err := e.do(ctx, http.MethodPost, "/"+index+"/_count?allow_no_indices=true", body, &out)
	return out.Count, err
}

// indices returns the concrete indices matching pattern with their document counts.
func (e *es) indices(ctx context.Context, pattern string) (map[string]int64, error) {
	var rows []struct {
		Index string `json:"index"`
		Count string `json:"docs.count"`
	}
	if err := e.do(ctx, http.MethodGet, "/_cat/indices/"+pattern+"?format=json&h=index,docs.count&expand_wildcards=open", nil, &rows); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, r := range rows {
		var n int64
		fmt.Sscan(r.Count, &n)
		out[r.Index] = n
	}
	return out, nil
}
