package lines

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

func collect(t *testing.T, in []byte, opts Options) ([]got, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(in), opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []got
	for {
		line, off, err := r.Next()
		var tl *LineTooLongError
		if err == io.EOF {
			return out, nil
		}
		if err != nil && !errors.As(err, &tl) {
			return out, err
		}
		out = append(out, got{string(line), off, tl})
	}
}

// The concurrent reader returns exactly what the sequential one does, errors included.
func TestConcurrentMatchesSequential(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // the goroutine only starts with 2 or more
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 20 {
		var b strings.Builder
		for range 2000 + rng.IntN(20000) {
			n := rng.IntN(400)
			if rng.IntN(500) == 0 {
				n = 70000
			}
			b.WriteString(strings.Repeat(string(rune('a'+rng.IntN(26))), n))
			b.WriteByte('\n')
		}
		members := []string{b.String()}
		if iter%3 == 0 {
			members = append(members, "second member\n", "third")
		}
		in := gz(t, members...)
		if iter%4 == 1 {
			in = in[:len(in)*2/3] // truncated
		}
		opts := Options{MaxLineBytes: 65536}
		want, wantErr := collect(t, in, opts)
		opts.Concurrent = true
		g, gotErr := collect(t, in, opts)
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
			t.Fatalf("iter %d: error %v, sequential %v", iter, gotErr, wantErr)
		}
		if len(g) != len(want) {
			t.Fatalf("iter %d: %d lines, sequential %d", iter, len(g), len(want))
		}
		for i := range want {
			if g[i].line != want[i].line || g[i].off != want[i].off || (g[i].tooLong == nil) != (want[i].tooLong == nil) {
				t.Fatalf("iter %d line %d differs", iter, i)
			}
		}
	}
}

// Closing before the end stops the goroutine: no leak per abandoned object.
func TestConcurrentCloseEarly(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	in := gz(t, strings.Repeat("a fairly long log line that repeats\n", 200000))
	before := runtime.NumGoroutine()
	for range 20 {
		r, err := NewReader(bytes.NewReader(in), Options{Concurrent: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		r.Close() // idempotent
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
	// Plain input starts no goroutine, and Close is harmless.
	r, _ := NewReader(strings.NewReader("x\n"), Options{Concurrent: true})
	if r.async != nil {
		t.Error("goroutine started for uncompressed input")
	}
	r.Close()
}

// With one P nothing can overlap, so Concurrent reads in the caller's goroutine, with the
// same results.
func TestConcurrentOneProc(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	in := gz(t, "one\ntwo\n", "three")
	r, err := NewReader(bytes.NewReader(in), Options{Concurrent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.async != nil {
		t.Error("goroutine started with GOMAXPROCS 1")
	}
	var got []string
	for {
		line, _, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(line))
	}
	if strings.Join(got, ",") != "one,two,three" {
		t.Errorf("lines %q", got)
	}
}
