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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// environment is one execution environment: a Runtime API endpoint and the process using it.
type environment struct {
	f    *Function
	n    int
	ln   net.Listener
	srv  *http.Server
	mu   sync.Mutex
	cur  *call
	proc *exec.Cmd
	exit chan struct{} // closed when proc exited
	kick chan struct{} // the invocation in flight changed
}

func (f *Function) newEnvironment(n int) (*environment, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdaruntime: runtime API listener: %w", err)
	}
	e := &environment{f: f, n: n, ln: ln, kick: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	const base = "/2018-06-01/runtime/"
	mux.HandleFunc("GET "+base+"invocation/next", e.next)
	mux.HandleFunc("POST "+base+"invocation/{id}/response", e.answer(false))
	mux.HandleFunc("POST "+base+"invocation/{id}/error", e.answer(true))
	mux.HandleFunc("POST "+base+"init/error", e.initError)
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	if err := e.spawn(); err != nil {
		_ = e.srv.Close()
		return nil, err
	}
	f.wg.Add(1)
	go e.supervise()
	return e, nil
}

func (e *environment) spawn() error {
	cfg := e.f.cfg
	cmd := exec.Command(cfg.Bootstrap)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + e.ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=" + cfg.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(cfg.MemoryMiB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + cfg.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME=local/[$LATEST]" + strconv.Itoa(e.n),
		"AWS_REGION=" + cfg.Region,
		"AWS_DEFAULT_REGION=" + cfg.Region,
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + dirOf(cfg.Bootstrap),
		"TZ=:UTC",
	}
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, cfg.Env...)
	cmd.Stdout, cmd.Stderr = cfg.Output, cfg.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("lambdaruntime: start %s: %w", cfg.Bootstrap, err)
	}
	exit := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exit) }()
	e.mu.Lock()
	e.proc, e.exit = cmd, exit
	e.mu.Unlock()
	return nil
}

// supervise replaces the process when it exits or overruns an invocation, until Stop. A
// process that exits while idle (it failed to initialise) is not replaced: the environment
// is dead, and when every one is, Invoke fails with Runtime.ExitError at once.
func (e *environment) supervise() {
	defer e.f.wg.Done()
	for {
		e.mu.Lock()
		exit, cur := e.exit, e.cur
		e.mu.Unlock()
		var timer *time.Timer
		var timeout <-chan time.Time
		if cur != nil {
			timer = time.NewTimer(time.Until(cur.deadline))
			timeout = timer.C
		}
		replace := false
		select {
		case <-e.f.stopped:
			e.terminate()
		case <-exit:
			if e.current() == nil {
				e.f.died()
				return
			}
			e.finish(result{err: &FunctionError{Type: "Runtime.ExitError", Message: "the function's process exited during the invocation"}})
			replace = true
		case <-timeout:
			e.terminate()
			e.finish(result{err: &FunctionError{Type: "Sandbox.Timedout", Message: fmt.Sprintf("Task timed out after %.2f seconds", e.f.cfg.Timeout.Seconds())}})
			replace = true
		case <-e.kick: // an invocation started or ended: re-arm the timeout
		}
		if timer != nil {
			timer.Stop()
		}
		select {
		case <-e.f.stopped:
			e.terminate()
			return
		default:
		}
		if !replace {
			continue
		}
		if err := e.spawn(); err != nil {
			fmt.Fprintf(e.f.cfg.Output, "lambdaruntime: %v\n", err)
			e.f.died()
			return
		}
	}
}

// setCurrent makes c the invocation in flight (nil: none) and tells the supervisor.
func (e *environment) setCurrent(c *call) *call {
	e.mu.Lock()
	prev := e.cur
	e.cur = c
	e.mu.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
	return prev
}

func (e *environment) current() *call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cur
}

// finish answers the current invocation, if any, with r.
func (e *environment) finish(r result) {
	if c := e.setCurrent(nil); c != nil {
		select {
		case c.done <- r:
		default:
		}
	}
}

func (e *environment) terminate() {
	e.mu.Lock()
	proc, exit := e.proc, e.exit
	e.mu.Unlock()
	if proc == nil || proc.Process == nil {
		return
	}
	_ = proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-exit:
	case <-time.After(2 * time.Second):
		_ = proc.Process.Kill()
		<-exit
	}
}

func (e *environment) close() {
	e.terminate()
	_ = e.srv.Close()
}

// next hands the process its next invocation, waiting as long as it takes.
func (e *environment) next(w http.ResponseWriter, r *http.Request) {
	// Asking for the next invocation completes the previous one if it was not answered.
	e.finish(result{err: &FunctionError{Type: "Runtime.NoResponse", Message: "the runtime asked for the next invocation without answering this one"}})
	var c *call
	select {
	case c = <-e.f.calls:
	case <-r.Context().Done():
		return
	case <-e.f.stopped:
		http.Error(w, "shutting down", http.StatusGone)
		return
	}
	c.deadline = time.Now().Add(e.f.cfg.Timeout)
	e.setCurrent(c)
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", c.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(c.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+e.f.cfg.Region+":123456789012:function:"+e.f.cfg.Name)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(time.Now().Unix(), 16)+"-000000000000000000000000;Sampled=0")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(c.payload)
}

// answer takes the response (or error) of invocation {id}.
func (e *environment) answer(isErr bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		c := e.cur
		if c == nil || c.id != r.PathValue("id") {
			c = nil
		}
		e.mu.Unlock()
		if c == nil {
			http.Error(w, `{"errorType":"InvalidRequestID","errorMessage":"no such invocation in flight"}`, http.StatusBadRequest)
			return
		}
		res := result{body: body}
		if isErr {
			fe := &FunctionError{}
			if json.Unmarshal(body, fe) != nil || fe.Type == "" {
				fe = &FunctionError{Type: "Unhandled", Message: strings.TrimSpace(string(body))}
			}
			res = result{err: fe}
		}
		// The supervisor may have timed it out meanwhile: the first outcome stands.
		if e.setCurrent(nil) == c {
			c.done <- res
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

func (e *environment) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(e.f.cfg.Output, "lambdaruntime: init error: %s\n", bytes.TrimSpace(body))
	w.WriteHeader(http.StatusAccepted)
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
