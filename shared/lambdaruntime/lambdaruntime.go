// Package lambdaruntime runs a Lambda function's bootstrap binary the way Lambda's
// provided.al2023 runtime does, on this machine: each execution environment is a process
// of its own that asks the Lambda Runtime API (served here, one endpoint per environment,
// on 127.0.0.1) for its next invocation and posts the response or error back
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html). The function under
// test is the very binary `cdk deploy` ships, with the environment the stack gives it, so
// its deadline, logs, metrics and error reports are the deployed ones.
//
// Like Lambda: an invocation gets a deadline (Lambda-Runtime-Deadline-Ms) of now + Timeout;
// an environment that does not answer by then is killed and replaced (Sandbox.Timedout);
// one whose process exits mid-invocation is replaced too (Runtime.ExitError); an idle
// environment waits in GET /next. Extensions, streaming responses and SnapStart are not
// emulated: logferry uses none of them.
package lambdaruntime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Config describes the function and how many environments run it.
type Config struct {
	// Name is the function name (AWS_LAMBDA_FUNCTION_NAME). Required.
	Name string
	// Bootstrap is the function's executable. Required.
	Bootstrap string
	// Env is the function's configured environment (KEY=value); the runtime's own variables
	// (AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_FUNCTION_NAME, …) are added. Nothing of this
	// process's environment is passed on except PATH, HOME and TMPDIR.
	Env []string
	// Timeout of one invocation. Default 60 s.
	Timeout time.Duration
	// MemoryMiB is reported to the function (AWS_LAMBDA_FUNCTION_MEMORY_SIZE). Default 1024.
	MemoryMiB int
	// Concurrency is the number of execution environments (processes). Default 1.
	Concurrency int
	// Region is reported to the function (AWS_REGION). Default us-east-1.
	Region string
	// Output receives the processes' stdout and stderr (the function's CloudWatch log
	// stream: JSON logs and EMF metric lines). Default: discarded.
	Output io.Writer
}

// FunctionError is an invocation that failed as Lambda reports it to the caller
// ({"errorType":…,"errorMessage":…}, the X-Amz-Function-Error case of Invoke).
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Function is a running function.
type Function struct {
	cfg     Config
	calls   chan *call
	envs    []*environment
	seq     atomicCounter
	stopped chan struct{}
	once    sync.Once
	wg      sync.WaitGroup

	deadMu sync.Mutex
	alive  int
	dead   chan struct{} // closed when no environment is left
}

// died records an environment whose process is gone for good.
func (f *Function) died() {
	f.deadMu.Lock()
	defer f.deadMu.Unlock()
	f.alive--
	if f.alive == 0 {
		close(f.dead)
	}
}

type call struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan result // buffered 1: the first answer wins
}

type result struct {
	body []byte
	err  error
}

// Start starts cfg.Concurrency environments; each is ready for invocations once its
// process asks for one (Invoke waits for that). The function stops when ctx ends or at Stop.
func Start(ctx context.Context, cfg Config) (*Function, error) {
	if cfg.Name == "" || cfg.Bootstrap == "" {
		return nil, errors.New("lambdaruntime: Name and Bootstrap are required")
	}
	if _, err := os.Stat(cfg.Bootstrap); err != nil {
		return nil, fmt.Errorf("lambdaruntime: bootstrap: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MemoryMiB <= 0 {
		cfg.MemoryMiB = 1024
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Output == nil {
		cfg.Output = io.Discard
	}
	cfg.Output = &lockedWriter{w: cfg.Output}
	f := &Function{cfg: cfg, calls: make(chan *call), stopped: make(chan struct{}), dead: make(chan struct{}), alive: cfg.Concurrency}
	for i := range cfg.Concurrency {
		e, err := f.newEnvironment(i)
		if err != nil {
			f.alive = len(f.envs)
			f.Stop()
			return nil, err
		}
		f.envs = append(f.envs, e)
	}
	go func() {
		select {
		case <-ctx.Done():
			f.Stop()
		case <-f.stopped:
		}
	}()
	return f, nil
}

// Invoke runs one synchronous invocation (RequestResponse) and returns the function's
// response, or a *FunctionError when the function reported an error, timed out or crashed.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	c := &call{
		id:      fmt.Sprintf("%08x-demo-%012d", time.Now().UnixNano()&0xffffffff, f.seq.next()),
		payload: payload,
		done:    make(chan result, 1),
	}
	select {
	case f.calls <- c: // an environment took it (its deadline starts there)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.stopped:
		return nil, errors.New("lambdaruntime: function stopped")
	case <-f.dead:
		return nil, &FunctionError{Type: "Runtime.ExitError", Message: "every execution environment exited during initialisation (see the function's log)"}
	}
	select {
	case r := <-c.done:
		return r.body, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Stop ends every environment (SIGTERM, then SIGKILL after 2 s, as Lambda's shutdown does)
// and waits for them.
func (f *Function) Stop() {
	f.once.Do(func() { close(f.stopped) })
	for _, e := range f.envs {
		e.close()
	}
	f.wg.Wait()
}

type atomicCounter struct {
	mu sync.Mutex
	n  int64
}

func (a *atomicCounter) next() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return a.n
}

// lockedWriter keeps lines of concurrent environments from interleaving mid-write.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "."
}
