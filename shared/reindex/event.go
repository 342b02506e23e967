package reindex

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// The state machine's own actions (infra/statemachine/reindex.asl.json), besides StepPlan.
// Every other "step" in an event is a State's, run by Do.
const (
	// StepIndex: {"step":"index","item":<Item>} → the item after its next step.
	StepIndex Step = "index"
	// StepIndexRollback: {"step":"index-rollback","item":<Item with error>} → the item,
	// rolled back, with its report.
	StepIndexRollback Step = "index-rollback"
	// StepSummary: {"step":"summary","run","dry_run","indices","skipped"} → Report.
	StepSummary Step = "summary"
)

// MaxEventBytes caps an event before it is decoded: a state is a few KiB, and Step
// Functions passes at most 256 KiB.
const MaxEventBytes = 256 << 10

// Invoke runs one event of the reindex function and returns its JSON result:
// {"step":"plan","input":<execution input>} → Plan, "index"/"index-rollback" with an Item
// → the Item, "summary" → Report, and any other event is a State for DoEvent. Events are
// untrusted: unknown fields are refused, so the state machine and the function agree on
// every field. Every error has a stable name (ErrorName).
func (s *Steps) Invoke(ctx context.Context, event []byte) (json.RawMessage, error) {
	var head struct {
		Step Step `json:"step"`
	}
	_ = json.Unmarshal(event, &head) // a malformed event is DoEvent's to report
	var out any
	var err error
	switch head.Step {
	case StepPlan:
		var in struct {
			Step  string          `json:"step"`
			Input json.RawMessage `json:"input"`
		}
		if err = decodeEvent(head.Step, event, &in); err == nil {
			out, err = s.Plan(ctx, in.Input)
		}
	case StepIndex, StepIndexRollback:
		var in struct {
			Step string `json:"step"`
			Item Item   `json:"item"`
		}
		if err = decodeEvent(head.Step, event, &in); err == nil {
			if head.Step == StepIndex {
				out, err = s.Advance(ctx, in.Item)
			} else {
				out, err = s.Rollback(ctx, in.Item)
			}
		}
	case StepSummary:
		var in struct {
			Step string `json:"step"`
			SummaryInput
		}
		if err = decodeEvent(head.Step, event, &in); err == nil {
			out = Summarize(in.SummaryInput)
		}
	default:
		out, err = s.DoEvent(ctx, event)
	}
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, &Error{Name: InternalError, Step: head.Step, Err: fmt.Errorf("encode the result: %w", err)}
	}
	return b, nil
}

// DoEvent decodes a State from an event and runs its step (Do). An event over
// MaxEventBytes is refused before it is decoded, and the step checks every name and size
// in the State before it sends a request.
func (s *Steps) DoEvent(ctx context.Context, event []byte) (State, error) {
	if len(event) > MaxEventBytes {
		return State{}, fail(InvalidRequest, "", "reindex event is %d bytes, over the %d-byte limit: a state holds names and ids, never documents", len(event), MaxEventBytes)
	}
	var st State
	if err := decodeEvent("", event, &st); err != nil {
		return State{}, err
	}
	return s.Do(ctx, st)
}

// decodeEvent decodes an event strictly, refusing unknown fields (a typo such as "sorce"
// fails loudly instead of being ignored).
func decodeEvent(step Step, event []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(event))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fail(InvalidRequest, step, "event: %w", err)
	}
	return nil
}
