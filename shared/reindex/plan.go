package reindex

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// StepPlan is the state machine's first step: it turns the execution input (a Request)
// into the list of indices to reindex. It is not one of the steps Do runs on a State.
const StepPlan Step = "plan"

// Plan is what the plan step returns: the indices to reindex with their size, those it
// skips and why, and what every index's State starts from. Mappings travel once, in
// Request, not with each index.
type Plan struct {
	Run            string        `json:"run"`
	DryRun         bool          `json:"dry_run"`
	MaxConcurrency int           `json:"max_concurrency"`
	Request        IndexRequest  `json:"request"`
	Indices        []IndexReport `json:"indices"` // outcome "planned"
	Skipped        []IndexReport `json:"skipped"` // outcome "skipped", with the reason
}

// IndexRequest is the part of every index's starting State that the indices share.
type IndexRequest struct {
	Mode              Mode            `json:"mode"`
	Run               string          `json:"run"`
	Mappings          json.RawMessage `json:"mappings,omitempty"`
	Settings          json.RawMessage `json:"settings,omitempty"`
	Template          bool            `json:"template,omitempty"`
	RequestsPerSecond int             `json:"requests_per_second,omitempty"`
	// MaxWaitSeconds is how long one copy may run before it is given up (CopyTimedOut).
	MaxWaitSeconds int `json:"max_wait_seconds"`
}

// MaxPlanBytes keeps the plan (and the report the execution ends with) inside Step
// Functions' 256 KiB payload limit, with room for the state machine's own fields.
const MaxPlanBytes = 240 << 10

// candidate is an index the plan may include: Name is what the run reindexes (an alias,
// when an earlier run swapped a copy in), Index the concrete index behind it.
type candidate struct {
	Name  string
	Index *indexInfo
}

// Plan resolves a Request against the cluster. It changes nothing. An input that cannot run
// fails with InvalidRequest naming every problem; an index that exists but should not be
// copied now (still written to, a copy of it unfinished) is skipped with the reason.
func (s *Steps) Plan(ctx context.Context, raw []byte) (Plan, error) {
	p, err := s.plan(ctx, raw)
	return p, named(StepPlan, err)
}

func (s *Steps) plan(ctx context.Context, raw []byte) (Plan, error) {
	req, err := ParseRequest(raw)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{
		Run:            s.newRunID(),
		DryRun:         req.DryRun,
		MaxConcurrency: req.maxConcurrency(),
		Request: IndexRequest{Mode: req.mode(), Mappings: req.Mappings, Settings: req.Settings, Template: req.Template,
			RequestsPerSecond: req.RequestsPerSecond, MaxWaitSeconds: req.maxWaitMinutes() * 60},
		Indices: []IndexReport{},
		Skipped: []IndexReport{},
	}
	p.Request.Run = p.Run

	var cands []candidate
	if req.Pattern != "" {
		cands, p.Skipped, err = s.resolvePattern(ctx, req.Pattern)
		if err == nil && len(cands) == 0 && len(p.Skipped) == 0 {
			err = fail(InvalidRequest, StepPlan, "pattern %q matches no open index", req.Pattern)
		}
	} else {
		cands, p.Skipped, err = s.resolveNames(ctx, req.Indices)
	}
	if err != nil {
		return Plan{}, err
	}
	if p.Skipped == nil {
		p.Skipped = []IndexReport{}
	}
	if len(cands) > MaxIndices {
		return Plan{}, fail(InvalidRequest, StepPlan, "%d indices, over the %d one execution takes: narrow the pattern", len(cands), MaxIndices)
	}
	sizes, err := s.sizes(ctx, cands)
	if err != nil {
		return Plan{}, err
	}
	quiet := map[string]string{}
	if q := req.quietMinutes(); q > 0 {
		if quiet, err = s.recentlyWritten(ctx, cands, time.Duration(q)*time.Minute); err != nil {
			return Plan{}, err
		}
	}
	var noTemplate []string
	for _, c := range cands {
		if reason, ok := quiet[c.Index.Name]; ok {
			p.Skipped = append(p.Skipped, IndexReport{Source: c.Name, Index: c.Index.Name, Outcome: OutcomeSkipped, Reason: reason})
			continue
		}
		r := IndexReport{Source: c.Name, Index: c.Index.Name, Dest: destName(c.Name, p.Run, p.Request.Mode), Mode: p.Request.Mode, Outcome: OutcomePlanned}
		if sz, ok := sizes[c.Index.Name]; ok {
			r.Docs, r.Bytes = i64(sz.docs), i64(sz.bytes)
		}
		if req.Template {
			if _, err := s.templateFor(ctx, r.Dest); ErrorName(err) == InvalidRequest {
				noTemplate = append(noTemplate, r.Dest)
			} else if err != nil {
				return Plan{}, err
			}
		}
		p.Indices = append(p.Indices, r)
	}
	if len(noTemplate) > 0 {
		return Plan{}, fail(InvalidRequest, StepPlan, `"template": true, but no index template matches %s`, listNames(noTemplate))
	}
	slices.SortFunc(p.Skipped, func(a, b IndexReport) int { return strings.Compare(a.Source, b.Source) })
	if n := p.worstCaseBytes(); n > MaxPlanBytes {
		return Plan{}, fail(InvalidRequest, StepPlan, "%d indices: their results could take %d bytes, over the %d one Step Functions payload holds: split them over several executions, or shorten the mappings",
			len(p.Indices), n, MaxPlanBytes)
	}
	return p, nil
}

// reportSlack is what an index's report may add to its planned line: counts, duration,
// the error's name and its message (trimmed to MaxMessageBytes).
const reportSlack = MaxMessageBytes + 200

// worstCaseBytes is the size of the largest state the execution passes on: after the Map,
// the plan with every index's report in place of its planned line, each failed with the
// longest message.
func (p Plan) worstCaseBytes() int {
	rest := p
	rest.Indices = nil
	b, _ := json.Marshal(rest)
	n := len(b)
	for _, ix := range p.Indices {
		line, _ := json.Marshal(ix)
		n += len(line) + reportSlack
	}
	return n
}

// destName is the copy's name as validate will choose it.
func destName(source, run string, mode Mode) string {
	if mode == ModeRenameBack {
		return source + "-" + run + "-tmp"
	}
	return source + "-" + run
}

// resolvePattern lists the open indices matching pattern as the names to reindex. An index
// an earlier alias-mode run swapped in stands under its alias (the old name, reindexed
// again by that name); hidden, system and lock indices never appear; the copy of an
// unfinished run (no alias with its source's name) is left out, and its source skipped.
func (s *Steps) resolvePattern(ctx context.Context, pattern string) ([]candidate, []IndexReport, error) {
	var out map[string]indexInfo
	err := do(ctx, s.t, "GET "+pattern, esapi.IndicesGetRequest{
		Index: []string{pattern}, FlatSettings: ptr(true), ExpandWildcards: "open", AllowNoIndices: ptr(true),
	}, &out)
	if statusOf(err) == 404 {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var cands []candidate
	unfinished := map[string][]string{} // source → its unfinished copies
	runsOf := map[string][]string{}     // source → runs of its unfinished copies
	for name, info := range out {
		info.Name = name
		info := info
		if excluded(&info) {
			continue
		}
		mk := info.marker()
		if mk != nil && name != mk.Source {
			if _, swapped := info.Aliases[mk.Source]; swapped && mk.Phase == PhaseCopy {
				if matchPattern(pattern, mk.Source) {
					cands = append(cands, candidate{Name: mk.Source, Index: &info})
				}
				continue
			}
			unfinished[mk.Source] = append(unfinished[mk.Source], name)
			runsOf[mk.Source] = append(runsOf[mk.Source], mk.Run)
			continue
		}
		cands = append(cands, candidate{Name: name, Index: &info})
	}
	var keep []candidate
	var skipped []IndexReport
	for _, c := range cands {
		if copies := unfinished[c.Name]; len(copies) > 0 {
			slices.Sort(copies)
			skipped = append(skipped, IndexReport{Source: c.Name, Index: c.Index.Name, Outcome: OutcomeSkipped,
				Reason: fmt.Sprintf("a copy of it (%s) is still running or was left by a run that failed: finish or roll back that run first", strings.Join(copies, ", "))})
			continue
		}
		keep = append(keep, c)
	}
	slices.SortFunc(keep, func(a, b candidate) int { return strings.Compare(a.Name, b.Name) })
	return keep, skipped, nil
}

// excluded tells whether an index is never the plan's business: hidden, system, a lock.
func excluded(i *indexInfo) bool {
	if strings.HasPrefix(i.Name, ".") || strings.HasPrefix(i.Name, lockPrefix) {
		return true
	}
	if v, _ := i.setting("index.hidden"); v == "true" {
		return true
	}
	mk := i.marker()
	return mk != nil && mk.Lock
}

// resolveNames checks each listed name the way the pattern would see it (so an alias left
// by an earlier run is reindexed by its name), and refuses the names that cannot be
// reindexed, all of them in one error.
func (s *Steps) resolveNames(ctx context.Context, names []string) ([]candidate, []IndexReport, error) {
	var cands []candidate
	var skipped []IndexReport
	var problems []string
	byIndex := map[string]string{}
	for _, name := range names {
		// name* also finds this name's copies, whatever run made them.
		cs, sk, err := s.resolvePattern(ctx, name+"*")
		if err != nil {
			return nil, nil, err
		}
		found := false
		for _, c := range cs {
			if c.Name == name {
				cands, found = append(cands, c), true
			}
		}
		for _, r := range sk {
			if r.Source == name {
				skipped, found = append(skipped, r), true
			}
		}
		if !found {
			problems = append(problems, s.whyNot(ctx, name))
			continue
		}
		if len(cands) > 0 && cands[len(cands)-1].Name == name {
			idx := cands[len(cands)-1].Index.Name
			if other, dup := byIndex[idx]; dup {
				problems = append(problems, fmt.Sprintf("%q and %q are the same index %q", other, name, idx))
			}
			byIndex[idx] = name
		}
	}
	if len(problems) > 0 {
		return nil, nil, fail(InvalidRequest, StepPlan, "indices: %s", strings.Join(problems, "; "))
	}
	return cands, skipped, nil
}

// whyNot says why a listed name is not something the plan can reindex.
func (s *Steps) whyNot(ctx context.Context, name string) string {
	infos, err := getIndex(ctx, s.t, name)
	switch {
	case err != nil:
		return fmt.Sprintf("%q: %v", name, err)
	case len(infos) == 0:
		return fmt.Sprintf("%q does not exist", name)
	case len(infos) > 1:
		return fmt.Sprintf("%q is an alias for %d indices: name one index", name, len(infos))
	}
	i := &infos[0]
	if excluded(i) {
		return fmt.Sprintf("%q is a hidden, system or lock index", name)
	}
	if v, _ := i.setting("index.verified_before_close"); v != "" {
		return fmt.Sprintf("%q is closed", name)
	}
	if mk := i.marker(); mk != nil && i.Name != mk.Source {
		if i.Name == name {
			return fmt.Sprintf("%q is a copy of %q made by run %q: name %q", name, mk.Source, mk.Run, mk.Source)
		}
		return fmt.Sprintf("%q points at %q, a copy of %q: name %q", name, i.Name, mk.Source, mk.Source)
	}
	return fmt.Sprintf("%q (index %q) is not an open index this workflow reindexes", name, i.Name)
}

type indexSize struct{ docs, bytes int64 }

// sizes reads document counts and primary store sizes.
func (s *Steps) sizes(ctx context.Context, cands []candidate) (map[string]indexSize, error) {
	out := map[string]indexSize{}
	for _, chunk := range nameChunks(cands) {
		var st struct {
			Indices map[string]struct {
				Primaries struct {
					Docs  struct{ Count int64 } `json:"docs"`
					Store struct {
						SizeInBytes int64 `json:"size_in_bytes"`
					} `json:"store"`
				} `json:"primaries"`
			} `json:"indices"`
		}
		err := do(ctx, s.t, "GET _stats", esapi.IndicesStatsRequest{Index: chunk, Metric: []string{"docs", "store"}, ExpandWildcards: "open"}, &st)
		if err != nil {
			return nil, err
		}
		for name, v := range st.Indices {
			out[name] = indexSize{docs: v.Primaries.Docs.Count, bytes: v.Primaries.Store.SizeInBytes}
		}
	}
	return out, nil
}

// recentlyWritten returns, by concrete index, why an index is not quiet: it holds a
// document whose @timestamp is less than quiet old (or in the future), or it has no
// @timestamp to tell. Log indices are written in time order, so the newest @timestamp is
// when the index was last written to, give or take the shipping delay.
func (s *Steps) recentlyWritten(ctx context.Context, cands []candidate, quiet time.Duration) (map[string]string, error) {
	out := map[string]string{}
	var timed []candidate
	for _, c := range cands {
		if hasTimestamp(c.Index.Mappings) {
			timed = append(timed, c)
		} else {
			out[c.Index.Name] = fmt.Sprintf("it has no @timestamp field to tell when it was last written to (set quietMinutes to 0 to include it)")
		}
	}
	now := s.cfg.Now()
	for _, chunk := range nameChunks(timed) {
		body, err := jsonBody(map[string]any{"size": 0, "aggs": map[string]any{"by_index": map[string]any{
			"terms": map[string]any{"field": "_index", "size": len(chunk)},
			"aggs":  map[string]any{"newest": map[string]any{"max": map[string]any{"field": "@timestamp"}}},
		}}})
		if err != nil {
			return nil, err
		}
		var res struct {
			Aggregations struct {
				ByIndex struct {
					Buckets []struct {
						Key    string `json:"key"`
						Newest struct {
							Value *float64 `json:"value"`
						} `json:"newest"`
					} `json:"buckets"`
				} `json:"by_index"`
			} `json:"aggregations"`
		}
		err = do(ctx, s.t, "newest @timestamp", esapi.SearchRequest{Index: chunk, Body: body, ExpandWildcards: "open", IgnoreUnavailable: ptr(true)}, &res)
		if err != nil {
			return nil, err
		}
		for _, b := range res.Aggregations.ByIndex.Buckets {
			if b.Newest.Value == nil {
				continue
			}
			newest := time.UnixMilli(int64(*b.Newest.Value)).UTC()
			if age := now.Sub(newest); age < quiet {
				out[b.Key] = fmt.Sprintf("written to %s ago (newest @timestamp %s), within quietMinutes %d: a copy of an index still written to cannot verify",
					age.Truncate(time.Second), newest.Format(time.RFC3339), int(quiet.Minutes()))
			}
		}
	}
	return out, nil
}

func hasTimestamp(mappings json.RawMessage) bool {
	var m struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	_ = json.Unmarshal(mappings, &m)
	_, ok := m.Properties["@timestamp"]
	return ok
}

// nameChunks splits the concrete names so that no request line grows past what
// Elasticsearch accepts (4 KiB by default).
func nameChunks(cands []candidate) [][]string {
	var chunks [][]string
	var cur []string
	n := 0
	for _, c := range cands {
		if n+len(c.Index.Name)+1 > 2048 && len(cur) > 0 {
			chunks, cur, n = append(chunks, cur), nil, 0
		}
		cur = append(cur, c.Index.Name)
		n += len(c.Index.Name) + 1
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks
}

func listNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
