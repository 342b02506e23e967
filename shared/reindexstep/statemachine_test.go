package reindexstep

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
)

// The state machine's own steps, through aws-lambda-go's decoding as Lambda runs them:
// bad execution input fails as InvalidRequest naming the keys before Elasticsearch is
// asked (the URL here answers nothing), a state machine event with a field the function
// does not know is refused, and summary reports without Elasticsearch.
func TestInvokeStateMachineSteps(t *testing.T) {
	env := map[string]string{EnvURL: "http://127.0.0.1:1"}
	h, err := New(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	lh := lambda.NewHandler(h.Invoke)
	call := func(ev string) ([]byte, messages.InvokeResponse_Error) {
		out, err := lh.Invoke(context.Background(), []byte(ev))
		var ie messages.InvokeResponse_Error
		if err != nil {
			ie, _ = err.(messages.InvokeResponse_Error)
			if ie.Type == "" {
				t.Fatalf("%s: error %T %v", ev, err, err)
			}
		}
		return out, ie
	}
	if _, e := call(`{"step":"plan","input":{"pattern":"logs-*","maxConcurency":3}}`); e.Type != "InvalidRequest" || !strings.Contains(e.Message, `"maxConcurency"`) {
		t.Errorf("plan with a typo: %+v", e)
	}
	if _, e := call(`{"step":"plan","input":"logs-*"}`); e.Type != "InvalidRequest" || !strings.Contains(e.Message, "JSON object") {
		t.Errorf("plan with a string: %+v", e)
	}
	if _, e := call(`{"step":"index","item":{"source":"a","extra":1}}`); e.Type != "InvalidRequest" || !strings.Contains(e.Message, `unknown field "extra"`) {
		t.Errorf("index with an unknown field: %+v", e)
	}
	if _, e := call(`{"step":"index","item":{"source":"a"}}`); e.Type != "InvalidRequest" {
		t.Errorf("index with neither request nor state: %+v", e)
	}
	out, e := call(`{"step":"summary","run":"r1","dry_run":false,"indices":[{"source":"b","outcome":"rolled_back","error":"ReindexFailed"},{"source":"a","outcome":"swapped"}],"skipped":[{"source":"c","outcome":"skipped","reason":"live"}]}`)
	var rep struct {
		OK     bool
		Failed []string
		Cause  string
	}
	if e.Type != "" || json.Unmarshal(out, &rep) != nil || rep.OK || len(rep.Failed) != 1 || rep.Failed[0] != "b" || !strings.Contains(rep.Cause, "b (rolled_back, ReindexFailed)") {
		t.Errorf("summary: %s %+v", out, e)
	}
	// Anything else is still one reindex step on a State.
	if _, e := call(`{"step":"preflight","source":"a"}`); e.Type != "InvalidRequest" || !strings.Contains(e.Message, "validate") {
		t.Errorf("a plain step: %+v", e)
	}
}
