package reindexstep

import (
	"context"
	"encoding/json"

	"github.com/logferry/logferry/shared/reindex"
)

// The state machine's own steps (infra/statemachine/reindex.asl.json), as reindex names
// them. Every other "step" is one of shared/reindex's, run on a State by Handle.
const (
	StepPlan          = string(reindex.StepPlan)
	StepIndex         = string(reindex.StepIndex)
	StepIndexRollback = string(reindex.StepIndexRollback)
	StepSummary       = string(reindex.StepSummary)
)

// Invoke is the function's entry point: reindex.Steps.Invoke runs the state machine's own
// steps, or one step on a State; errors carry their stable names as errorType.
func (h *Handler) Invoke(ctx context.Context, event json.RawMessage) (json.RawMessage, error) {
	out, err := h.steps.Invoke(ctx, event)
	if err != nil {
		return nil, invokeError(err)
	}
	return out, nil
}
