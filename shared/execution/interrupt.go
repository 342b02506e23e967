package execution

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/logferry/logferry/shared/lambdaapi"
	"github.com/logferry/logferry/shared/reindex"
)

// Interrupted is the error name a rolled-back interrupted index reports.
const Interrupted = "Interrupted"

// RollBack rolls back items an interrupted execution left, through the same handler and
// step the state machine's Rollback state uses (index-rollback), retrying as its Retry
// does. Rollback stops the running copy (found by its description, whatever the state
// says), deletes the partial copy and lifts the write block; an index whose swap had gone
// through stays swapped. It returns one report per item.
func RollBack(ctx context.Context, fn lambdaapi.Handler, items []reindex.Item, cause string, retryWait time.Duration) []reindex.IndexReport {
	var out []reindex.IndexReport
	for _, it := range items {
		it.Error = &reindex.CaughtError{Error: Interrupted, Cause: cause}
		payload, _ := json.Marshal(map[string]any{"step": "index-rollback", "item": it})
		var rep *reindex.IndexReport
		var last messages.InvokeResponse_Error
		for try := 0; try < 6 && rep == nil; try++ {
			res, err := fn.Invoke(ctx, payload)
			if err == nil {
				var done reindex.Item
				if json.Unmarshal(res, &done) == nil && done.Report != nil {
					rep = done.Report
				}
				break
			}
			if !errors.As(err, &last) {
				last = messages.InvokeResponse_Error{Type: "Error", Message: err.Error()}
			}
			if last.Type != reindex.RollbackIncomplete && last.Type != reindex.ElasticsearchError {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(retryWait):
			}
		}
		if rep == nil {
			r := reindex.RollbackFailed(it, &reindex.CaughtError{Error: last.Type, Cause: last.Message}, time.Now())
			rep = &r
		}
		out = append(out, *rep)
	}
	return out
}
