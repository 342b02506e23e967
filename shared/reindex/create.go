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
		mk.Aliases = withoutLocks(from.Aliases)
		// Blocked, but not by this run (block records its own): the final index keeps it.
		mk.SourceBlocked = from.writeBlocked() && !hasBlockRecord(from, st.Run)
	} else if tmp := from.marker(); tmp != nil {
		mk.SourceBlocked = tmp.SourceBlocked
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
	from, err := s.checkFrom(ctx, st, StepCreate)
	if err != nil {
		return err
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
