package reindex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
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
	for _, name := range []string{st.Source, st.Dest} {
		if strings.HasPrefix(name, lockPrefix) {
			return fail(InvalidRequest, step, "%q: names starting with %q are the workflow's locks", name, lockPrefix)
		}
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
	if step != StepBlock && st.SourceCount == nil {
		return fail(InvalidRequest, step, "state has no source_count: run block first")
	}
	return nil
}

func (s *Steps) validate(ctx context.Context, st *State) error {
	if st.Mode == "" {
		st.Mode = ModeAlias
	}
	if st.Run == "" {
		st.Run = s.newRunID()
	}
	if st.Dest == "" && CheckIndexName(st.Source) == nil {
		st.Dest = st.Source + "-" + st.Run
		if st.Mode == ModeRenameBack {
			st.Dest += "-tmp"
		}
	}
	if err := st.checkRequest(StepValidate); err != nil {
		return err
	}
	if st.Phase != "" {
		return fail(InvalidRequest, StepValidate, "state is already in phase %q: validate starts a run", st.Phase)
	}
	if err := checkObject("mappings", st.Mappings, MaxMappingsBytes); err != nil {
		return fail(InvalidRequest, StepValidate, "%w", err)
	}
	if err := checkObject("settings", st.Settings, MaxMappingsBytes); err != nil {
		return fail(InvalidRequest, StepValidate, "%w", err)
	}
	if _, err := flatSettings(st.Settings); err != nil {
		return fail(InvalidRequest, StepValidate, "settings: %w", err)
	}

	dest, isAlias, err := concreteIndex(ctx, s.t, st.Dest)
	if err != nil {
		return err
	}
	if isAlias {
		return fail(NotOurs, StepValidate, "dest %q is an existing alias", st.Dest)
	}
	if dest != nil && !dest.ours(st.Run) {
		return fail(NotOurs, StepValidate, "dest %q already exists and was not created by run %q", st.Dest, st.Run)
	}
	if st.Template {
		if _, err := s.templateFor(ctx, st.Dest); err != nil {
			return err
		}
	}
	st.Phase = PhaseCopy
	st.To = st.Dest
	st.Next = StepPreflight
	return nil
}

func checkObject(what string, raw json.RawMessage, max int) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if len(raw) > max {
		return fmt.Errorf("%s are %d bytes, over the %d-byte limit", what, len(raw), max)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%s must be a JSON object: %w", what, err)
	}
	return nil
}

// template is what the index template matching a name would give a new index.
type template struct {
	Settings map[string]any
	Mappings json.RawMessage
}

func (s *Steps) templateFor(ctx context.Context, name string) (*template, error) {
	var out struct {
		Template *struct {
			Settings json.RawMessage `json:"settings"`
			Mappings json.RawMessage `json:"mappings"`
		} `json:"template"`
	}
	if err := do(ctx, s.t, "POST _index_template/_simulate_index/"+name, esapi.IndicesSimulateIndexTemplateRequest{Name: name}, &out); err != nil {
		return nil, err
	}
	if out.Template == nil {
		return nil, fail(InvalidRequest, "", "template: no index template matches %q", name)
	}
	flat, err := flatSettings(out.Template.Settings)
	if err != nil {
		return nil, fmt.Errorf("template settings for %q: %w", name, err)
	}
	return &template{Settings: flat, Mappings: out.Template.Mappings}, nil
}

func (s *Steps) preflight(ctx context.Context, st *State) error {
	infos, err := getIndex(ctx, s.t, st.Source)
	if err != nil {
		return err
	}
	switch {
	case len(infos) == 0:
		return fail(InvalidRequest, StepPreflight, "source %q does not exist", st.Source)
	case len(infos) > 1:
		names := make([]string, 0, len(infos))
		for _, i := range infos {
			names = append(names, i.Name)
		}
		return fail(InvalidRequest, StepPreflight, "source %q is an alias for %d indices (%s): name one index", st.Source, len(infos), strings.Join(names, ", "))
	}
	src := infos[0]
	if err := CheckIndexName(src.Name); err != nil {
		return fail(InvalidRequest, StepPreflight, "source %q resolves to %q: %w", st.Source, src.Name, err)
	}
	if src.Name == st.Dest {
		return fail(InvalidRequest, StepPreflight, "source %q resolves to the dest %q", st.Source, st.Dest)
	}
	if v, _ := src.setting("index.hidden"); v == "true" {
		return fail(InvalidRequest, StepPreflight, "source %q is a hidden index", src.Name)
	}
	n, err := count(ctx, s.t, src.Name)
	var es *ESError
	if errors.As(err, &es) && es.Type == "index_closed_exception" {
		return fail(InvalidRequest, StepPreflight, "source %q is closed: open it first", src.Name)
	}
	if err != nil {
		return err
	}
	st.SourceIndex = src.Name
	st.SourceAliases = src.Aliases
	st.PreflightCount = i64(n)
	st.SourceWasBlocked = src.writeBlocked()
	st.From, st.To = src.Name, st.Dest
	st.Next = StepBlock
	return nil
}

// block write-blocks From (waiting for in-flight writes) and counts it: from now on the
// count is what the copy must hold.
func (s *Steps) block(ctx context.Context, st *State) error {
	if st.Phase == PhaseCopy {
		if err := s.checkSourceIsFrom(ctx, st, StepBlock); err != nil {
			return err
		}
	}
	err := do(ctx, s.t, "PUT "+st.From+"/_block/write", esapi.IndicesAddBlockRequest{
		Index: []string{st.From}, Block: "write", ExpandWildcards: "none",
	}, nil)
	if statusOf(err) == http.StatusNotFound {
		return fail(InvalidRequest, StepBlock, "%q does not exist: %w", st.From, err)
	}
	if err != nil {
		return err
	}
	// _count and the copy's scroll see only refreshed documents: without this refresh, writes
	// the source took before the block (or all of them, with refresh_interval -1) would be
	// missing from the count and the copy alike, and verify would pass without them.
	if err := refresh(ctx, s.t, st.From); err != nil {
		return err
	}
	n, err := count(ctx, s.t, st.From)
	if err != nil {
		return err
	}
	if st.Phase == PhaseBack {
		if n != st.count() {
			return fail(CountMismatch, StepBlock, "temporary index %q holds %d documents, the source held %d", st.From, n, st.count())
		}
	} else {
		st.SourceCount = i64(n)
	}
	st.Next = StepCreate
	return nil
}

// copyable tells whether a new index may take this setting from an existing one: not the
// identity, history and blocks of the old index (the list Kibana's upgrade assistant drops).
func copyable(key string) bool {
	drop := [...]string{"index.uuid", "index.creation_date", "index.provided_name", "index.version.",
		"index.blocks.", "index.routing.allocation.initial_recovery.", "index.resize.", "index.verified_before_close",
		"index.frozen", "index.search.throttled", "index.history.uuid", "index.shrink."}
	for _, d := range drop {
		if key == d || strings.HasSuffix(d, ".") && strings.HasPrefix(key, d) {
			return false
		}
	}
	return true
}

// createBody works out the new index (its settings, mappings with our marker, and the
// settings to restore after the copy). It is deterministic, so a retried create computes
// the same Restore without depending on what the first attempt did.
func (s *Steps) createBody(ctx context.Context, st *State, from *indexInfo) (map[string]any, *Restore, error) {
	settings := map[string]any{}
	var mappings json.RawMessage
	switch {
	case st.Phase == PhaseBack:
		tmp := from
		for k, v := range tmp.Settings {
			if copyable(k) {
				settings[k] = v
			}
		}
		mappings = tmp.Mappings
	case st.Template:
		tpl, err := s.templateFor(ctx, st.To)
		if err != nil {
			return nil, nil, err
		}
		settings = tpl.Settings
		mappings = st.Mappings // the template's own mappings apply anyway
	default:
		src := from // checkValidated: in phase copy From is SourceIndex
		for k, v := range src.Settings {
			if copyable(k) {
				settings[k] = v
			}
		}
		mappings = src.Mappings
		if len(st.Mappings) > 0 && string(st.Mappings) != "null" {
			mappings = st.Mappings
		}
	}
	if st.Phase == PhaseCopy {
		over, err := flatSettings(st.Settings)
		if err != nil {
			return nil, nil, fail(InvalidRequest, StepCreate, "settings: %w", err)
		}
		for k, v := range over {
			settings[k] = v
		}
	}
	restore := &Restore{NumberOfReplicas: settingString(settings, "index.number_of_replicas"),
		RefreshInterval: settingString(settings, "index.refresh_interval")}
	if st.Phase == PhaseBack && st.Restore != nil {
		restore = st.Restore // the temporary holds copy-time values; the intended ones are in the state
	}
	settings["index.number_of_replicas"] = "0"
	settings["index.refresh_interval"] = "-1"

	mk := marker{CreatedBy: createdBy, Run: st.Run, Source: st.Source, Phase: st.Phase, FromUUID: from.uuid()}
	if st.Phase == PhaseCopy {
		mk.Aliases = from.Aliases
	}
	m, err := withMarker(mappings, mk)
	if err != nil {
		return nil, nil, fail(InvalidRequest, StepCreate, "mappings: %w", err)
	}
	return map[string]any{"settings": settings, "mappings": m}, restore, nil
}

func settingString(settings map[string]any, key string) *string {
	v, ok := settings[key]
	if !ok || v == nil {
		return nil
	}
	if s, ok := v.(string); ok {
		return &s
	}
	b, _ := json.Marshal(v)
	s := string(b)
	return &s
}

// withMarker adds _meta.logferry to mappings, keeping any other _meta keys.
func withMarker(mappings json.RawMessage, mk marker) (map[string]any, error) {
	m := map[string]any{}
	if len(mappings) > 0 && string(mappings) != "null" {
		d := json.NewDecoder(bytes.NewReader(mappings))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			return nil, err
		}
	}
	meta, _ := m["_meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["logferry"] = mk
	m["_meta"] = meta
	return m, nil
}

// flatSettings turns {"index":{"number_of_shards":1}}, {"number_of_shards":1} and
// {"index.number_of_shards":"1"} into {"index.number_of_shards": 1}.
func flatSettings(raw json.RawMessage) (map[string]any, error) {
	out := map[string]any{}
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			out[prefix+k] = v
		}
	}
	walk("", m)
	for k, v := range out {
		if !strings.HasPrefix(k, "index.") {
			delete(out, k)
			out["index."+k] = v
		}
	}
	for k := range out {
		if strings.HasPrefix(k, "index.blocks.") {
			return nil, fmt.Errorf("%q: blocks are managed by the workflow", k)
		}
	}
	return out, nil
}

// create makes To with the intended mappings and copy-time settings. A To that exists is
// accepted only if this run created it (a retried create).
func (s *Steps) create(ctx context.Context, st *State) error {
	from, _, err := concreteIndex(ctx, s.t, st.From)
	if err != nil {
		return err
	}
	if from == nil {
		return fail(InvalidRequest, StepCreate, "%q, the index to copy from, does not exist", st.From)
	}
	body, restore, err := s.createBody(ctx, st, from)
	if err != nil {
		return err
	}
	existing, isAlias, err := concreteIndex(ctx, s.t, st.To)
	if err != nil {
		return err
	}
	if isAlias {
		return fail(NotOurs, StepCreate, "%q is an existing alias", st.To)
	}
	if existing == nil {
		b, err := jsonBody(body)
		if err != nil {
			return err
		}
		err = do(ctx, s.t, "PUT "+st.To, esapi.IndicesCreateRequest{Index: st.To, Body: b}, nil)
		var es *ESError
		switch {
		case errors.As(err, &es) && es.Type == "resource_already_exists_exception":
			existing, _, err = concreteIndex(ctx, s.t, st.To)
			if err == nil && existing == nil {
				err = fmt.Errorf("PUT %s: exists, then vanished", st.To)
			}
		case errors.As(err, &es) && es.Status == http.StatusBadRequest:
			// Mappings or settings Elasticsearch refuses: retrying will not help.
			return fail(InvalidRequest, StepCreate, "create %q: %w", st.To, err)
		}
		if err != nil {
			return err
		}
	}
	if existing != nil && !existing.ours(st.Run) {
		return fail(NotOurs, StepCreate, "%q already exists and was not created by run %q", st.To, st.Run)
	}
	if existing != nil && !isCopy(st, existing, from) {
		mk := existing.marker()
		return fail(NotOurs, StepCreate, "%q was created by this run for another copy (phase %q, source %q, from uuid %q), not phase %q from %q (uuid %q)",
			st.To, mk.Phase, mk.Source, mk.FromUUID, st.Phase, st.From, from.uuid())
	}
	st.Restore = restore
	st.Created = true
	st.Next = StepStart
	return nil
}

// start starts the copy, unless this copy's task is already known: a retried start must
// not run a second copy next to the first.
func (s *Steps) start(ctx context.Context, st *State) error {
	if !st.Created {
		return fail(InvalidRequest, StepStart, "%q was not created by this run: run create first", st.To)
	}
	// "created" is the state's word; the copy goes only into the index create made for it.
	if err := s.checkCopyTarget(ctx, st, StepStart); err != nil {
		return err
	}
	st.Status = StatusRunning
	st.Next = StepCheck
	st.WaitSeconds = int(s.cfg.PollInterval.Seconds())
	if st.TaskID != "" {
		return nil
	}
	id, _, err := findTask(ctx, s.t, st.From, st.To)
	if err != nil {
		return err
	}
	if id != "" {
		s.log.InfoContext(ctx, "reindex: adopting the copy task a previous start left", "task", id, "from", st.From, "to", st.To)
		st.TaskID = id
		st.Tasks = appendNew(st.Tasks, id)
		return nil
	}
	// A partial destination (a start whose task was lost) needs conflicts=proceed, or the
	// documents already there would abort the copy; op_type=create never overwrites them.
	if err := refresh(ctx, s.t, st.To); err != nil {
		return err
	}
	n, err := count(ctx, s.t, st.To)
	if err != nil {
		return err
	}
	body := map[string]any{
		"source": map[string]any{"index": st.From},
		"dest":   map[string]any{"index": st.To, "op_type": "create"},
	}
	if n > 0 {
		st.Conflicts = "proceed"
		body["conflicts"] = "proceed"
	}
	b, err := jsonBody(body)
	if err != nil {
		return err
	}
	req := esapi.ReindexRequest{Body: b, WaitForCompletion: ptr(false), Slices: "auto"}
	if st.RequestsPerSecond > 0 {
		req.RequestsPerSecond = ptr(st.RequestsPerSecond)
	}
	var out struct {
		Task string `json:"task"`
	}
	if err := do(ctx, s.t, "POST _reindex", req, &out); err != nil {
		return err
	}
	if out.Task == "" {
		return fmt.Errorf("POST _reindex: no task id in the response")
	}
	st.TaskID = out.Task
	st.Tasks = appendNew(st.Tasks, out.Task)
	return nil
}

// checkSourceIsFrom makes sure the request's source still resolves to exactly From: a
// state edited between steps (source_index not what source names) must not aim a block or
// a swap at another index.
func (s *Steps) checkSourceIsFrom(ctx context.Context, st *State, step Step) error {
	infos, err := getIndex(ctx, s.t, st.Source)
	if err != nil {
		return err
	}
	if len(infos) != 1 || infos[0].Name != st.From {
		names := make([]string, 0, len(infos))
		for _, i := range infos {
			names = append(names, i.Name)
		}
		return fail(InvalidRequest, step, "source %q resolves to [%s], not to source_index %q", st.Source, strings.Join(names, ", "), st.From)
	}
	return nil
}

// checkCopyTarget makes sure To is the index this run created for this copy of From.
func (s *Steps) checkCopyTarget(ctx context.Context, st *State, step Step) error {
	from, _, err := concreteIndex(ctx, s.t, st.From)
	if err != nil {
		return err
	}
	if from == nil {
		return fail(InvalidRequest, step, "%q, the index to copy from, does not exist", st.From)
	}
	to, _, err := concreteIndex(ctx, s.t, st.To)
	if err != nil {
		return err
	}
	if !isCopy(st, to, from) {
		return fail(NotOurs, step, "%q does not exist or was not created by run %q for the copy from %q", st.To, st.Run, st.From)
	}
	return nil
}

// checkTask refuses a task that is not this copy's: the id of another task (another copy,
// an update-by-query, one slice of this copy) says nothing about this copy.
func checkTask(t *taskResult, st *State, step Step) error {
	if t.Task.Action != reindexAction || t.Task.ParentTaskID != "" || !descriptionMatches(t.Task.Description, st.From, st.To) {
		return fail(InvalidRequest, step, "task %s is %q (%s), not the copy from %q to %q", st.TaskID, t.Task.Description, t.Task.Action, st.From, st.To)
	}
	return nil
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// taskOutcome judges a task result: nil error and done=false while it runs; nil and
// done=true only when it finished without error, failures or cancellation and wrote every
// document it read.
func taskOutcome(t *taskResult, st *State) (p Progress, done bool, err error) {
	if !t.Completed {
		s := t.Task.Status
		return Progress{Total: s.Total, Created: s.Created, Updated: s.Updated, VersionConflicts: s.VersionConflicts}, false, nil
	}
	if len(t.Error) > 0 && string(t.Error) != "null" {
		return p, true, fail(ReindexFailed, "", "task %s failed: %s", st.TaskID, reason(t.Error))
	}
	r := t.Response
	if r == nil {
		return p, true, fail(ReindexFailed, "", "task %s completed without a response", st.TaskID)
	}
	p = Progress{Total: r.Total, Created: r.Created, Updated: r.Updated, VersionConflicts: r.VersionConflicts, Failures: len(r.Failures)}
	switch {
	case len(r.Failures) > 0:
		return p, true, fail(ReindexFailed, "", "task %s: %d documents failed, e.g. %s", st.TaskID, len(r.Failures), reason(r.Failures[0]))
	case r.Canceled != "":
		return p, true, fail(ReindexFailed, "", "task %s was cancelled: %s", st.TaskID, r.Canceled)
	case r.TimedOut:
		return p, true, fail(ReindexFailed, "", "task %s timed out", st.TaskID)
	}
	// With op_type=create a version conflict is a document already in the destination (from
	// a copy whose task was lost). A task started with conflicts=abort reports a conflict as
	// a failure (caught above), so conflicts here come from conflicts=proceed: counted as
	// present, and verify's _count comparison has the last word.
	written := r.Created + r.Updated + r.VersionConflicts
	if written != r.Total {
		return p, true, fail(ReindexFailed, "", "task %s wrote %d of %d documents (created %d, updated %d, version conflicts %d, noops %d)",
			st.TaskID, written, r.Total, r.Created, r.Updated, r.VersionConflicts, r.Noops)
	}
	return p, true, nil
}

// reason shortens an Elasticsearch error or failure object to its type and reason.
func reason(raw json.RawMessage) string {
	var v struct {
		ID     string `json:"id"`
		Type   string `json:"type"`
		Reason string `json:"reason"`
		Cause  *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"cause"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	if v.Cause != nil {
		return fmt.Sprintf("document %q: %s: %s", v.ID, v.Cause.Type, v.Cause.Reason)
	}
	if v.Type != "" {
		return v.Type + ": " + v.Reason
	}
	return string(raw)
}

// check reads the task. Running is not an error: Status "running" and Next "check" tell
// the state machine to wait and check again.
func (s *Steps) check(ctx context.Context, st *State) error {
	if st.TaskID == "" {
		return fail(InvalidRequest, StepCheck, "no task_id: run start first")
	}
	t, err := getTask(ctx, s.t, st.TaskID, false)
	if err != nil {
		return err
	}
	if err := checkTask(t, st, StepCheck); err != nil {
		return err
	}
	p, done, err := taskOutcome(t, st)
	st.Copy = &p
	if err != nil {
		return err
	}
	if !done {
		st.Status = StatusRunning
		st.Next = StepCheck
		st.WaitSeconds = int(s.cfg.PollInterval.Seconds())
		return nil
	}
	st.Status = StatusCopied
	st.WaitSeconds = 0
	st.Next = StepVerify
	return nil
}

// verified is the proof that To is a complete copy of From. Only verifyCopy makes one, and
// every helper that deletes or swaps away an index takes one.
type verified struct {
	from, to string
	count    int64
	// lock is the copy's lock, which the swap takes in the call that removes from.
	lock string
	// aliases are the source's aliases as Elasticsearch has them: From's own (phase copy),
	// or those the temporary recorded when it was created (phase back).
	aliases map[string]json.RawMessage
}

// verifyCopy asks Elasticsearch — not the state — whether To is a complete copy of From:
// the task finished cleanly, From is still write-blocked, and after refreshing To both
// _counts equal the count taken when From was blocked.
func (s *Steps) verifyCopy(ctx context.Context, st *State, step Step) (verified, error) {
	if st.TaskID == "" {
		return verified{}, fail(InvalidRequest, step, "no task_id: nothing was copied")
	}
	t, err := getTask(ctx, s.t, st.TaskID, false)
	if err != nil {
		return verified{}, err
	}
	if err := checkTask(t, st, step); err != nil {
		return verified{}, err
	}
	p, done, err := taskOutcome(t, st)
	if err != nil {
		return verified{}, err
	}
	if !done {
		return verified{}, fail(InvalidRequest, step, "task %s is still running: verify after check reports %q", st.TaskID, StatusCopied)
	}
	from, _, err := concreteIndex(ctx, s.t, st.From)
	if err != nil {
		return verified{}, err
	}
	if from == nil {
		return verified{}, fail(InvalidRequest, step, "%q does not exist", st.From)
	}
	if !from.writeBlocked() {
		return verified{}, fail(CountMismatch, step, "%q is not write-blocked, so its count cannot be compared", st.From)
	}
	if st.Phase == PhaseCopy {
		if err := s.checkSourceIsFrom(ctx, st, step); err != nil {
			return verified{}, err
		}
	}
	to, _, err := concreteIndex(ctx, s.t, st.To)
	if err != nil {
		return verified{}, err
	}
	if !isCopy(st, to, from) {
		return verified{}, fail(NotOurs, step, "%q does not exist or is not the copy run %q made of %q in phase %q", st.To, st.Run, st.From, st.Phase)
	}
	if err := refresh(ctx, s.t, st.To); err != nil {
		return verified{}, err
	}
	// From too: a write that slipped in while someone lifted the block is otherwise invisible.
	if err := refresh(ctx, s.t, st.From); err != nil {
		return verified{}, err
	}
	toN, err := count(ctx, s.t, st.To)
	if err != nil {
		return verified{}, err
	}
	fromN, err := count(ctx, s.t, st.From)
	if err != nil {
		return verified{}, err
	}
	st.FromCount, st.ToCount, st.Copy = i64(fromN), i64(toN), &p
	switch {
	case fromN != st.count():
		return verified{}, fail(CountMismatch, step, "%q holds %d documents, %d when the copy began", st.From, fromN, st.count())
	case p.Total != fromN:
		return verified{}, fail(CountMismatch, step, "the task read %d documents, %q holds %d", p.Total, st.From, fromN)
	case toN != fromN:
		return verified{}, fail(CountMismatch, step, "%q holds %d documents, %q holds %d", st.To, toN, st.From, fromN)
	}
	aliases := from.Aliases
	if st.Phase == PhaseBack {
		aliases = nil
		if mk := from.marker(); mk != nil && from.ours(st.Run) {
			aliases = mk.Aliases
		}
	}
	return verified{from: st.From, to: st.To, count: toN, aliases: aliases, lock: st.lock()}, nil
}

func (s *Steps) verify(ctx context.Context, st *State) error {
	if _, err := s.verifyCopy(ctx, st, StepVerify); err != nil {
		return err
	}
	st.Status = StatusVerified
	st.Next = StepRestore
	return nil
}

// restore gives To its intended replicas and refresh interval back, and the write block the
// source had before the run.
func (s *Steps) restore(ctx context.Context, st *State) error {
	if st.Restore == nil {
		return fail(InvalidRequest, StepRestore, "no settings to restore: run create first")
	}
	to, _, err := concreteIndex(ctx, s.t, st.To)
	if err != nil {
		return err
	}
	if to == nil || !to.ours(st.Run) {
		return fail(NotOurs, StepRestore, "%q does not exist or was not created by run %q", st.To, st.Run)
	}
	index := map[string]any{
		"number_of_replicas": st.Restore.NumberOfReplicas,
		"refresh_interval":   st.Restore.RefreshInterval,
	}
	// The final index keeps a write block the source had before the run. (In rename-back the
	// temporary is blocked for its own copy anyway.)
	if st.SourceWasBlocked && (st.Mode == ModeAlias || st.Phase == PhaseBack) {
		index["blocks.write"] = true
	}
	b, err := jsonBody(map[string]any{"index": index})
	if err != nil {
		return err
	}
	if err := do(ctx, s.t, "PUT "+st.To+"/_settings", esapi.IndicesPutSettingsRequest{Index: []string{st.To}, Body: b, ExpandWildcards: "none"}, nil); err != nil {
		return err
	}
	st.Next = StepSwap
	return nil
}

// swap replaces the source with the verified copy. Each branch first recognises a swap a
// crashed attempt already made, then re-verifies the copy itself before acting.
func (s *Steps) swap(ctx context.Context, st *State) error {
	from, _, err := concreteIndex(ctx, s.t, st.From)
	if err != nil {
		return err
	}
	if from == nil {
		return s.swapDone(ctx, st)
	}
	if err := s.swapVerified(ctx, st); err != nil {
		// The same swap sent twice at once: the other invocation removed From under this
		// one. Judge by the outcome, as a retry would.
		if from, _, ferr := concreteIndex(ctx, s.t, st.From); ferr == nil && from == nil {
			return s.swapDone(ctx, st)
		}
		return err
	}
	return nil
}

func (s *Steps) swapVerified(ctx context.Context, st *State) error {
	v, err := s.verifyCopy(ctx, st, StepSwap)
	if err != nil {
		return err
	}
	s.at(hookSwapVerified)
	// Every branch removes From in one _aliases call that also takes the copy's lock, so a
	// rollback running at the same moment either stops it or sees it done (lock.go).
	var aliases map[string]json.RawMessage
	switch {
	case st.Mode == ModeAlias:
		aliases = st.aliasesFor(v.aliases, st.To, true)
	case st.Phase == PhaseCopy:
		// Rename-back's first swap only removes the source; its aliases go onto the final
		// index after the copy back.
	default:
		aliases = st.aliasesFor(v.aliases, st.To, false)
	}
	if err := s.replaceWithAlias(ctx, v, aliases); err != nil {
		return s.preempted(ctx, v, err)
	}
	if st.Mode == ModeRenameBack && st.Phase == PhaseCopy {
		st.turnBack()
		return nil
	}
	st.Status, st.Next = StatusSwapped, StepCleanup
	return nil
}

// swapDone handles a swap whose From is gone: a retry after the swap went through. It
// accepts only the exact outcome the swap produces.
func (s *Steps) swapDone(ctx context.Context, st *State) error {
	infos, err := getIndex(ctx, s.t, st.Source)
	if err != nil {
		return err
	}
	switch {
	case st.Mode == ModeAlias:
		if len(infos) == 1 && infos[0].Name == st.To && st.Source != st.To {
			st.Status, st.Next = StatusSwapped, StepCleanup
			return nil
		}
		return fail(InvalidRequest, StepSwap, "source %q is gone but %q does not point at the copy %q: nothing swapped", st.From, st.Source, st.To)
	case st.Phase == PhaseCopy:
		// The source was deleted after verification; the temporary must still hold it all.
		to, _, err := concreteIndex(ctx, s.t, st.To)
		if err != nil {
			return err
		}
		if to == nil || !to.ours(st.Run) {
			return fail(InvalidRequest, StepSwap, "source %q and the copy %q are both gone", st.From, st.To)
		}
		if err := refresh(ctx, s.t, st.To); err != nil {
			return err
		}
		n, err := count(ctx, s.t, st.To)
		if err != nil {
			return err
		}
		if n != st.count() {
			return fail(CountMismatch, StepSwap, "source %q is gone and the copy %q holds %d documents, not %d", st.From, st.To, n, st.count())
		}
		st.turnBack()
		return nil
	default:
		to, _, err := concreteIndex(ctx, s.t, st.To)
		if err != nil {
			return err
		}
		if to == nil || !to.ours(st.Run) {
			return fail(InvalidRequest, StepSwap, "temporary %q is gone and %q is not this run's copy", st.From, st.To)
		}
		st.Status, st.Next = StatusSwapped, StepCleanup
		return nil
	}
}

// turnBack starts rename-back's second copy: the temporary back into the source's name.
func (st *State) turnBack() {
	st.Phase = PhaseBack
	st.From, st.To = st.Dest, st.Source
	st.TaskID, st.Conflicts, st.Created = "", "", false
	st.Copy, st.FromCount, st.ToCount = nil, nil, nil
	st.Status, st.Next = StatusSwapped, StepBlock
}

// aliasesFor lists the aliases to put on the copy: the source's own (with their filters,
// routing and write flags; not an earlier run's lock) and, in alias mode, one named like
// the source.
func (st *State) aliasesFor(source map[string]json.RawMessage, target string, withSourceName bool) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for name, def := range source {
		if name != target && !strings.HasPrefix(name, lockPrefix) {
			out[name] = def
		}
	}
	if withSourceName {
		if _, ok := out[st.Source]; !ok {
			out[st.Source] = json.RawMessage(`{}`)
		}
	}
	return out
}

// replaceWithAlias is one atomic _aliases call: the aliases and the copy's lock go onto
// v.to and v.from is deleted, all or nothing. It fails, changing nothing, when v.to is gone
// or a rollback holds the lock as an index.
func (s *Steps) replaceWithAlias(ctx context.Context, v verified, aliases map[string]json.RawMessage) error {
	actions, err := aliasActions(v.to, aliases)
	if err != nil {
		return err
	}
	actions = append(actions, lockAction(v), map[string]any{"remove_index": map[string]any{"index": v.from}})
	b, err := jsonBody(map[string]any{"actions": actions})
	if err != nil {
		return err
	}
	return do(ctx, s.t, "POST _aliases", esapi.IndicesUpdateAliasesRequest{Body: b}, nil)
}

// aliasActions are the _aliases "add" actions putting aliases (with their definitions) on index.
func aliasActions(index string, aliases map[string]json.RawMessage) ([]any, error) {
	actions := make([]any, 0, len(aliases)+1)
	for name, def := range aliases {
		add := map[string]any{}
		if len(def) > 0 && string(def) != "null" {
			if err := json.Unmarshal(def, &add); err != nil {
				return nil, fail(InvalidRequest, "", "alias %q definition: %w", name, err)
			}
		}
		add["index"], add["alias"] = index, name
		actions = append(actions, map[string]any{"add": add})
	}
	return actions, nil
}

func deleteIndex(ctx context.Context, t esapi.Transport, name string) error {
	err := do(ctx, t, "DELETE "+name, esapi.IndicesDeleteRequest{Index: []string{name}, ExpandWildcards: "none"}, nil)
	if statusOf(err) == http.StatusNotFound {
		return nil
	}
	return err
}

// cleanup deletes the stored task results, best effort: a cluster that forbids writes to
// .tasks keeps them, which costs disk, not correctness.
func (s *Steps) cleanup(ctx context.Context, st *State) error {
	for _, id := range st.Tasks {
		// Only the results of this run's copies: a task id the state lists is not proof of that.
		t, err := getTask(ctx, s.t, id, false)
		if ErrorName(err) == TaskLost {
			continue
		}
		if err != nil {
			s.log.WarnContext(ctx, "reindex: could not read a task result", "task", id, "error", err)
			continue
		}
		if t.Task.Action != reindexAction || !descriptionMatches(t.Task.Description, st.SourceIndex, st.Dest) &&
			!descriptionMatches(t.Task.Description, st.Dest, st.Source) {
			s.log.WarnContext(ctx, "reindex: leaving the result of a task that is not this run's copy", "task", id, "description", t.Task.Description)
			continue
		}
		err = do(ctx, s.t, "DELETE .tasks/_doc/"+id, esapi.DeleteRequest{Index: ".tasks", DocumentID: id}, nil)
		if err != nil && statusOf(err) != http.StatusNotFound {
			s.log.WarnContext(ctx, "reindex: could not delete a task result", "task", id, "error", err)
		}
	}
	s.dropLocks(ctx, st)
	st.Status, st.Next, st.WaitSeconds = StatusDone, "", 0
	return nil
}
