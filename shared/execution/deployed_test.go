package execution_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/logferry/logferry/shared/execution"
	"github.com/logferry/logferry/shared/lambdaapi"
	"github.com/logferry/logferry/shared/reindexstep"
)

// sfnStandIn answers the Step Functions JSON protocol (awsJson1_0: POST /, X-Amz-Target
// AWSStepFunctions.<Operation>) for StartExecution, DescribeExecution, GetExecutionHistory
// and ListExecutions, as documented: execution names of 1–80 characters from
// [0-9A-Za-z_-], 256 KiB inputs, ExecutionAlreadyExists for a reused name, pages of at
// most maxResults events (default 100) with nextToken, epoch-second timestamps. AWS cannot
// run here, so the work is done by the same definition in aws-local-stepfunctions against
// the real node; each Lambda invocation becomes the history events Step Functions writes
// (TaskScheduled with the payload, TaskSucceeded/TaskFailed), the index steps in one child
// execution per index under a map run, as a distributed Map does.
type sfnStandIn struct {
	t     *testing.T
	srv   *httptest.Server
	run   func(input []byte, observe func(lambdaapi.Invocation)) execution.Outcome
	mu    sync.Mutex
	execs map[string]*standInExec
	order []string
	calls map[string]int
}

type standInExec struct {
	arn, name, sm, input, status, output, err, cause string
	mapRun                                           string
	start, stop                                      time.Time
	events                                           []map[string]any
}

func newSFNStandIn(t *testing.T, run func([]byte, func(lambdaapi.Invocation)) execution.Outcome) *sfnStandIn {
	s := &sfnStandIn{t: t, run: run, execs: map[string]*standInExec{}, calls: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sfnStandIn) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AWSStepFunctions.")
	if r.Method != http.MethodPost || !ok || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.0") {
		s.fail(w, 400, "UnknownOperationException", "bad request "+target)
		return
	}
	var in map[string]any
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		s.fail(w, 400, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	str := func(k string) string { v, _ := in[k].(string); return v }
	switch op {
	case "StartExecution":
		name, input := str("name"), str("input")
		if !regexp.MustCompile(`^[0-9A-Za-z_-]{1,80}$`).MatchString(name) {
			s.fail(w, 400, "InvalidName", "invalid name "+name)
			return
		}
		if len(input) > 256<<10 || !json.Valid([]byte(input)) {
			s.fail(w, 400, "InvalidExecutionInput", "input is not JSON or over 256 KiB")
			return
		}
		sm := str("stateMachineArn")
		arn := strings.Replace(sm, ":stateMachine:", ":execution:", 1) + ":" + name
		if s.execs[arn] != nil {
			s.fail(w, 400, "ExecutionAlreadyExists", "Execution Already Exists: '"+arn+"'")
			return
		}
		ex := &standInExec{arn: arn, name: name, sm: sm, input: input, status: "RUNNING", start: time.Now()}
		s.add(ex)
		s.event(ex, "ExecutionStarted", "executionStartedEventDetails", map[string]any{"input": input})
		go s.execute(ex)
		s.reply(w, map[string]any{"executionArn": arn, "startDate": epoch(ex.start)})
	case "DescribeExecution":
		ex := s.execs[str("executionArn")]
		if ex == nil {
			s.fail(w, 400, "ExecutionDoesNotExist", "Execution Does Not Exist: '"+str("executionArn")+"'")
			return
		}
		out := map[string]any{"executionArn": ex.arn, "stateMachineArn": ex.sm, "name": ex.name, "status": ex.status, "startDate": epoch(ex.start), "input": ex.input}
		if ex.status != "RUNNING" {
			out["stopDate"] = epoch(ex.stop)
			if ex.status == "SUCCEEDED" {
				out["output"] = ex.output
			} else {
				out["error"], out["cause"] = ex.err, ex.cause
			}
		}
		s.reply(w, out)
	case "GetExecutionHistory":
		ex := s.execs[str("executionArn")]
		if ex == nil {
			s.fail(w, 400, "ExecutionDoesNotExist", "Execution Does Not Exist")
			return
		}
		max := 100
		if m, ok := in["maxResults"].(float64); ok && m > 0 {
			max = int(m)
		}
		from, _ := strconv.Atoi(str("nextToken"))
		evs := ex.events
		if in["reverseOrder"] == true {
			evs = make([]map[string]any, len(ex.events))
			for i, e := range ex.events {
				evs[len(evs)-1-i] = e
			}
		}
		end := min(from+max, len(evs))
		out := map[string]any{"events": evs[from:end]}
		if end < len(evs) {
			out["nextToken"] = strconv.Itoa(end)
		}
		s.reply(w, out)
	case "ListExecutions":
		mr := str("mapRunArn")
		var list []map[string]any
		for _, a := range s.order {
			ex := s.execs[a]
			if (mr != "" && ex.mapRun == mr) || (mr == "" && ex.sm == str("stateMachineArn") && ex.mapRun == "") {
				list = append(list, map[string]any{"executionArn": ex.arn, "stateMachineArn": ex.sm, "name": ex.name, "status": ex.status, "startDate": epoch(ex.start)})
			}
		}
		s.reply(w, map[string]any{"executions": list})
	default:
		s.fail(w, 400, "UnknownOperationException", op+" is not served by the stand-in")
	}
}

func (s *sfnStandIn) add(ex *standInExec) {
	s.execs[ex.arn] = ex
	s.order = append(s.order, ex.arn)
}

// event appends one history event (the caller holds mu).
func (s *sfnStandIn) event(ex *standInExec, typ, detailsKey string, details map[string]any) {
	ev := map[string]any{"id": len(ex.events) + 1, "previousEventId": len(ex.events), "type": typ, "timestamp": epoch(time.Now())}
	if detailsKey != "" {
		ev[detailsKey] = details
	}
	ex.events = append(ex.events, ev)
}

// execute runs the execution and writes its history from what the function was asked and
// answered.
func (s *sfnStandIn) execute(ex *standInExec) {
	out := s.run([]byte(ex.input), func(inv lambdaapi.Invocation) {
		s.mu.Lock()
		defer s.mu.Unlock()
		var head struct {
			Step string `json:"step"`
			Item struct {
				Source string `json:"source"`
			} `json:"item"`
		}
		_ = json.Unmarshal(inv.Payload, &head)
		target := ex
		if head.Step == "index" || head.Step == "index-rollback" {
			if ex.mapRun == "" {
				ex.mapRun = strings.Replace(ex.arn, ":execution:", ":mapRun:", 1) + "/Indices:1"
				s.event(ex, "MapRunStarted", "mapRunStartedEventDetails", map[string]any{"mapRunArn": ex.mapRun})
			}
			child := ex.mapRun + ":" + head.Item.Source
			if s.execs[child] == nil {
				s.add(&standInExec{arn: child, name: head.Item.Source, sm: ex.sm, mapRun: ex.mapRun, status: "RUNNING", start: time.Now()})
			}
			target = s.execs[child]
		}
		res := map[string]any{"resourceType": "lambda", "resource": "invoke"}
		s.event(target, "TaskScheduled", "taskScheduledEventDetails", map[string]any{"resourceType": "lambda", "resource": "invoke", "region": "us-east-1", "parameters": string(inv.Payload)})
		s.event(target, "TaskStarted", "", nil)
		if inv.Error != nil {
			s.event(target, "TaskFailed", "taskFailedEventDetails", merge(res, map[string]any{"error": inv.Error.Type, "cause": inv.Error.Message}))
			return
		}
		s.event(target, "TaskSucceeded", "taskSucceededEventDetails", merge(res, map[string]any{"output": string(inv.Result)}))
		var it struct {
			Report json.RawMessage `json:"report"`
		}
		if json.Unmarshal(inv.Result, &it) == nil && it.Report != nil && target != ex {
			target.status, target.stop = "SUCCEEDED", time.Now()
		}
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	ex.status, ex.stop, ex.output, ex.err, ex.cause = out.Status, time.Now(), string(out.Output), out.Error, out.Cause
	if out.Status == "SUCCEEDED" {
		s.event(ex, "ExecutionSucceeded", "executionSucceededEventDetails", map[string]any{"output": string(out.Output)})
	} else {
		s.event(ex, "ExecutionFailed", "executionFailedEventDetails", map[string]any{"error": out.Error, "cause": out.Cause})
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (s *sfnStandIn) reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *sfnStandIn) fail(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.swf.service.v2.model#" + typ, "message": msg})
}

// The deployed state machine through the real aws-sdk-go-v2 sfn client: the execution is
// started with the input and a readable name, followed through its history and its child
// executions (the tracker sees every index's progress and report), and its outcome — a
// failure naming the index whose copy failed — comes back with the report.
func TestRunDeployedAgainstStepFunctionsStandIn(t *testing.T) {
	tl := tools(t)
	e := newES(t, esURL)
	p := e.prefix("deployed")
	good, bad := p+"-2026.10.01", p+"-2026.10.02"
	e.index(good, 40, old(), func(int) string { return "1" })
	e.index(bad, 40, old(), func(i int) string {
		if i == 7 {
			return "x"
		}
		return "2"
	})
	var log *slog.Logger
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	env := map[string]string{"ES_URL": esURL, "REINDEX_POLL_SECONDS": "1"}
	h, err := reindexstep.NewWithOptions(context.Background(), func(k string) string { return env[k] }, reindexstep.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	stand := newSFNStandIn(t, func(input []byte, observe func(lambdaapi.Invocation)) execution.Outcome {
		fn := observed{lambda.NewHandler(h.Invoke), observe}
		out, err := execution.RunLocal(context.Background(), execution.LocalConfig{Tools: tl, Definition: definition, Input: input, Function: fn, Stderr: os.Stderr})
		if err != nil {
			return execution.Outcome{Status: "FAILED", Error: "States.Runtime", Cause: err.Error()}
		}
		return out
	})
	client := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(stand.srv.URL),
		Credentials: aws.AnonymousCredentials{}})
	input, _ := json.Marshal(map[string]any{"pattern": p + "-*", "mappings": newMappings, "quietMinutes": 0})
	tr := execution.NewTracker()
	name := execution.ExecutionName(p+"-*", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	var started string
	out, err := execution.RunDeployed(context.Background(), execution.DeployedConfig{
		Client: client, StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:logferry-reindex",
		Name: name, Input: input, Tracker: tr, Poll: 300 * time.Millisecond, Started: func(a string) { started = a },
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "reindex-" + p + "-20261201T100000Z"; name != want || !strings.HasSuffix(started, ":"+want) {
		t.Errorf("execution name %q (ARN %s), want %q", name, started, want)
	}
	if out.Status != "FAILED" || out.Error != "IndicesFailed" || !strings.Contains(out.Cause, bad) || strings.Contains(out.Cause, good) {
		t.Fatalf("outcome %+v, want FAILED IndicesFailed naming only %s", out, bad)
	}
	rep := tr.Report()
	if rep == nil || len(rep.Indices) != 2 {
		t.Fatalf("report %+v", rep)
	}
	got := map[string]string{}
	for _, ix := range rep.Indices {
		got[ix.Source] = string(ix.Outcome) + "/" + ix.Error
	}
	if got[good] != "swapped/" || got[bad] != "rolled_back/ReindexFailed" {
		t.Errorf("report outcomes %v", got)
	}
	if lines := tr.Lines(); len(lines) != 2 || lines[0].Phase != "swapped" || lines[1].Phase != "rolled_back" {
		t.Errorf("progress lines %+v", lines)
	}
	stand.mu.Lock()
	defer stand.mu.Unlock()
	if stand.calls["ListExecutions"] == 0 || stand.calls["GetExecutionHistory"] < 3 || stand.calls["StartExecution"] != 1 {
		t.Errorf("calls %v: want the children listed and their histories read", stand.calls)
	}
	if !strings.Contains(fmt.Sprint(stand.execs[started].input), `"pattern"`) {
		t.Errorf("started with input %s", stand.execs[started].input)
	}
}

// observed passes every invocation to observe, as the Lambda endpoint's Observe does.
type observed struct {
	inner   lambdaapi.Handler
	observe func(lambdaapi.Invocation)
}

func (o observed) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	res, err := o.inner.Invoke(ctx, payload)
	inv := lambdaapi.Invocation{Payload: payload, Result: res}
	if err != nil {
		ie := lambdaapi.FunctionError(err)
		inv.Result, inv.Error = nil, &ie
	}
	o.observe(inv)
	return res, err
}
