package lambdaruntime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/logferry/logferry/shared/lambdaruntime"
)

// The test binary is its own bootstrap: started by lambdaruntime with helperEnv set, it
// runs aws-lambda-go's real runtime client (lambda.Start) against the emulated Runtime API.
const helperEnv = "LAMBDARUNTIME_TEST_FUNCTION=1"

type request struct {
	Echo  string        `json:"echo"`
	Fail  string        `json:"fail"`
	Sleep time.Duration `json:"sleep"`
	Exit  bool          `json:"exit"`
}

type response struct {
	Echo         string `json:"echo"`
	FunctionName string `json:"function_name"`
	RequestID    string `json:"request_id"`
	DeadlineLeft int64  `json:"deadline_left_ms"`
	PID          int    `json:"pid"`
}

type failure struct{ msg string }

func (f failure) Error() string { return f.msg }

func TestMain(m *testing.M) {
	if os.Getenv("LAMBDARUNTIME_TEST_FUNCTION") == "1" {
		lambda.Start(func(ctx context.Context, r request) (response, error) {
			lc, _ := lambdacontext.FromContext(ctx)
			dl, _ := ctx.Deadline()
			if r.Exit {
				os.Exit(3)
			}
			if r.Sleep > 0 {
				time.Sleep(r.Sleep) // the function's own work: the test times it out
			}
			if r.Fail != "" {
				return response{}, failure{r.Fail}
			}
			return response{Echo: r.Echo, FunctionName: lambdacontext.FunctionName, RequestID: lc.AwsRequestID,
				DeadlineLeft: time.Until(dl).Milliseconds(), PID: os.Getpid()}, nil
		})
		return
	}
	os.Exit(m.Run())
}

func start(t *testing.T, cfg lambdaruntime.Config) *lambdaruntime.Function {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Name, cfg.Bootstrap = "demo-fn", exe
	cfg.Env = append(cfg.Env, helperEnv)
	var log strings.Builder
	cfg.Output = &syncWriter{b: &log}
	f, err := lambdaruntime.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Stop()
		if t.Failed() {
			t.Logf("function output:\n%s", cfg.Output.(*syncWriter).String())
		}
	})
	return f
}

func invoke(t *testing.T, f *lambdaruntime.Function, r request) (response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in, _ := json.Marshal(r)
	out, err := f.Invoke(ctx, in)
	var resp response
	if err == nil {
		if jerr := json.Unmarshal(out, &resp); jerr != nil {
			t.Fatalf("response %s: %v", out, jerr)
		}
	}
	return resp, err
}

// The function sees what Lambda gives it (name, request id, a deadline of Timeout) and its
// errors come back with the type aws-lambda-go reports.
func TestInvokeResponseAndError(t *testing.T) {
	f := start(t, lambdaruntime.Config{Timeout: 20 * time.Second})
	r, err := invoke(t, f, request{Echo: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Echo != "hello" || r.FunctionName != "demo-fn" || r.RequestID == "" {
		t.Fatalf("response = %+v, want the echo, the function name and a request id", r)
	}
	if r.DeadlineLeft <= 15_000 || r.DeadlineLeft > 20_000 {
		t.Fatalf("deadline left = %d ms, want just under the 20 s timeout", r.DeadlineLeft)
	}
	_, err = invoke(t, f, request{Fail: "no such object"})
	var fe *lambdaruntime.FunctionError
	if !errors.As(err, &fe) || fe.Type != "failure" || fe.Message != "no such object" {
		t.Fatalf("error = %#v, want FunctionError{failure, no such object}", err)
	}
	if r2, err := invoke(t, f, request{Echo: "again"}); err != nil || r2.PID != r.PID {
		t.Fatalf("after an error: %+v, %v; want the same environment (pid %d) to answer", r2, err, r.PID)
	}
}

// An invocation that overruns its timeout is reported as Lambda does, and its environment
// is replaced: the next invocation runs in a new process. A crash is reported too.
func TestTimeoutAndCrashReplaceTheEnvironment(t *testing.T) {
	f := start(t, lambdaruntime.Config{Timeout: 1500 * time.Millisecond})
	first, err := invoke(t, f, request{Echo: "x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = invoke(t, f, request{Sleep: time.Minute})
	var fe *lambdaruntime.FunctionError
	if !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" {
		t.Fatalf("error = %v, want Sandbox.Timedout", err)
	}
	second, err := invoke(t, f, request{Echo: "y"})
	if err != nil || second.PID == first.PID {
		t.Fatalf("after the timeout: %+v, %v; want a new process (not pid %d)", second, err, first.PID)
	}
	_, err = invoke(t, f, request{Exit: true})
	if !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" {
		t.Fatalf("error = %v, want Runtime.ExitError", err)
	}
	if third, err := invoke(t, f, request{Echo: "z"}); err != nil || third.PID == second.PID {
		t.Fatalf("after the crash: %+v, %v; want a new process", third, err)
	}
}

// Concurrency environments run invocations at the same time, each in its own process.
func TestConcurrentEnvironments(t *testing.T) {
	f := start(t, lambdaruntime.Config{Concurrency: 2})
	var wg sync.WaitGroup
	pids := make([]int, 2)
	errs := make([]error, 2)
	begin := time.Now()
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r response
			r, errs[i] = invoke(t, f, request{Echo: fmt.Sprint(i), Sleep: 1500 * time.Millisecond})
			pids[i] = r.PID
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if pids[0] == pids[1] {
		t.Fatalf("both invocations ran in process %d, want two environments", pids[0])
	}
	if el := time.Since(begin); el > 2900*time.Millisecond {
		t.Fatalf("two 1.5 s invocations took %v, want them to overlap", el)
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
