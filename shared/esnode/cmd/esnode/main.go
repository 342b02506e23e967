// Command esnode starts and stops a shared, detached Elasticsearch node for `make es-up` and
// `make es-down`:
//
//	esnode up [-dir tmp/es] [-port 0] [-heap 512m]   # prints the node's URL as its last line
//	esnode down [-dir tmp/es]
//
// Both are idempotent: up with a healthy node in dir prints its URL; down with none succeeds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/logferry/logferry/shared/esnode"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "esnode: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "up" && args[0] != "down") {
		return errors.New("usage: esnode up|down [-dir DIR] [-port N] [-heap SIZE]")
	}
	fs := flag.NewFlagSet("esnode "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "tmp/es", "state directory (pid, url, log, data)")
	port := fs.Int("port", 0, "HTTP port on 127.0.0.1 (0: any free port)")
	heap := fs.String("heap", "512m", "JVM heap")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	// Either way, look for a node already there first.
	n, err := esnode.Attach(ctx, *dir)
	switch args[0] {
	case "up":
		if err == nil {
			log.Info("esnode: node already running", "pid", n.PID(), "dir", *dir)
			fmt.Fprintln(stdout, n.URL)
			return nil
		}
		if n != nil { // running but unhealthy: replace it rather than hand out a broken URL
			log.Warn("esnode: replacing an unhealthy node", "pid", n.PID(), "err", err)
			if err := n.Stop(); err != nil {
				return err
			}
		}
		n, err = esnode.Start(ctx, esnode.Options{Dir: *dir, HTTPPort: *port, Heap: *heap, Detach: true, Logger: log})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, n.URL)
		return nil
	default: // down
		if n == nil {
			log.Info("esnode: no node running", "dir", *dir, "reason", err)
			return removeData(*dir)
		}
		if err := n.Stop(); err != nil {
			return err
		}
		log.Info("esnode: node stopped", "dir", *dir)
		return nil
	}
}

// removeData clears what a crashed node may have left, so es-down always ends with no data.
func removeData(dir string) error {
	for _, name := range []string{"data", "pid", "url"} {
		if err := os.RemoveAll(dir + "/" + name); err != nil {
			return fmt.Errorf("remove %s/%s: %w", dir, name, err)
		}
	}
	return nil
}
