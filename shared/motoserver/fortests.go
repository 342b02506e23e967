package motoserver

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
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
