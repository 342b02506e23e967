package esnode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Build outputs of the launcher's pom.xml.
const (
	launcherJar   = "target/esnode-launcher.jar"
	classpathFile = "target/classpath.txt"
)

// launcherDir finds the launcher's Maven project.
func launcherDir(o Options) (string, error) {
	dir := o.LauncherDir
	if dir == "" {
		dir = os.Getenv("ESNODE_LAUNCHER_DIR")
	}
	if dir == "" {
		// The launcher ships as source next to this file; test binaries and `go run` build from
		// the module, so the source path is on disk.
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			return "", errors.New("esnode: cannot locate the launcher source; set Options.LauncherDir or ESNODE_LAUNCHER_DIR")
		}
		dir = filepath.Join(filepath.Dir(file), "launcher")
	}
	if _, err := os.Stat(filepath.Join(dir, "pom.xml")); err != nil {
		return "", fmt.Errorf("esnode: launcher project: %w", err)
	}
	return dir, nil
}

// ensureLauncher builds the launcher when its outputs are missing or older than its sources,
// and returns the java classpath. Concurrent callers (go test runs packages in parallel) take
// turns on a lock file, so only one Maven build runs.
func ensureLauncher(ctx context.Context, o Options, log *slog.Logger) (string, error) {
	dir, err := launcherDir(o)
	if err != nil {
		return "", err
	}
	if cp, ok := builtClasspath(dir); ok {
		return cp, nil
	}
	unlock, err := lockFile(ctx, dir)
	if err != nil {
		return "", err
	}
	defer unlock()
	if cp, ok := builtClasspath(dir); ok { // another process built it while we waited
		return cp, nil
	}

	mvn := o.Maven
	if mvn == "" {
		if mvn, err = exec.LookPath("mvn"); err != nil {
			return "", errors.New("esnode: the launcher is not built and mvn is not on PATH: install Maven 3.6+ (e.g. apt-get install maven), or set ES_URL to use an existing cluster")
		}
	}
	log.Info("esnode: building the launcher with Maven (first run downloads ~60 MB)", "dir", dir)
	begin := time.Now()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, mvn, "-q", "-B", "-Dstyle.color=never", "package")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("esnode: %s -q -B package in %s: %w\n%s", mvn, dir, err, lastBytes(out.Bytes(), 4000))
	}
	cp, ok := builtClasspath(dir)
	if !ok {
		return "", fmt.Errorf("esnode: Maven succeeded but %s or %s is missing or incomplete in %s", launcherJar, classpathFile, dir)
	}
	log.Info("esnode: launcher built", "elapsed", time.Since(begin).Round(time.Millisecond))
	return cp, nil
}

// builtClasspath returns the launcher's classpath if the build is present, newer than every
// source, and every jar it names still exists (someone may have cleaned ~/.m2).
func builtClasspath(dir string) (string, bool) {
	jar, err := os.Stat(filepath.Join(dir, launcherJar))
	if err != nil {
		return "", false
	}
	raw, err := os.ReadFile(filepath.Join(dir, classpathFile))
	if err != nil || len(bytes.TrimSpace(raw)) == 0 {
		return "", false
	}
	stale := false
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == "target" {
			return filepath.SkipDir
		}
		if info, err := d.Info(); err == nil && !d.IsDir() && info.ModTime().After(jar.ModTime()) {
			stale = true
			return filepath.SkipAll
		}
		return nil
	})
	if stale {
		return "", false
	}
	entries := strings.Split(strings.TrimSpace(string(raw)), string(os.PathListSeparator))
	for _, e := range entries {
		if _, err := os.Stat(e); err != nil {
			return "", false
		}
	}
	return filepath.Join(dir, launcherJar) + string(os.PathListSeparator) + strings.Join(entries, string(os.PathListSeparator)), true
}

// lockFile takes an exclusive flock on target/.esnode-build.lock in the launcher dir (target/
// is git-ignored and Maven's package goal leaves files it does not know alone).
func lockFile(ctx context.Context, dir string) (func(), error) {
	if err := os.MkdirAll(filepath.Join(dir, "target"), 0o755); err != nil {
		return nil, fmt.Errorf("esnode: build lock: %w", err)
	}
	path := filepath.Join(dir, "target", ".esnode-build.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("esnode: build lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("esnode: build lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("esnode: waiting for another process's launcher build (%s): %w", path, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
