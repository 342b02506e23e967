package execution_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/reindex"
)

type aslState struct {
	Type           string
	Resource       string
	TimeoutSeconds int
	Next           string
	Retry          []struct{ ErrorEquals []string }
	Catch          []struct {
		ErrorEquals []string
		Next        string
		ResultPath  string
	}
	Choices []struct {
		Next string
	}
	Default       string
	ItemProcessor *aslMachine
	SecondsPath   string
}

type aslMachine struct {
	QueryLanguage string
	StartAt       string
	States        map[string]aslState
}

func loadDefinition(t *testing.T) (aslMachine, string) {
	t.Helper()
	raw, err := os.ReadFile(definition)
	if err != nil {
		t.Fatal(err)
	}
	var m aslMachine
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", definition, err)
	}
	return m, string(raw)
}

// The definition's contract with the function and with AWS: one substitution, every Task
// on the function's ARN with a timeout above the function's 120 s, retrying Lambda's
// service errors and ElasticsearchError only, and every per-index Task caught.
func TestDefinitionContract(t *testing.T) {
	m, raw := loadDefinition(t)
	if m.QueryLanguage != "JSONPath" {
		t.Errorf("QueryLanguage %q, want JSONPath", m.QueryLanguage)
	}
	if subs := regexp.MustCompile(`\$\{[^}]*\}`).FindAllString(raw, -1); len(slices.Compact(subs)) != 1 || subs[0] != "${ReindexFunctionArn}" {
		t.Errorf("substitutions %v, want only ${ReindexFunctionArn}", slices.Compact(subs))
	}
	lambdaErrors := []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}
	check := func(where string, states map[string]aslState, perIndex bool) {
		for name, s := range states {
			if s.Type != "Task" {
				continue
			}
			if s.Resource != "${ReindexFunctionArn}" {
				t.Errorf("%s %s: Resource %q", where, name, s.Resource)
			}
			if s.TimeoutSeconds != 150 {
				t.Errorf("%s %s: TimeoutSeconds %d, want 150 (above the function's 120)", where, name, s.TimeoutSeconds)
			}
			var retried []string
			for _, r := range s.Retry {
				retried = append(retried, r.ErrorEquals...)
			}
			for _, e := range lambdaErrors {
				if !slices.Contains(retried, e) {
					t.Errorf("%s %s: does not retry %s", where, name, e)
				}
			}
			for _, e := range retried {
				if !slices.Contains(lambdaErrors, e) && e != "ElasticsearchError" && !(name == "Rollback" && e == "RollbackIncomplete") {
					t.Errorf("%s %s: retries %s, which fails the same way again", where, name, e)
				}
			}
			if perIndex && (len(s.Catch) != 1 || !slices.Equal(s.Catch[0].ErrorEquals, []string{"States.ALL"})) {
				t.Errorf("%s %s: Catch %+v, want everything caught", where, name, s.Catch)
			}
		}
	}
	check("top", m.States, false)
	mp := m.States["Indices"]
	if mp.Type != "Map" || mp.ItemProcessor == nil {
		t.Fatalf("no Map state Indices")
	}
	check("map", mp.ItemProcessor.States, true)
	if step := mp.ItemProcessor.States["Step"]; step.Catch[0].Next != "Rollback" {
		t.Errorf("Step catches into %q, want Rollback", step.Catch[0].Next)
	}
	if !strings.Contains(raw, `"Mode": "DISTRIBUTED"`) {
		t.Errorf("the Map is not distributed: 400 indices' events would share one 25,000-event history")
	}
}

// History events per state type in a Standard execution (Task: entered, scheduled,
// started, succeeded, exited; Choice and Wait: entered, exited; Pass: entered, exited).
var eventsPerState = map[string]int{"Task": 5, "Choice": 2, "Wait": 2, "Pass": 2, "Succeed": 2, "Fail": 1}

// The worst case of one index's history (each index is a child execution of the
// distributed Map): every step once per copy, plus a check loop (Task, Choice, Wait) for
// each wait the code's own schedule gives a 24-hour copy, with the progress that makes the
// waits shortest. Rename-back copies twice.
func TestHistoryOfADayLongCopyStaysFarBelowTheLimit(t *testing.T) {
	m, _ := loadDefinition(t)
	it := m.States["Indices"].ItemProcessor.States
	perLoop := eventsPerState[it["Step"].Type] + eventsPerState[it["Finished?"].Type] + eventsPerState[it["Wait"].Type]
	if it["Wait"].SecondsPath != "$.state.wait_seconds" {
		t.Fatalf("Wait reads %q", it["Wait"].SecondsPath)
	}
	perStep := eventsPerState["Task"] + eventsPerState["Choice"]
	for _, poll := range []time.Duration{time.Second, 10 * time.Second} {
		checks := 0
		for elapsed := time.Duration(0); elapsed < 24*time.Hour; checks++ {
			// No progress reported: the wait cannot follow an estimate and falls to its floor.
			w := reindex.NextWait(elapsed, nil, poll)
			// A copy that looks nearly done at every check gives the same floor.
			if w2 := reindex.NextWait(elapsed, &reindex.Progress{Total: 1 << 40, Created: 1<<40 - 1}, poll); w2 < w {
				w = w2
			}
			if w < time.Second {
				t.Fatalf("wait %v at %v", w, elapsed)
			}
			elapsed += w
		}
		steps := 14 // validate … cleanup, with rename-back's second block … swap
		events := 2 + steps*perStep + 2*checks*perLoop + eventsPerState["Pass"]
		t.Logf("poll %v: %d checks of a 24-hour copy, worst case %d events for a rename-back index (limit 25,000)", poll, checks, events)
		if events > 25000/4 {
			t.Errorf("poll %v: worst case %d history events, want under a quarter of the 25,000 limit", poll, events)
		}
	}
}

// A fixed interval would not do: 10 s checks of a day-long copy cost 8,640 loops.
func TestWaitGrowsWithRemainingTime(t *testing.T) {
	poll := 10 * time.Second
	if w := reindex.NextWait(0, nil, poll); w != poll {
		t.Errorf("first wait %v, want the poll interval", w)
	}
	// 10% done after 10 minutes: 90 minutes left, check at half of that (capped).
	w := reindex.NextWait(10*time.Minute, &reindex.Progress{Total: 1000, Created: 100}, poll)
	if w != reindex.MaxWait {
		t.Errorf("wait %v, want the %v cap", w, reindex.MaxWait)
	}
	// 95% done after 10 minutes: ~32 s left; the wait follows it down.
	w = reindex.NextWait(10*time.Minute, &reindex.Progress{Total: 1000, Created: 950}, poll)
	if w < 30*time.Second || w > 32*time.Second {
		t.Errorf("wait %v near the end, want 30–32 s (the floor is elapsed/%d)", w, reindex.WaitGrowth)
	}
}
