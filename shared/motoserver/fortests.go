package motoserver

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvURL names the variable that points tests at a running moto server instead of a new one
// (`make test` starts one and shares it with every package).
const EnvURL = "MOTO_URL"

// ForTests gives a TestMain a moto server URL: $MOTO_URL when set (nothing is started), ""
// under -short (tests that need moto should t.Skip on ""), otherwise a new server that dies
// with the test binary. A server that cannot start is a failure, not a skip: it prints why
// and exits 1. Tests sharing a server use names of their own (buckets, queues), never Reset.
func ForTests(m *testing.M) (url string, stop func()) {
	_ = m // taken so the helper is only called from TestMain
	if !flag.Parsed() {
		flag.Parse()
	}
	if u := strings.TrimRight(os.Getenv(EnvURL), "/"); u != "" {
		return u, func() {}
	}
	if testing.Short() {
		return "", func() {}
	}
	var log *slog.Logger
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	s, err := Start(context.Background(), Options{Logger: log})
	if err != nil {
		fmt.Fprintf(os.Stderr, "motoserver.ForTests: %v\n", err)
		os.Exit(1)
	}
	return s.URL, func() { _ = s.Stop() }
}

// Attached is a detached server found by its state directory (`make moto-up`).
type Attached struct {
	URL string
	pid int
}

// Attach finds a healthy detached server whose state is in dir; ok is false if there is none.
func Attach(ctx context.Context, dir string) (a Attached, ok bool) {
	u, err1 := os.ReadFile(dir + "/url")
	p, err2 := os.ReadFile(dir + "/pid")
	if err1 != nil || err2 != nil {
		return Attached{}, false
	}
	var pid int
	if _, err := fmt.Sscan(string(p), &pid); err != nil {
		return Attached{}, false
	}
	a = Attached{URL: strings.TrimSpace(string(u)), pid: pid}
	return a, Healthy(ctx, &http.Client{Timeout: 2 * time.Second}, a.URL)
}

// Stop ends the attached server and removes its state files.
func (a Attached) Stop(dir string) error {
	if proc, err := os.FindProcess(a.pid); err == nil && a.pid > 0 {
		_ = proc.Signal(os.Interrupt)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && Healthy(context.Background(), &http.Client{Timeout: time.Second}, a.URL) {
			time.Sleep(100 * time.Millisecond) // polling the condition (still answering), with a deadline
		}
		_ = proc.Kill()
	}
	_ = os.Remove(dir + "/url")
	return os.Remove(dir + "/pid")
}

var (
	sharedOnce sync.Once
	sharedURL  string
	sharedErr  error
)

// ForTest gives a test a moto server URL without a TestMain (for packages whose TestMain,
// if any, belongs to other tests): $MOTO_URL when set; a skip under -short; otherwise one
// server per test binary, started on first use, that dies with the binary.
func ForTest(t testing.TB) string {
	t.Helper()
	if u := strings.TrimRight(os.Getenv(EnvURL), "/"); u != "" {
		return u
	}
	if testing.Short() {
		t.Skip("no moto server under -short")
	}
	sharedOnce.Do(func() {
		s, err := Start(context.Background(), Options{})
		if err != nil {
			sharedErr = err
			return
		}
		sharedURL = s.URL
	})
	if sharedErr != nil {
		t.Fatalf("motoserver.ForTest: %v", sharedErr)
	}
	return sharedURL
}

// Name returns prefix with a random suffix: a bucket or queue name of this run alone, so a
// test run against a server that outlives it (MOTO_URL) never meets an earlier run's
// messages or objects. Lower-case letters and digits, valid for both.
func Name(prefix string) string {
	return fmt.Sprintf("%s-%08x", prefix, rand.Uint32())
}
