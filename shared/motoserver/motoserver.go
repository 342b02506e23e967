// Package motoserver runs moto's server mode (PyPI moto[server], pinned in the Makefile) on
// 127.0.0.1: real S3, SQS, Secrets Manager, SSM and EventBridge wire protocols for tests and
// the demo, without Docker or an AWS account. moto cannot run Lambda or CloudFormation here
// (both need Docker); tests keep a recorded stand-in for those only.
//
// moto builds the URLs it hands out (queue URLs, the SQS endpoint an S3 bucket notification is
// delivered to) from MOTO_PORT, so the server is always started with MOTO_PORT set to its
// own port: without it, S3 → SQS notifications silently go nowhere.
package motoserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region and the static credentials every client of the server uses; moto accepts any.
const (
	Region    = "us-east-1"
	AccessKey = "testing"
	SecretKey = "testing"
	// AccountID is the account moto reports for every resource (its default).
	AccountID = "123456789012"
)

// Options configures Start. The zero value starts a throw-away server on a free port.
type Options struct {
	// Exe is the moto_server executable. Default: $MOTO_SERVER, else the venv `make moto`
	// installs (tmp/moto-venv/bin/moto_server under the repository root), else moto_server
	// from PATH.
	Exe string
	// Port on 127.0.0.1. Default 0: a free port.
	Port int
	// Dir, when set, receives the server's log (moto.log) and, for a detached server, its pid
	// and url files. Default: the log is discarded.
	Dir string
	// Detach starts the server in its own session, outliving this process (`make moto-up`).
	// Default false: it dies with this process (Pdeathsig on Linux).
	Detach bool
	// StartTimeout bounds start-up until the server answers. Default 60 s (the first start
	// compiles moto's Python files).
	StartTimeout time.Duration
	// Logger receives progress. Default: discard.
	Logger *slog.Logger
}

// Server is a running moto server.
type Server struct {
	// URL is the server's endpoint, e.g. http://127.0.0.1:5000, for every service.
	URL    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts moto_server and waits until it answers.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	exe, err := findExe(o.Exe)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	// A free port can be taken between our probe and moto's bind: try a few times.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := o.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		s, err := start(ctx, exe, port, o, log)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if o.Port != 0 || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, exe string, port int, o Options, log *slog.Logger) (*Server, error) {
	var out io.Writer = io.Discard
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("motoserver: %w", err)
		}
		f, err := os.OpenFile(filepath.Join(o.Dir, "moto.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("motoserver: open log: %w", err)
		}
		defer f.Close() // the child keeps its own descriptor
		out = f
	}
	cmd := exec.Command(exe, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "MOTO_PORT="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr(o.Detach)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("motoserver: start %s: %w", exe, err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	begin := time.Now()
	if err := waitReady(ctx, s.URL, s.exited); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("motoserver: %s did not become ready: %w", exe, err)
	}
	if o.Detach && o.Dir != "" {
		_ = os.WriteFile(filepath.Join(o.Dir, "pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
		_ = os.WriteFile(filepath.Join(o.Dir, "url"), []byte(s.URL), 0o644)
	}
	log.Info("motoserver: ready", "url", s.URL, "pid", cmd.Process.Pid, "elapsed", time.Since(begin).Round(time.Millisecond))
	return s, nil
}

// waitReady polls moto's own API until it answers 200, the process exits, or ctx ends.
func waitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if Healthy(ctx, client, url) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("the process exited (port taken, or moto not installed: run `make moto`)")
		case <-tick.C:
		}
	}
}

// Healthy reports whether a moto server answers at url.
func Healthy(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/moto-api/", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop ends the server and waits for it to exit.
func (s *Server) Stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return nil
	}
}

// Config returns an AWS configuration whose clients talk to the moto server at url. S3
// clients built from it also need path-style addressing (o.UsePathStyle = true).
func Config(url string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(url),
	}
}

func findExe(exe string) (string, error) {
	if exe == "" {
		exe = os.Getenv("MOTO_SERVER")
	}
	if exe != "" {
		return exe, nil
	}
	if root, ok := repoRoot(); ok {
		p := filepath.Join(root, "tmp", "moto-venv", "bin", "moto_server")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	return "", errors.New("motoserver: moto_server not found: run `make moto` (a venv in tmp/moto-venv) or set MOTO_SERVER")
}

// repoRoot walks up from the working directory to the directory holding the main go.mod.
func repoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/logferry/logferry\n") {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("motoserver: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
