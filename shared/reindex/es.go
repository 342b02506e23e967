package reindex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// ESError is an error response from Elasticsearch.
type ESError struct {
	Status int
	Type   string // e.g. index_not_found_exception
	Reason string
}

func (e *ESError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Reason)
	}
	return fmt.Sprintf("HTTP %d: %s: %s", e.Status, e.Type, e.Reason)
}

func statusOf(err error) int {
	var e *ESError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// do runs one esapi request and decodes a 2xx body into out (if non-nil). Errors name what
// was asked: "GET _tasks/x: HTTP 404: ...".
func do(ctx context.Context, t esapi.Transport, what string, req esapi.Request, out any) error {
	res, err := req.Do(ctx, t)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("%s: read response: %w", what, err)
	}
	if res.IsError() {
		return fmt.Errorf("%s: %w", what, parseESError(res.StatusCode, body))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: decode response: %w", what, err)
	}
	return nil
}

func parseESError(status int, body []byte) *ESError {
	e := &ESError{Status: status}
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil && len(v.Error) > 0 {
		var obj struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(v.Error, &obj) == nil && obj.Type != "" {
			e.Type, e.Reason = obj.Type, obj.Reason
			return e
		}
		var s string
		if json.Unmarshal(v.Error, &s) == nil {
			e.Reason = s
			return e
		}
	}
	e.Reason = strings.TrimSpace(string(bytes.ToValidUTF8(body[:min(len(body), 300)], nil)))
	if e.Reason == "" {
		e.Reason = http.StatusText(status)
	}
	return e
}

func jsonBody(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode request body: %w", err)
	}
	return bytes.NewReader(b), nil
}

func ptr[T any](v T) *T { return &v }

// indexInfo is one index as GET /<name>?flat_settings=true shows it.
type indexInfo struct {
	Name     string                     // the concrete index
	Aliases  map[string]json.RawMessage `json:"aliases"`
	Mappings json.RawMessage            `json:"mappings"`
	Settings map[string]any             `json:"settings"`
}

// getIndex resolves name (an index or an alias) to its indices. A missing name is (nil, nil).
func getIndex(ctx context.Context, t esapi.Transport, name string) ([]indexInfo, error) {
	var out map[string]indexInfo
	err := do(ctx, t, "GET "+name, esapi.IndicesGetRequest{
		Index:           []string{name},
		FlatSettings:    ptr(true),
		ExpandWildcards: "none",
	}, &out)
	if statusOf(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	infos := make([]indexInfo, 0, len(out))
	for n, info := range out {
		info.Name = n
		infos = append(infos, info)
	}
	return infos, nil
}

// concreteIndex returns the index named exactly name, or nil when there is none (name may
// then be free, or an alias: isAlias tells which).
func concreteIndex(ctx context.Context, t esapi.Transport, name string) (info *indexInfo, isAlias bool, err error) {
	infos, err := getIndex(ctx, t, name)
	if err != nil {
		return nil, false, err
	}
	for i := range infos {
		if infos[i].Name == name {
			return &infos[i], false, nil
		}
	}
	return nil, len(infos) > 0, nil
}

func (i *indexInfo) setting(key string) (string, bool) {
	v, ok := i.Settings[key]
	if !ok || v == nil {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	return s, true
}

func (i *indexInfo) writeBlocked() bool {
	v, _ := i.setting("index.blocks.write")
	return v == "true"
}

// marker is what this package writes into the _meta of every index it creates.
type marker struct {
	CreatedBy string `json:"created_by"`
	Run       string `json:"run"`
	Source    string `json:"source"`
	Phase     Phase  `json:"phase"`
	// FromUUID is the uuid of the index the copy is made from: an index that merely has
	// From's name now (the source deleted and recreated, or rename-back's new index) is not
	// the one this copy holds the data of.
	FromUUID string `json:"from_uuid,omitempty"`
	// Aliases are the source's aliases when the first copy was made: rename-back puts them on
	// the final index after the source is gone. Kept here, not taken from the state, so an
	// edited state cannot point someone else's alias at the copy.
	Aliases map[string]json.RawMessage `json:"aliases,omitempty"`
	// SourceBlocked: the source had a write block that this run did not set (create read it
	// from Elasticsearch), so the final index gets one too. Phase back copies it from the
	// temporary's marker.
	SourceBlocked bool `json:"source_blocked,omitempty"`
	// Lock marks a rollback's lock index (see lock.go), which is never a copy.
	Lock bool `json:"lock,omitempty"`
}

const createdBy = "logferry"

// marker returns the index's logferry _meta, or nil.
func (i *indexInfo) marker() *marker {
	var m struct {
		Meta struct {
			Logferry *marker `json:"logferry"`
		} `json:"_meta"`
	}
	if json.Unmarshal(i.Mappings, &m) != nil || m.Meta.Logferry == nil || m.Meta.Logferry.CreatedBy != createdBy {
		return nil
	}
	return m.Meta.Logferry
}

func (i *indexInfo) uuid() string {
	v, _ := i.setting("index.uuid")
	return v
}

// isCopy tells whether to is the index this run created in st's phase as the copy of from
// — the very index, by uuid.
func isCopy(st *State, to, from *indexInfo) bool {
	if to == nil || from == nil {
		return false
	}
	m := to.marker()
	return m != nil && m.Run == st.Run && m.Phase == st.Phase && m.Source == st.Source &&
		m.FromUUID != "" && m.FromUUID == from.uuid()
}

// ours tells whether run created the index.
func (i *indexInfo) ours(run string) bool {
	m := i.marker()
	return m != nil && m.Run == run
}

func count(ctx context.Context, t esapi.Transport, index string) (int64, error) {
	var out struct {
		Count  int64 `json:"count"`
		Shards struct {
			Total, Successful int
		} `json:"_shards"`
	}
	if err := do(ctx, t, "GET "+index+"/_count", esapi.CountRequest{Index: []string{index}, ExpandWildcards: "none"}, &out); err != nil {
		return 0, err
	}
	// A count over missing shards is a lower bound, not a count.
	if out.Shards.Successful != out.Shards.Total {
		return 0, fmt.Errorf("GET %s/_count: only %d of %d shards answered", index, out.Shards.Successful, out.Shards.Total)
	}
	return out.Count, nil
}

func refresh(ctx context.Context, t esapi.Transport, index string) error {
	var out struct {
		Shards struct {
			Total, Successful, Failed int
		} `json:"_shards"`
	}
	if err := do(ctx, t, "POST "+index+"/_refresh", esapi.IndicesRefreshRequest{Index: []string{index}, ExpandWildcards: "none"}, &out); err != nil {
		return err
	}
	if out.Shards.Failed > 0 {
		return fmt.Errorf("POST %s/_refresh: %d shards failed", index, out.Shards.Failed)
	}
	return nil
}

// taskResult is GET _tasks/<id> for a reindex task.
type taskResult struct {
	Completed bool `json:"completed"`
	Task      struct {
		Action       string `json:"action"`
		ParentTaskID string `json:"parent_task_id"`
		Description  string `json:"description"`
		Cancelled    bool   `json:"cancelled"`
		Status       struct {
			Total            int64 `json:"total"`
			Created          int64 `json:"created"`
			Updated          int64 `json:"updated"`
			VersionConflicts int64 `json:"version_conflicts"`
		} `json:"status"`
	} `json:"task"`
	Error    json.RawMessage `json:"error"`
	Response *struct {
		Total            int64             `json:"total"`
		Created          int64             `json:"created"`
		Updated          int64             `json:"updated"`
		Deleted          int64             `json:"deleted"`
		Noops            int64             `json:"noops"`
		VersionConflicts int64             `json:"version_conflicts"`
		TimedOut         bool              `json:"timed_out"`
		Canceled         string            `json:"canceled"`
		Failures         []json.RawMessage `json:"failures"`
	} `json:"response"`
}

// getTask returns the task, or a TaskLost error when Elasticsearch does not know it.
func getTask(ctx context.Context, t esapi.Transport, id string, wait bool) (*taskResult, error) {
	var out taskResult
	req := esapi.TasksGetRequest{TaskID: id}
	if wait {
		req.WaitForCompletion = ptr(true)
	}
	err := do(ctx, t, "GET _tasks/"+id, req, &out)
	if statusOf(err) == http.StatusNotFound {
		return nil, &Error{Name: TaskLost, Err: fmt.Errorf("task %s is unknown to Elasticsearch (node restarted or result deleted); the copy is not resumed: %w", id, err)}
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// taskDescription is how Elasticsearch describes a reindex from one index to another; it
// finds a task whose start was not recorded (a start that crashed after Elasticsearch
// accepted it). Dest names carry the run id, so the description identifies this run.
func taskDescription(from, to string) string {
	return "reindex from [" + from + "] to [" + to + "]"
}

func descriptionMatches(desc, from, to string) bool {
	want := taskDescription(from, to)
	// 7.x appends the type: "reindex from [a] to [b][_doc]".
	return desc == want || strings.HasPrefix(desc, want+"[")
}

const reindexAction = "indices:data/write/reindex"

// findTask looks for this copy's reindex task: first among running tasks (parents only,
// not slices), then among the results stored in .tasks. It returns "" when there is none.
// Reading .tasks is best effort: clusters that forbid it only lose the second lookup.
func findTask(ctx context.Context, t esapi.Transport, from, to string) (id string, running bool, err error) {
	ids, err := runningCopies(ctx, t, from, to)
	if err != nil || len(ids) > 0 {
		return strings.Join(ids[:min(len(ids), 1)], ""), len(ids) > 0, err
	}
	return storedCopy(ctx, t, from, to)
}

// runningCopies lists the running reindex tasks (parents, not slices) copying from into
// to: normally one, more when a start was sent twice at once.
func runningCopies(ctx context.Context, t esapi.Transport, from, to string) ([]string, error) {
	var list struct {
		Nodes map[string]struct {
			Tasks map[string]struct {
				Description  string `json:"description"`
				ParentTaskID string `json:"parent_task_id"`
			} `json:"tasks"`
		} `json:"nodes"`
	}
	err := do(ctx, t, "GET _tasks", esapi.TasksListRequest{
		Actions:  []string{reindexAction},
		Detailed: ptr(true),
	}, &list)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, n := range list.Nodes {
		for tid, task := range n.Tasks {
			if task.ParentTaskID == "" && descriptionMatches(task.Description, from, to) {
				ids = append(ids, tid)
			}
		}
	}
	slices.Sort(ids) // the same answer for the same tasks, so a retried start adopts the same one
	return ids, nil
}

// storedCopy finds the newest stored result of a copy from into to in .tasks.
func storedCopy(ctx context.Context, t esapi.Transport, from, to string) (id string, running bool, err error) {

	var hits struct {
		Hits struct {
			Hits []struct {
				ID     string `json:"_id"`
				Source struct {
					Task struct {
						Description string `json:"description"`
						Start       int64  `json:"start_time_in_millis"`
					} `json:"task"`
				} `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	q := map[string]any{
		"size": 20,
		"sort": []any{map[string]any{"task.start_time_in_millis": "desc"}},
		"query": map[string]any{"bool": map[string]any{"filter": []any{
			map[string]any{"term": map[string]any{"task.action": reindexAction}},
			map[string]any{"match_phrase": map[string]any{"task.description": taskDescription(from, to)}},
		}}},
	}
	// A result stored a moment ago is not searchable before a refresh.
	_ = do(ctx, t, "POST .tasks/_refresh", esapi.IndicesRefreshRequest{Index: []string{".tasks"}, IgnoreUnavailable: ptr(true)}, nil)
	body, err := jsonBody(q)
	if err != nil {
		return "", false, err
	}
	err = do(ctx, t, "search .tasks", esapi.SearchRequest{
		Index:             []string{".tasks"},
		Body:              body,
		IgnoreUnavailable: ptr(true),
	}, &hits)
	if err != nil {
		// Not having .tasks (or not being allowed to read it) means no stored result.
		if s := statusOf(err); s == http.StatusNotFound || s == http.StatusForbidden || s == http.StatusBadRequest {
			return "", false, nil
		}
		return "", false, err
	}
	for _, h := range hits.Hits.Hits {
		if descriptionMatches(h.Source.Task.Description, from, to) {
			return h.ID, false, nil
		}
	}
	return "", false, nil
}
