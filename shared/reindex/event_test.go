package reindex

import (
	"encoding/json"
	"strings"
	"testing"
)

// Invoke sends each event to its step, and refuses a bad one as InvalidRequest, naming
// what is wrong, before any request (the transport fails the test on any).
func TestInvokeDispatchesWithoutCallingElasticsearch(t *testing.T) {
	s := New(failTransport{t}, Config{})
	ctx := testCtx(t)
	bad := map[string]string{
		`{"step":"plan","input":{"pattern":"logs-*","maxConcurency":3}}`:        `"maxConcurency"`,
		`{"step":"plan","input":"logs-*"}`:                                      "JSON object",
		`{"step":"plan","input":{},"extra":1}`:                                  `unknown field "extra"`,
		`{"step":"index","item":{"source":"a","extra":1}}`:                      `unknown field "extra"`,
		`{"step":"index-rollback","item":[]}`:                                   "cannot unmarshal array",
		`{"step":"summary","indices":{}}`:                                       "cannot unmarshal object",
		`{"step":"preflight","source":"a"}`:                                     "validate",
		`{"step":"cleanup","sorce":"a"}`:                                        `unknown field "sorce"`,
		`["step","cleanup"]`:                                                    "cannot unmarshal array",
		`{"step":"cleanup","run":"` + strings.Repeat("r", MaxEventBytes) + `"}`: "over the",
	}
	for ev, want := range bad {
		out, err := s.Invoke(ctx, []byte(ev))
		if ErrorName(err) != InvalidRequest || !strings.Contains(err.Error(), want) || out != nil {
			t.Errorf("%.80s: %s %v, want InvalidRequest mentioning %q", ev, out, err, want)
		}
		if err != nil && len(err.Error()) > 1000 {
			t.Errorf("%.80s: the error is %d bytes: it quotes the event", ev, len(err.Error()))
		}
	}
	out, err := s.Invoke(ctx, []byte(`{"step":"summary","run":"r1","dry_run":false,"indices":[{"source":"b","outcome":"rolled_back","error":"ReindexFailed"},{"source":"a","outcome":"swapped"}],"skipped":[{"source":"c","outcome":"skipped","reason":"live"}]}`))
	var rep Report
	if err != nil || json.Unmarshal(out, &rep) != nil || rep.OK || len(rep.Failed) != 1 || rep.Failed[0] != "b" || !strings.Contains(rep.Cause, "b (rolled_back, ReindexFailed)") {
		t.Errorf("summary: %s %v", out, err)
	}
}
