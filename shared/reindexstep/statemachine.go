package reindexstep

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/logferry/logferry/shared/reindex"
)

// The state machine's own steps (infra/statemachine/reindex.asl.json). Every other "step"
// is one of shared/reindex's, run on a State by Handle.
const (
	// StepPlan: {"step":"plan","input":<execution input>} → reindex.Plan.
	StepPlan = "plan"
	// StepIndex: {"step":"index","item":<reindex.Item>} → the item after its next step.
	StepIndex = "index"
	// StepIndexRollback: {"step":"index-rollback","item":<reindex.Item with error>} → the
	// item, rolled back, with its report.
	StepIndexRollback = "index-rollback"
	// StepSummary: {"step":"summary","run","dry_run","indices","skipped"} → reindex.Report.
	StepSummary = "summary"
)

// Invoke is the function's entry point: it runs the state machine's own steps and hands
// every other event to Handle. Errors carry their stable names as errorType.
func (h *Handler) Invoke(ctx context.Context, event json.RawMessage) (json.RawMessage, error) {
	var head struct {
		Step string `json:"step"`
	}
	_ = json.Unmarshal(event, &head) // a malformed event is Handle's to report
	var out any
	var err error
	switch head.Step {
	case StepPlan:
		var in struct {
			Step  string          `json:"step"`
			Input json.RawMessage `json:"input"`
		}
		if err = decodeStrict(event, &in); err == nil {
			out, err = h.steps.Plan(ctx, in.Input)
		}
	case StepIndex, StepIndexRollback:
		var in struct {
			Step string       `json:"step"`
			Item reindex.Item `json:"item"`
		}
		if err = decodeStrict(event, &in); err == nil {
			if head.Step == StepIndex {
				out, err = h.steps.Advance(ctx, in.Item)
			} else {
				out, err = h.steps.Rollback(ctx, in.Item)
			}
		}
	case StepSummary:
		var in struct {
			Step string `json:"step"`
			reindex.SummaryInput
		}
		if err = decodeStrict(event, &in); err == nil {
			out = reindex.Summarize(in.SummaryInput)
		}
	default:
		st, herr := h.Handle(ctx, event)
		out, err = st, herr
	}
	if err != nil {
		var ie messages.InvokeResponse_Error
		if e, ok := err.(messages.InvokeResponse_Error); ok {
			ie = e
		} else {
			ie = messages.InvokeResponse_Error{Type: reindex.ErrorName(err), Message: err.Error()}
		}
		return nil, ie
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, messages.InvokeResponse_Error{Type: "InternalError", Message: fmt.Sprintf("encode %s result: %v", head.Step, err)}
	}
	return b, nil
}

// decodeStrict decodes a state machine step's event, refusing unknown fields: the state
// machine and the function must agree on every field.
func decodeStrict(event []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(event))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return messages.InvokeResponse_Error{Type: reindex.InvalidRequest, Message: "reindex event: " + err.Error()}
	}
	return nil
}
