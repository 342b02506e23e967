package reindex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Request is the state machine's execution input: what a user pastes into the Step
// Functions console, and what `logferry reindex` builds from its flags. The JSON keys are
// camelCase because people type them.
type Request struct {
	// Indices names the indices (or aliases of one index each) to reindex; Pattern names them
	// by a wildcard pattern instead. Exactly one of the two.
	Indices []string `json:"indices,omitempty"`
	Pattern string   `json:"pattern,omitempty"`
	// Mappings (inline) for every copy; default: each source's own. Template takes them from
	// the index template matching each copy's name instead.
	Mappings json.RawMessage `json:"mappings,omitempty"`
	Template bool            `json:"template,omitempty"`
	// Settings override index settings of every copy.
	Settings json.RawMessage `json:"settings,omitempty"`
	// Swap is "alias" (default) or "rename-back".
	Swap Mode `json:"swap,omitempty"`
	// MaxConcurrency is how many indices are copied at once. Default 2.
	MaxConcurrency int `json:"maxConcurrency,omitempty"`
	// RequestsPerSecond throttles each copy; 0 (default) means unthrottled.
	RequestsPerSecond int `json:"requestsPerSecond,omitempty"`
	// QuietMinutes skips (and reports) indices with a document whose @timestamp is less than
	// this many minutes old: a copy of an index still written to can never verify, and its
	// write block would refuse the writers. Default 10; 0 turns the check off.
	QuietMinutes *int `json:"quietMinutes,omitempty"`
	// MaxWaitMinutes is how long one copy may run before it is given up and rolled back.
	// Default 1440 (a day).
	MaxWaitMinutes int `json:"maxWaitMinutes,omitempty"`
	// DryRun returns the plan and changes nothing.
	DryRun bool `json:"dryRun,omitempty"`
}

// Defaults and limits of a Request.
const (
	DefaultMaxConcurrency = 2
	MaxMaxConcurrency     = 50
	DefaultQuietMinutes   = 10
	DefaultMaxWaitMinutes = 24 * 60
	MaxMaxWaitMinutes     = 7 * 24 * 60
	// MaxIndices bounds one execution: a year of daily indices and some room. The
	// execution's output (one short line per index) must stay under Step Functions' 256 KiB.
	MaxIndices = 500
)

// requestKeys are the keys a Request may have, in the order errors list them.
var requestKeys = []string{"indices", "pattern", "mappings", "template", "settings", "swap",
	"maxConcurrency", "requestsPerSecond", "quietMinutes", "maxWaitMinutes", "dryRun"}

// ParseRequest decodes and checks an execution input without asking Elasticsearch. Every
// problem is reported at once, each naming its key: unknown keys (with the known ones),
// values of the wrong type, values out of range.
func ParseRequest(raw []byte) (Request, error) {
	var r Request
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return r, fail(InvalidRequest, StepPlan, `execution input must be a JSON object such as {"pattern": "logs-2026.10.*"}`)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return r, fail(InvalidRequest, StepPlan, "execution input: %w", err)
	}
	var problems []string
	var unknown []string
	for k := range fields {
		if !slices.Contains(requestKeys, k) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		problems = append(problems, fmt.Sprintf("unknown key%s %s (known: %s)", plural(len(unknown)), strings.Join(unknown, ", "), strings.Join(requestKeys, ", ")))
	}
	field := func(key string, dst any, what string) {
		v, ok := fields[key]
		if !ok {
			return
		}
		if err := json.Unmarshal(v, dst); err != nil {
			problems = append(problems, fmt.Sprintf("%s: want %s, got %s", key, what, clip(string(v), 60)))
		}
	}
	field("indices", &r.Indices, "a list of index names")
	field("pattern", &r.Pattern, "a string")
	field("template", &r.Template, "true or false")
	field("swap", &r.Swap, `"alias" or "rename-back"`)
	field("maxConcurrency", &r.MaxConcurrency, "a whole number")
	field("requestsPerSecond", &r.RequestsPerSecond, "a whole number")
	field("quietMinutes", &r.QuietMinutes, "a whole number")
	field("maxWaitMinutes", &r.MaxWaitMinutes, "a whole number")
	field("dryRun", &r.DryRun, "true or false")
	if v, ok := fields["mappings"]; ok {
		if err := checkObject("mappings", v, MaxMappingsBytes); err != nil {
			problems = append(problems, err.Error())
		} else {
			r.Mappings = v
		}
	}
	if v, ok := fields["settings"]; ok {
		if err := checkObject("settings", v, MaxMappingsBytes); err != nil {
			problems = append(problems, err.Error())
		} else if _, err := flatSettings(v); err != nil {
			problems = append(problems, "settings: "+err.Error())
		} else {
			r.Settings = v
		}
	}
	problems = append(problems, r.check(fields)...)
	if len(problems) > 0 {
		return Request{}, fail(InvalidRequest, StepPlan, "execution input: %s", strings.Join(problems, "; "))
	}
	return r, nil
}

// check reports the values a decoded Request cannot run with.
func (r *Request) check(fields map[string]json.RawMessage) []string {
	var p []string
	_, hasIndices := fields["indices"]
	_, hasPattern := fields["pattern"]
	switch {
	case hasIndices && hasPattern:
		p = append(p, `give either "indices" or "pattern", not both`)
	case !hasIndices && !hasPattern:
		p = append(p, `give "indices" (a list of index names) or "pattern" (e.g. "logs-2026.10.*")`)
	case hasIndices && len(r.Indices) == 0 && fields["indices"][0] == '[':
		p = append(p, "indices: the list is empty")
	case hasIndices && len(r.Indices) > MaxIndices:
		p = append(p, fmt.Sprintf("indices: %d names, over the %d one execution takes", len(r.Indices), MaxIndices))
	}
	seen := map[string]bool{}
	for _, name := range r.Indices {
		if err := CheckIndexName(name); err != nil {
			p = append(p, "indices: "+err.Error())
		} else if strings.HasPrefix(name, lockPrefix) {
			p = append(p, fmt.Sprintf("indices: %q is one of the workflow's locks", name))
		}
		if seen[name] {
			p = append(p, fmt.Sprintf("indices: %q is listed twice", name))
		}
		seen[name] = true
	}
	if hasPattern {
		if err := checkPattern(r.Pattern); err != nil {
			p = append(p, "pattern: "+err.Error())
		}
	}
	if r.Swap != "" && r.Swap != ModeAlias && r.Swap != ModeRenameBack {
		p = append(p, fmt.Sprintf(`swap: %q: want "alias" or "rename-back"`, r.Swap))
	}
	if _, ok := fields["maxConcurrency"]; ok && (r.MaxConcurrency < 1 || r.MaxConcurrency > MaxMaxConcurrency) {
		p = append(p, fmt.Sprintf("maxConcurrency: %d: want 1 to %d", r.MaxConcurrency, MaxMaxConcurrency))
	}
	if r.RequestsPerSecond < 0 {
		p = append(p, fmt.Sprintf("requestsPerSecond: %d is negative (0 or leave it out for unthrottled)", r.RequestsPerSecond))
	}
	if r.QuietMinutes != nil && *r.QuietMinutes < 0 {
		p = append(p, fmt.Sprintf("quietMinutes: %d is negative (0 turns the check off)", *r.QuietMinutes))
	}
	if _, ok := fields["maxWaitMinutes"]; ok && (r.MaxWaitMinutes < 1 || r.MaxWaitMinutes > MaxMaxWaitMinutes) {
		p = append(p, fmt.Sprintf("maxWaitMinutes: %d: want 1 to %d", r.MaxWaitMinutes, MaxMaxWaitMinutes))
	}
	return p
}

// checkPattern accepts one Elasticsearch index pattern: a name in which '*' may stand for
// any characters. Lists, exclusions and hidden names are refused, so the pattern means what
// it reads as.
func checkPattern(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty")
	case p == "_all" || strings.Trim(p, "*") == "":
		return fmt.Errorf("%q means every index: narrow it, e.g. \"logs-2026.10.*\"", p)
	case strings.Contains(p, ","):
		return fmt.Errorf("%q is a list: give one pattern, or use \"indices\"", p)
	case strings.HasPrefix(p, "-"):
		return fmt.Errorf("%q is an exclusion", p)
	}
	// The pattern must be a valid name once its wildcards are letters.
	if err := CheckIndexName(strings.ReplaceAll(p, "*", "x")); err != nil {
		return err
	}
	if strings.HasPrefix(p, lockPrefix) {
		return fmt.Errorf("%q matches only the workflow's locks", p)
	}
	return nil
}

// matchPattern tells whether name matches p, where '*' matches any run of characters.
func matchPattern(p, name string) bool {
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(name, part)
		if i < 0 {
			return false
		}
		name = name[i+len(part):]
	}
	return strings.HasSuffix(name, parts[len(parts)-1])
}

func (r *Request) mode() Mode {
	if r.Swap == "" {
		return ModeAlias
	}
	return r.Swap
}

func (r *Request) quietMinutes() int {
	if r.QuietMinutes == nil {
		return DefaultQuietMinutes
	}
	return *r.QuietMinutes
}

func (r *Request) maxConcurrency() int {
	if r.MaxConcurrency == 0 {
		return DefaultMaxConcurrency
	}
	return r.MaxConcurrency
}

func (r *Request) maxWaitMinutes() int {
	if r.MaxWaitMinutes == 0 {
		return DefaultMaxWaitMinutes
	}
	return r.MaxWaitMinutes
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
