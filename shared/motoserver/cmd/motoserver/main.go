// Command motoserver starts and stops a shared, detached moto server for `make moto-up` and
// `make moto-down`:
//
//	motoserver up [-dir tmp/moto]    # prints the server's URL as its last line
//	motoserver down [-dir tmp/moto]
//
// Both are idempotent: up with a healthy server in dir prints its URL; down with none succeeds.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/logferry/logferry/shared/motoserver"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "up" && os.Args[1] != "down") {
		fmt.Fprintln(os.Stderr, "usage: motoserver up|down [-dir DIR]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("motoserver "+os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "tmp/moto", "state directory (pid, url, moto.log)")
	_ = fs.Parse(os.Args[2:])
	ctx := context.Background()
	a, ok := motoserver.Attach(ctx, *dir)
	if os.Args[1] == "down" {
		if ok {
			if err := a.Stop(*dir); err != nil && !os.IsNotExist(err) {
				fmt.Fprintf(os.Stderr, "motoserver: %v\n", err)
				os.Exit(1)
			}
		}
		return
	}
	if ok {
		fmt.Println(a.URL)
		return
	}
	s, err := motoserver.Start(ctx, motoserver.Options{Dir: *dir, Detach: true, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Fprintf(os.Stderr, "motoserver: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(s.URL)
}
