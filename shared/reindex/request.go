package reindex

import (
	"strings"
)

// checkRequest checks the request fields without asking Elasticsearch. Every step runs it,
// so a state edited between steps cannot point a later step at another index.
func (st *State) checkRequest(step Step) error {
	if err := CheckIndexName(st.Source); err != nil {
		return fail(InvalidRequest, step, "source: %w", err)
	}
	if err := CheckIndexName(st.Dest); err != nil {
		return fail(InvalidRequest, step, "dest: %w", err)
	}
	if st.Dest == st.Source {
		return fail(InvalidRequest, step, "dest %q is the source", st.Dest)
	}
	// The progress fields name indices too, and a forged state can set them at any step:
	// they follow the request's rules, so no step acts on a hidden, wildcard or lock name.
	for _, f := range [...]struct{ field, name string }{
		{"source", st.Source}, {"dest", st.Dest}, {"from", st.From}, {"to", st.To}, {"source_index", st.SourceIndex},
	} {
		if f.name == "" && (f.field == "from" || f.field == "to" || f.field == "source_index") {
			continue // not set yet: validate and preflight fill them in
		}
		if err := CheckIndexName(f.name); err != nil {
			return fail(InvalidRequest, step, "%s: %w", f.field, err)
		}
		if strings.HasPrefix(f.name, lockPrefix) {
			return fail(InvalidRequest, step, "%s %q: names starting with %q are the workflow's locks", f.field, f.name, lockPrefix)
		}
	}
	if st.SourceIndex != "" && st.SourceIndex == st.Dest {
		return fail(InvalidRequest, step, "source_index %q is the dest", st.SourceIndex)
	}
	if err := checkRunID(st.Run); err != nil {
		return fail(InvalidRequest, step, "%w", err)
	}
	if st.Mode != ModeAlias && st.Mode != ModeRenameBack {
		return fail(InvalidRequest, step, `mode %q: want "alias" or "rename-back"`, st.Mode)
	}
	if st.RequestsPerSecond < 0 {
		return fail(InvalidRequest, step, "requests_per_second %d is negative", st.RequestsPerSecond)
	}
	if len(st.Tasks) > MaxTasks {
		return fail(InvalidRequest, step, "tasks lists %d task ids, over %d: a run starts one copy per phase", len(st.Tasks), MaxTasks)
	}
	// Task ids go into URL paths unescaped: "n:1?x=y" or "n:1/../x" would ask for something else.
	for _, id := range append([]string{st.TaskID}, st.Tasks...) {
		if id != "" && !validTaskID(id) {
			return fail(InvalidRequest, step, "task id %q: want <node id>:<number>", id)
		}
	}
	return nil
}

func validTaskID(id string) bool {
	node, num, ok := strings.Cut(id, ":")
	if !ok || node == "" || num == "" || len(id) > 128 {
		return false
	}
	for _, c := range node {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// checkValidated refuses to run a step on a state that validate (and, past preflight,
// preflight) has not produced.
func (st *State) checkValidated(step Step) error {
	if st.Run == "" || st.Dest == "" || st.Mode == "" {
		return fail(InvalidRequest, step, "state has not been through validate (run, dest and mode are set by it)")
	}
	if err := st.checkRequest(step); err != nil {
		return err
	}
	if step == StepPreflight {
		return nil
	}
	if st.From == "" || st.To == "" || st.SourceIndex == "" {
		return fail(InvalidRequest, step, "state has not been through preflight (from, to and source_index are set by it)")
	}
	if err := st.checkPhase(step); err != nil {
		return err
	}
	if step != StepBlock && st.SourceCount == nil {
		return fail(InvalidRequest, step, "state has no source_count: run block first")
	}
	return nil
}

// checkPhase makes sure From and To are the copy the phase makes: source_index to dest, or
// (rename-back's second copy) dest back to the source's name.
func (st *State) checkPhase(step Step) error {
	switch st.Phase {
	case PhaseCopy:
		if st.From != st.SourceIndex || st.To != st.Dest {
			return fail(InvalidRequest, step, "phase copy must copy source_index %q to dest %q, not %q to %q", st.SourceIndex, st.Dest, st.From, st.To)
		}
	case PhaseBack:
		if st.Mode != ModeRenameBack || st.From != st.Dest || st.To != st.Source {
			return fail(InvalidRequest, step, "phase back must copy dest %q to %q in rename-back mode, not %q to %q", st.Dest, st.Source, st.From, st.To)
		}
	default:
		return fail(InvalidRequest, step, "unknown phase %q", st.Phase)
	}
	return nil
}
