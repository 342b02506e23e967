package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// reindex runs `logferry reindex` (the state machine definition, run locally) over the
// daily indices with a mapping change — user_agent.original gains a text sub-field, for
// full-text search on user agents — with one index's copy made to fail on purpose, and
// checks the outcome in Elasticsearch itself rather than in the command's report: the
// others are swapped to copies with the new mapping and the same count, the failed one is
// rolled back intact (same count, no write block, no leftover copy).
func (r *run) reindex(ctx context.Context, st *state) error {
	before, err := r.concreteCounts(ctx, st)
	if err != nil {
		return err
	}
	names := sortedKeys(before)
	if len(names) < 2 {
		return fmt.Errorf("want at least two daily indices, found %v", names)
	}
	mappings, err := r.changedMappings(ctx, names[0])
	if err != nil {
		return err
	}
	file := filepath.Join(r.cfg.Dir, "mappings.json")
	if err := os.WriteFile(file, mappings, 0o644); err != nil {
		return err
	}
	r.say("mapping change: user_agent.original gains a text sub-field (user_agent.original.text); mappings in %s", file)

	// The failure on purpose: an index template that write-blocks whatever index is created
	// under the first day's name, so its copy cannot be written and must be rolled back.
	victim := names[0]
	breaker := "demo-break-" + strings.TrimSuffix(st.prefix, "-")
	if err := st.es.do(ctx, "PUT", "/_index_template/"+breaker, map[string]any{
		"index_patterns": []string{victim + "-*"}, "priority": 1000,
		"template": map[string]any{"settings": map[string]any{"index.blocks.write": true}},
		"_meta":    map[string]any{"description": "logferry demo: makes the copy of " + victim + " fail on purpose"},
	}, nil); err != nil {
		return err
	}
	r.say("on purpose: index template %s write-blocks any index named %s-*, so that copy must fail", breaker, victim)
	defer func() { _ = st.es.do(context.WithoutCancel(ctx), "DELETE", "/_index_template/"+breaker, nil, nil) }()

	out, exit, err := r.logferry(ctx, nil, "reindex", "--es", st.esURL, "--pattern", st.prefix+"*",
		"--mappings", file, "--max-concurrency", "2")
	if errors.Is(err, errMissing) {
		r.missing("reindex", "issue 7, branch sm")
		return nil
	}
	if err != nil {
		return err
	}
	r.check("logferry reindex fails, naming the index made to fail", exit != 0 && strings.Contains(out, victim),
		"exit status %d, output names %s: %v", exit, victim, strings.Contains(out, victim))
	return r.verifyReindex(ctx, st, before, victim)
}

// verifyReindex checks every daily index by its name after the reindex.
func (r *run) verifyReindex(ctx context.Context, st *state, before map[string]int64, victim string) error {
	if err := st.es.refresh(ctx, st.prefix+"*"); err != nil {
		return err
	}
	for _, name := range sortedKeys(before) {
		after, err := st.es.count(ctx, name, nil)
		if err != nil {
			return err
		}
		concrete, err := r.resolve(ctx, name)
		if err != nil {
			return err
		}
		hasText, err := r.hasTextSubfield(ctx, name)
		if err != nil {
			return err
		}
		res := IndexResult{Index: name, Before: before[name], After: after}
		switch {
		case name == victim:
			res.Outcome = "rolled_back"
			blocked, err := r.writeBlocked(ctx, name)
			if err != nil {
				return err
			}
			left, err := st.es.indices(ctx, name+"-*")
			if err != nil {
				return err
			}
			r.check(name+" rolled back intact", concrete == name && after == before[name] && !blocked && len(left) == 0 && !hasText,
				"still the concrete index: %v; %d → %d documents; write block left: %v; leftover copies: %v; old mapping: %v",
				concrete == name, before[name], after, blocked, sortedKeys(left), !hasText)
		default:
			res.Outcome = "swapped"
			r.check(name+" swapped to its copy", concrete != name && after == before[name] && hasText,
				"%s → %s; %d → %d documents; new mapping: %v", name, concrete, before[name], after, hasText)
		}
		r.rep.Reindexed = append(r.rep.Reindexed, res)
	}
	return nil
}

// concreteCounts returns the daily indices (concrete, not the demo's other indices) and
// their document counts.
func (r *run) concreteCounts(ctx context.Context, st *state) (map[string]int64, error) {
	if err := st.es.refresh(ctx, st.prefix+"*"); err != nil {
		return nil, err
	}
	all, err := st.es.indices(ctx, st.prefix+"*")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for name := range all {
		n, err := st.es.count(ctx, name, nil)
		if err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, nil
}

// changedMappings is index's current mapping with user_agent.original given a text sub-field.
func (r *run) changedMappings(ctx context.Context, index string) ([]byte, error) {
	var got map[string]struct {
		Mappings map[string]any `json:"mappings"`
	}
	if err := r.es.do(ctx, "GET", "/"+index+"/_mapping", nil, &got); err != nil {
		return nil, err
	}
	m := got[index].Mappings
	ua := dig(m, "properties", "user_agent", "properties", "original")
	if ua == nil {
		return nil, fmt.Errorf("%s has no user_agent.original mapping", index)
	}
	fields, _ := ua["fields"].(map[string]any)
	if fields == nil {
		fields = map[string]any{}
	}
	fields["text"] = map[string]any{"type": "text"}
	ua["fields"] = fields
	return json.MarshalIndent(m, "", "  ")
}

func (r *run) hasTextSubfield(ctx context.Context, name string) (bool, error) {
	var got map[string]struct {
		Mappings map[string]any `json:"mappings"`
	}
	if err := r.es.do(ctx, "GET", "/"+name+"/_mapping", nil, &got); err != nil {
		return false, err
	}
	for _, v := range got { // one entry: the concrete index behind name
		ua := dig(v.Mappings, "properties", "user_agent", "properties", "original", "fields", "text")
		return ua != nil && ua["type"] == "text", nil
	}
	return false, nil
}

// resolve returns the concrete index behind name (itself, or the index its alias points to).
func (r *run) resolve(ctx context.Context, name string) (string, error) {
	var got map[string]any
	if err := r.es.do(ctx, "GET", "/"+name+"/_settings/index.uuid", nil, &got); err != nil {
		return "", err
	}
	if len(got) != 1 {
		return "", fmt.Errorf("%s resolves to %d indices", name, len(got))
	}
	for k := range got {
		return k, nil
	}
	return "", nil
}

func (r *run) writeBlocked(ctx context.Context, name string) (bool, error) {
	var got map[string]struct {
		Settings map[string]any `json:"settings"`
	}
	if err := r.es.do(ctx, "GET", "/"+name+"/_settings/index.blocks.*?flat_settings=true", nil, &got); err != nil {
		return false, err
	}
	for _, v := range got {
		for k, val := range v.Settings {
			if strings.HasPrefix(k, "index.blocks.") && fmt.Sprint(val) == "true" {
				return true, nil
			}
		}
	}
	return false, nil
}

func dig(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		next, _ := m[p].(map[string]any)
		if next == nil {
			return nil
		}
		m = next
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
