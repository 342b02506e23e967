package esnode

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// EnvURL names the variable that points tests at an existing cluster instead of a new node.
const EnvURL = "ES_URL"

// ForTests gives a TestMain an Elasticsearch URL:
//
//   - with ES_URL set (e.g. by `make es-up`, or any real 7.17/8.x cluster) it returns that URL
//     and starts nothing, so every test package in `go test ./...` shares one node;
//   - under -short it returns "" (tests that need Elasticsearch should t.Skip on "");
//   - otherwise it starts a throw-away node that dies with the test binary.
//
// It parses flags if TestMain has not. If a node cannot start it prints why and exits 1:
// a missing Elasticsearch is a failure, not a skip. Call stop after m.Run:
//
//	func TestMain(m *testing.M) {
//		url, stop := esnode.ForTests(m)
//		esURL = url
//		code := m.Run()
//		stop()
//		os.Exit(code)
//	}
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
	n, err := Start(context.Background(), Options{Logger: log})
	if err != nil {
		fmt.Fprintf(os.Stderr, "esnode.ForTests: %v\n", err)
		os.Exit(1)
	}
	return n.URL, func() {
		if err := n.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "esnode.ForTests: stop: %v\n", err)
		}
	}
}
