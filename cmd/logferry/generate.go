package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/logferry/logferry/shared/elblog/loggen"
)

func init() {
	register(&command{
		name:    "generate",
		usage:   "-format alb|classic|nlb|conn -size 200MB [-seed N] [-o FILE[.gz]]",
		summary: "write realistic, deterministic ELB log lines (for benchmarks and big fixtures); gzip when FILE ends in .gz",
		run:     runGenerate,
	})
}

func runGenerate(ctx context.Context, e *env, args []string) error {
	c := commands["generate"]
	fs := newFlagSet(e, c)
	format := fs.String("format", "alb", "line format: "+strings.Join(loggen.Formats, ", "))
	sizeFlag := fs.String("size", "10MB", "uncompressed size to write (B, KB, MB, GB; powers of 1000, or KiB/MiB/GiB)")
	seed := fs.Uint64("seed", 1, "generator seed: the same seed gives the same lines")
	outName := fs.String("o", "-", "output file; .gz means gzip-compressed; - is stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	size, err := parseSize(*sizeFlag)
	if err != nil {
		return usagef("-size: %v", err)
	}
	g, err := loggen.New(*format, *seed)
	if err != nil {
		return usagef("-format: %v", err)
	}

	var w io.Writer = e.Stdout
	var f *os.File
	if *outName != "-" {
		if f, err = os.Create(*outName); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var gz *gzip.Writer
	if strings.HasSuffix(*outName, ".gz") {
		gz = gzip.NewWriter(bw)
		w = gz
	} else {
		w = bw
	}
	var written int64
	buf := make([]byte, 0, 64<<10)
	for written < size {
		if err := ctx.Err(); err != nil {
			return err
		}
		buf = buf[:0]
		for len(buf) < 60<<10 && written+int64(len(buf)) < size {
			buf = g.Append(buf)
			buf = append(buf, '\n')
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("writing %s: %w", *outName, err)
		}
		written += int64(len(buf))
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", *outName, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", *outName, err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", *outName, err)
		}
	}
	fmt.Fprintf(e.Stderr, "%s: %d bytes of %s lines (uncompressed)\n", *outName, written, *format)
	return nil
}

// parseSize reads sizes like 200MB, 1GB, 10MiB or 12345 (case-insensitive units).
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"b", 1}}
	num, mult := strings.ToLower(strings.TrimSpace(s)), 1.0
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size like 200MB", s)
	}
	return int64(n * mult), nil
}
