// Package esnode runs a real single-node Elasticsearch 7.17 cluster in a child JVM, for tests
// and for `make es-up`. The node comes from Maven Central artifacts, launched by the small Java
// program in launcher/ (built with Maven on first use); it has the HTTP transport, the reindex
// module (_reindex, _update_by_query, _delete_by_query) and mapper-extras, but no painless and
// no analysis-common (they are not on Maven Central for 7.17).
package esnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options configures Start. The zero value starts a throw-away node on a free port.
type Options struct {
	// Dir holds the node's home (config, logs, url, pid) and Dir/data. Default: a new
	// temporary directory, removed entirely by Stop; a given Dir keeps everything but data.
	Dir string
	// HTTPPort is the port to bind on 127.0.0.1. Default 0: any free port.
	HTTPPort int
	// Heap is the JVM heap (-Xms and -Xmx). Default "512m".
	Heap string
	// JVMArgs are extra java arguments, placed before the class name. Default none.
	JVMArgs []string
	// Java is the java executable (Java 17+). Default: "java" from PATH, or $JAVA_HOME/bin/java.
	Java string
	// Maven is the mvn executable used to build the launcher. Default: "mvn" from PATH.
	Maven string
	// LauncherDir is the Maven project of the launcher. Default: the launcher directory next to
	// this package's source, or $ESNODE_LAUNCHER_DIR when set.
	LauncherDir string
	// StartTimeout bounds the build plus start-up to a yellow cluster. Default 3 minutes
	// (a cold Maven build downloads ~60 MB).
	StartTimeout time.Duration
	// Detach starts the node in its own session, outliving this process (for `make es-up`);
	// stop it later with Attach(dir).Stop(). Default false: the node dies with this process
	// (SIGTERM via Pdeathsig on Linux, and EOF on its stdin everywhere).
	Detach bool
	// Logger receives progress (build, start, stop). Default: discard.
	Logger *slog.Logger
}

// Node is a running Elasticsearch node.
type Node struct {
	// URL is the node's HTTP address, e.g. http://127.0.0.1:9200.
	URL string

	dir       string
	dataDir   string
	removeDir bool // Stop removes dir itself, not only dataDir
	pid       int
	cmd       *exec.Cmd     // nil for an attached node
	exited    chan struct{} // closed when cmd has exited; nil for an attached node
	stdin     io.Closer
	log       *slog.Logger
}

// Files inside the state directory.
const (
	pidFile = "pid"
	urlFile = "url" // written by the launcher once HTTP is bound
	logFile = "esnode.log"
	dataSub = "data"
	// launcherClass identifies our JVMs, so Attach never signals a recycled pid.
	launcherClass = "io.logferry.esnode.Launcher"
)

// Start builds the launcher if needed, starts a node and waits until the cluster is yellow.
func Start(ctx context.Context, o Options) (*Node, error) {
	if o.Heap == "" {
		o.Heap = "512m"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 3 * time.Minute
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()

	java, err := findJava(o.Java)
	if err != nil {
		return nil, err
	}
	classpath, err := ensureLauncher(ctx, o, log)
	if err != nil {
		return nil, err
	}

	n := &Node{log: log}
	if o.Dir == "" {
		n.dir, err = os.MkdirTemp("", "esnode-")
		if err != nil {
			return nil, fmt.Errorf("esnode: create state dir: %w", err)
		}
		n.removeDir = true
	} else {
		n.dir, err = filepath.Abs(o.Dir)
		if err != nil {
			return nil, fmt.Errorf("esnode: state dir %q: %w", o.Dir, err)
		}
		if err := os.MkdirAll(n.dir, 0o755); err != nil {
			return nil, fmt.Errorf("esnode: create state dir: %w", err)
		}
		// A stale url from an earlier node would make us talk to nothing.
		_ = os.Remove(filepath.Join(n.dir, urlFile))
	}
	n.dataDir = filepath.Join(n.dir, dataSub)

	args := []string{
		"-Xms" + o.Heap, "-Xmx" + o.Heap,
		"-XX:+UseSerialGC", // two cores: G1's concurrent threads cost more than they save here
		"-Des.set.netty.runtime.available.processors=false",
		"-Dlog4j2.disable.jmx=true",
		"-Djava.awt.headless=true",
	}
	args = append(args, o.JVMArgs...)
	args = append(args, "-cp", classpath, launcherClass, n.dir, n.dataDir, strconv.Itoa(o.HTTPPort))
	if !o.Detach {
		args = append(args, "--watch-stdin")
		if n.removeDir {
			args = append(args, "--ephemeral")
		}
	}

	logf, err := os.OpenFile(filepath.Join(n.dir, logFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		n.cleanup()
		return nil, fmt.Errorf("esnode: open log: %w", err)
	}
	defer logf.Close() // the child keeps its own descriptor

	cmd := exec.Command(java, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = sysProcAttr(o.Detach)
	if !o.Detach {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			n.cleanup()
			return nil, fmt.Errorf("esnode: stdin pipe: %w", err)
		}
		n.stdin = stdin
	}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		n.cleanup()
		return nil, fmt.Errorf("esnode: start %s: %w", java, err)
	}
	n.cmd, n.pid = cmd, cmd.Process.Pid
	n.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(n.exited) }()
	if err := os.WriteFile(filepath.Join(n.dir, pidFile), []byte(strconv.Itoa(n.pid)), 0o644); err != nil {
		_ = n.Stop()
		return nil, fmt.Errorf("esnode: write pid file: %w", err)
	}
	log.Info("esnode: JVM started", "pid", n.pid, "dir", n.dir)

	if err := n.waitReady(ctx); err != nil {
		tail := n.logTail()
		_ = n.Stop()
		return nil, fmt.Errorf("esnode: node did not become ready: %w\n--- %s (tail) ---\n%s", err, logFile, tail)
	}
	log.Info("esnode: node ready", "url", n.URL, "elapsed", time.Since(begin).Round(time.Millisecond))
	return n, nil
}

// waitReady waits for the launcher's url file, then for a yellow cluster.
func (n *Node) waitReady(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for n.URL == "" {
		b, err := os.ReadFile(filepath.Join(n.dir, urlFile))
		if err == nil && len(b) > 0 {
			n.URL = strings.TrimSpace(string(b))
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for HTTP to bind: %w", ctx.Err())
		case <-n.exited:
			return fmt.Errorf("JVM exited before HTTP was bound (%s)", n.cmd.ProcessState)
		case <-tick.C:
		}
	}
	return waitHealthy(ctx, n.URL, n.exited)
}

// waitHealthy polls GET /_cluster/health?wait_for_status=yellow until it answers 200.
// exited may be nil (a node we did not start).
func waitHealthy(ctx context.Context, url string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 35 * time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/_cluster/health?wait_for_status=yellow&timeout=30s", nil)
		if err != nil {
			return fmt.Errorf("health request: %w", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("cluster health: %s: %s", resp.Status, body)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for yellow cluster at %s: %w (last: %v)", url, ctx.Err(), last)
		case <-exited:
			return fmt.Errorf("JVM exited while waiting for yellow cluster (last: %v)", last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// PID is the JVM's process id.
func (n *Node) PID() int { return n.pid }

// Dir is the node's state directory (home, log, pid); DataDir is where its indices live.
func (n *Node) Dir() string { return n.dir }

// DataDir is the node's path.data.
func (n *Node) DataDir() string { return n.dataDir }

// LogPath is the file that receives the JVM's stdout and stderr.
func (n *Node) LogPath() string { return filepath.Join(n.dir, logFile) }

// Stop shuts the node down (SIGTERM, then SIGKILL after 30 s) and removes its data directory
// (and the whole state directory when Start created it). Stopping a stopped node is a no-op.
func (n *Node) Stop() error {
	if n.stdin != nil {
		n.stdin.Close()
		n.stdin = nil
	}
	var errs []error
	if n.pid > 0 {
		if err := n.terminate(30 * time.Second); err != nil {
			errs = append(errs, err)
		}
		n.pid = 0
	}
	if err := n.cleanup(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (n *Node) terminate(grace time.Duration) error {
	proc, err := os.FindProcess(n.pid)
	if err != nil {
		return nil // already gone
	}
	if err := proc.Signal(syscall.SIGTERM); err != nil {
		return nil // already exited
	}
	if n.waitExit(grace) {
		n.log.Info("esnode: node stopped", "pid", n.pid)
		return nil
	}
	_ = proc.Kill()
	if !n.waitExit(10 * time.Second) {
		return fmt.Errorf("esnode: pid %d survived SIGKILL", n.pid)
	}
	return fmt.Errorf("esnode: pid %d ignored SIGTERM for %s; killed", n.pid, grace)
}

// waitExit reports whether the JVM exited within d.
func (n *Node) waitExit(d time.Duration) bool {
	if n.exited != nil {
		select {
		case <-n.exited:
			return true
		case <-time.After(d):
			return false
		}
	}
	// Not our child: poll.
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if !isLauncher(n.pid) {
			return true
		}
	}
	return false
}

func (n *Node) cleanup() error {
	target := n.dataDir
	if n.removeDir {
		target = n.dir
	} else if n.dir != "" {
		_ = os.Remove(filepath.Join(n.dir, pidFile))
		_ = os.Remove(filepath.Join(n.dir, urlFile))
	}
	if target == "" {
		return nil
	}
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("esnode: remove %s: %w", target, err)
	}
	return nil
}

func (n *Node) logTail() string {
	b, err := os.ReadFile(n.LogPath())
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// Attach returns the node a detached Start (e.g. `make es-up`) left running in dir, after
// checking it answers a yellow health request. It returns an error wrapping os.ErrNotExist
// when no node runs there.
func Attach(ctx context.Context, dir string) (*Node, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("esnode: state dir %q: %w", dir, err)
	}
	n := &Node{dir: dir, dataDir: filepath.Join(dir, dataSub), log: slog.New(slog.DiscardHandler)}
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return nil, fmt.Errorf("esnode: no node in %s: %w", dir, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return nil, fmt.Errorf("esnode: %s: bad pid %q", filepath.Join(dir, pidFile), b)
	}
	if !isLauncher(pid) {
		return nil, fmt.Errorf("esnode: pid %d from %s is not running an esnode launcher: %w", pid, dir, os.ErrNotExist)
	}
	n.pid = pid
	u, err := os.ReadFile(filepath.Join(dir, urlFile))
	if err != nil {
		return n, fmt.Errorf("esnode: node pid %d has no url yet: %w", pid, err)
	}
	n.URL = strings.TrimSpace(string(u))
	hctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	if err := waitHealthy(hctx, n.URL, nil); err != nil {
		return n, fmt.Errorf("esnode: node pid %d: %w", pid, err)
	}
	return n, nil
}

// isLauncher reports whether pid is alive and runs our launcher class (pids get recycled).
func isLauncher(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		// No procfs (macOS): fall back to "is it alive".
		if errors.Is(err, os.ErrNotExist) && !procfs() {
			p, ferr := os.FindProcess(pid)
			return ferr == nil && p.Signal(syscall.Signal(0)) == nil
		}
		return false
	}
	return strings.Contains(string(b), launcherClass)
}

func procfs() bool {
	_, err := os.Stat("/proc/self/cmdline")
	return err == nil
}

func findJava(java string) (string, error) {
	if java != "" {
		return java, nil
	}
	if p, err := exec.LookPath("java"); err == nil {
		return p, nil
	}
	if home := os.Getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("esnode: java not found on PATH or in $JAVA_HOME/bin: install a Java 17+ JDK (e.g. apt-get install openjdk-17-jdk-headless), or set ES_URL to use an existing cluster")
}
