package reindex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

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
	st.SourceAliases = withoutLocks(src.Aliases)
	st.PreflightCount = i64(n)
	st.SourceWasBlocked = src.writeBlocked()
	st.From, st.To = src.Name, st.Dest
	st.Next = StepBlock
	return nil
}
