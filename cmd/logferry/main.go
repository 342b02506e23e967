// Command logferry is the local face of the project: it runs the same packages the
// Lambda functions run, on local files, S3 objects and event files.
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
	"runtime/pprof"
	"sort"
	"syscall"

	"github.com/logferry/logferry/shared/escape"
)

// env is what a subcommand may touch of the outside world; tests pass their own.
type env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Terminal is true when Stderr is an interactive terminal (progress output).
	Terminal bool
	Logger   *slog.Logger
	Getenv   func(string) string
}

type command struct {
	name    string
	usage   string // one line: arguments after the command name
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is filled by each subcommand's file, so that subcommands stay independent.
var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("logferry: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// usageError makes run print the command's usage and exit 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{
		Stdin:    os.Stdin,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Terminal: isTerminal(os.Stderr),
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Getenv:   os.Getenv,
	}
	os.Exit(profiled(func() int { return run(ctx, e, os.Args[1:]) }))
}

// profiled runs f with a CPU profile written to $LOGFERRY_CPUPROFILE when it is set: how
// scripts/bench-parse.sh's figures are taken apart (go tool pprof bin/logferry FILE).
func profiled(f func() int) int {
	path := os.Getenv("LOGFERRY_CPUPROFILE")
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "logferry: LOGFERRY_CPUPROFILE: %v\n", err)
		return 1
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		fmt.Fprintf(os.Stderr, "logferry: LOGFERRY_CPUPROFILE: %v\n", err)
		return 1
	}
	defer pprof.StopCPUProfile()
	return f()
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.Stderr, "logferry: unknown command %q\n\n", args[0])
		printUsage(e.Stderr)
		return 2
	}
	err := c.run(ctx, e, args[1:])
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(e.Stderr, "logferry %s: %s\nusage: logferry %s %s\n", c.name, escape.Text(ue.msg), c.name, c.usage)
		return 2
	default:
		// Errors quote object names, events and answers someone else shaped: whatever was
		// not escaped where the message was made is escaped here (lists keep their lines).
		fmt.Fprintf(e.Stderr, "logferry %s: %s\n", c.name, escape.Lines(err.Error()))
		return 1
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: logferry <command> [arguments]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
}

// newFlagSet returns a flag set that reports errors to the caller instead of exiting.
func newFlagSet(e *env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("logferry "+c.name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "usage: logferry %s %s\n\n%s\n", c.name, c.usage, c.summary)
		fs.PrintDefaults()
	}
	return fs
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// parseInterspersed parses flags wherever they appear ("SOURCE --to URL" as well as
// "--to URL SOURCE"), returning the positional arguments in order; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
