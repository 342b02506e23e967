package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// logferry runs one logferry command as a user would type it, printing the command line and
// its output (indented) as it comes, and returns its output and exit status. A command this
// build does not have is reported as missing (errMissing), so that the stage can say which
// issue brings it instead of failing obscurely.
func (r *run) logferry(ctx context.Context, env []string, args ...string) (out string, exit int, err error) {
	r.say("$ logferry %s", shellJoin(args))
	cmd := exec.CommandContext(ctx, r.cfg.Logferry, args...)
	cmd.Dir = r.cfg.WorkDir
	cmd.Env = append(append(os.Environ(), r.cfg.Env...), env...)
	var buf bytes.Buffer
	shown := &indent{w: r.out, prefix: "    | "}
	if r.quiet { // the output is data: keep stdout, show only stderr
		cmd.Stdout, cmd.Stderr = &buf, shown
	} else {
		w := io.MultiWriter(&buf, shown)
		cmd.Stdout, cmd.Stderr = w, w
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// Ctrl-C reaches the command as SIGINT, so it cleans up as it does for a user (a
	// reindex rolls back); it is killed if it has not ended a minute later.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	if !r.has(ctx, args[0]) {
		return "", 2, errMissing
	}
	err = cmd.Run()
	out = buf.String()
	var ee *exec.ExitError
	if err != nil && !asExit(err, &ee) {
		return out, -1, fmt.Errorf("logferry %s: %w", args[0], err)
	}
	if ee != nil {
		exit = ee.ExitCode()
	}
	return out, exit, nil
}

var errMissing = fmt.Errorf("this build of logferry has no such command")

// has tells whether this build of logferry has command, from its usage (`logferry help`).
func (r *run) has(ctx context.Context, command string) bool {
	if r.commands == nil {
		r.commands = map[string]bool{}
		out, _ := exec.CommandContext(ctx, r.cfg.Logferry, "help").CombinedOutput()
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(line, "  ") {
				r.commands[f[0]] = true
			}
		}
	}
	return r.commands[command]
}

func asExit(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*ee = e
	}
	return ok
}

// missing records a stage whose command has not landed on this branch yet: the seam the
// demo leaves for it, said plainly in the output and the summary.
func (r *run) missing(command, issue string) {
	msg := fmt.Sprintf("logferry %s is not in this build (%s): stage skipped", command, issue)
	r.say("SKIPPED: %s", msg)
	r.rep.Skipped = append(r.rep.Skipped, msg)
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " *?'\"$&|;<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// indent prefixes every line written through it.
type indent struct {
	w      io.Writer
	prefix string
	mid    bool // in the middle of a line
}

func (i *indent) Write(p []byte) (int, error) {
	var b []byte
	for _, c := range p {
		if !i.mid {
			b = append(b, i.prefix...)
			i.mid = true
		}
		b = append(b, c)
		if c == '\n' {
			i.mid = false
		}
	}
	if _, err := i.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}
