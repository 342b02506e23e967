package lambdaruntime

import (
	"bytes"
	"encoding/json"
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
