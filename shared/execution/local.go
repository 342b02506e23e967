package execution

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/logferry/logferry/shared/lambdaapi"
)

//go:embed runlocal.mjs
var runLocalScript string

// LocalFunctionARN is the ARN the local run gives ${ReindexFunctionArn}: the definition's
// Task states name it, and the Invoke endpoint answers for it.
const LocalFunctionARN = "arn:aws:lambda:us-east-1:000000000000:function:logferry-reindex-local"

// Tools are Node ≥ 22 and aws-local-stepfunctions, as `make sfn-tools` installs them under
// the repository (tmp/sfn).
type Tools struct {
	Node   string // the node binary
	Module string // aws-local-stepfunctions' Node ESM entry point
}

// FindTools looks in dir (an npm prefix holding node@22 and aws-local-stepfunctions).
func FindTools(dir string) (Tools, error) {
	t := Tools{
		Node:   filepath.Join(dir, "node_modules", ".bin", "node"),
		Module: filepath.Join(dir, "node_modules", "aws-local-stepfunctions", "build", "main.node.esm.js"),
	}
	for _, f := range []string{t.Node, t.Module} {
		if _, err := os.Stat(f); err != nil {
			return Tools{}, fmt.Errorf("%s is missing: run `make sfn-tools` (installs node@22 and aws-local-stepfunctions@3.0.0 under tmp/sfn) or point LOGFERRY_SFN_DIR at such a directory", f)
		}
	}
	abs, err := filepath.Abs(t.Module)
	if err != nil {
		return Tools{}, err
	}
	t.Module = abs
	return t, nil
}

// Outcome is how an execution ended.
type Outcome struct {
	Status string          `json:"status"` // SUCCEEDED, FAILED, ABORTED (TIMED_OUT for a deployed one)
	Output json.RawMessage `json:"output,omitempty"`
	Error  string          `json:"error,omitempty"`
	Cause  string          `json:"cause,omitempty"`
	// States is, for a local execution that succeeded, each state's largest input and
	// output in bytes, from the interpreter's event log (nested Map states not included).
	States map[string]StateSize `json:"states,omitempty"`
}

// StateSize is the most bytes one state took in and handed on.
type StateSize struct {
	Input  int `json:"input"`
	Output int `json:"output"`
}

// LocalConfig is one local execution.
type LocalConfig struct {
	Tools      Tools
	Definition string // the ASL file
	Input      []byte // the execution input
	// Function is the reindex handler the Task states invoke (lambda.NewHandler(h.Invoke)).
	Function lambdaapi.Handler
	// FunctionTimeout is what Lambda's would be. Default 120s.
	FunctionTimeout time.Duration
	// Tracker, if set, sees every invocation.
	Tracker *Tracker
	// Stderr receives the interpreter's own diagnostics. Default: discarded.
	Stderr io.Writer
}

// RunLocal runs one execution of the definition with aws-local-stepfunctions. When ctx
// ends, the execution is aborted and RunLocal returns once the invocations in flight have
// finished (Outcome ABORTED): the caller then rolls back Tracker.Unfinished.
func RunLocal(ctx context.Context, cfg LocalConfig) (Outcome, error) {
	srv, err := lambdaapi.Start(lambdaapi.Function{ARN: LocalFunctionARN, Handler: cfg.Function, Timeout: cfg.FunctionTimeout})
	if err != nil {
		return Outcome{}, err
	}
	defer srv.Close()
	if cfg.Tracker != nil {
		srv.Observe = func(inv lambdaapi.Invocation) {
			name := ""
			if inv.Error != nil {
				name = inv.Error.Type
			}
			cfg.Tracker.Saw(inv.Payload, inv.Result, name)

		}
	}
	stderr := cfg.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	def, err := filepath.Abs(cfg.Definition)
	if err != nil {
		return Outcome{}, err
	}
	if _, err := os.Stat(def); err != nil {
		return Outcome{}, fmt.Errorf("state machine definition: %w", err)
	}

	cmd := exec.Command(cfg.Tools.Node, "--input-type=module", "-e", runLocalScript, "--", cfg.Tools.Module, def, LocalFunctionARN)
	cmd.Env = append(cleanEnv(os.Environ()),
		"AWS_ENDPOINT_URL_LAMBDA="+srv.URL,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_EC2_METADATA_DISABLED=true",
	)
	cmd.Stdin = bytes.NewReader(cfg.Input)
	cmd.Stderr = stderr
	// Its own process group: Ctrl-C on the terminal reaches logferry, which decides.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Outcome{}, err
	}
	if err := cmd.Start(); err != nil {
		return Outcome{}, fmt.Errorf("start %s: %w", cfg.Tools.Node, err)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
		case <-done:
		}
	}()
	var last []byte
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		last = append(last[:0], sc.Bytes()...)
	}
	werr := cmd.Wait()
	close(done)
	srv.Drain()
	var o Outcome
	if len(last) == 0 || json.Unmarshal(last, &o) != nil || o.Status == "" {
		if ctx.Err() != nil {
			return Outcome{Status: "ABORTED", Error: "Interrupted", Cause: ctx.Err().Error()}, nil
		}
		var ee *exec.ExitError
		if errors.As(werr, &ee) || werr == nil {
			return Outcome{}, fmt.Errorf("aws-local-stepfunctions ended without a result (%v): see its messages above", werr)
		}
		return Outcome{}, fmt.Errorf("aws-local-stepfunctions: %w", werr)
	}
	return o, nil
}

// cleanEnv drops the caller's AWS settings: the local run must reach the local endpoint
// with local credentials, never an account's.
func cleanEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
