// Package lines splits a possibly gzip-compressed stream into lines, reporting each
// line's byte offset in the decompressed stream, with bounded memory for any input size.
package lines

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/logferry/logferry/shared/gunzip"
)

// DefaultMaxLineBytes is the default Options.MaxLineBytes.
const DefaultMaxLineBytes = 1 << 20

// Options tunes a Reader. The zero value is ready to use.
type Options struct {
	// MaxLineBytes is the longest line returned whole. A longer line is returned
	// truncated to this size with a *LineTooLongError. Default DefaultMaxLineBytes (1 MiB).
	MaxLineBytes int
	// StartOffset is the decompressed offset of the first byte read from r, for
	// ranged resumes of uncompressed objects. Default 0.
	StartOffset int64
	// ReadSize is how many bytes are read from the (decompressed) stream at a time.
	// Peak memory is about MaxLineBytes + ReadSize. Default 128 KiB.
	ReadSize int
	// Concurrent decompresses gzip input in a separate goroutine, at most 1 MiB ahead
	// of Next, so that decompression overlaps parsing when a second core is free. The
	// caller must then call Close. It has no effect when GOMAXPROCS is 1, where nothing
	// can overlap and the goroutine's copy and handoffs would only cost time. Default false.
	Concurrent bool
}

// ErrCorrupt is wrapped by errors about the compressed data itself (truncated, bad
// checksum, bad header, bad deflate data), as opposed to errors reading the input. A
// truncation can also be a transfer cut short: callers that know the input's size can tell.
var ErrCorrupt = errors.New("damaged gzip data")

// damaged marks an error as ErrCorrupt without changing its message.
type damaged struct{ error }

func (damaged) Is(target error) bool { return target == ErrCorrupt }
func (d damaged) Unwrap() error      { return d.error }

// LineTooLongError reports a line longer than Options.MaxLineBytes. The reader has
// already skipped the rest of that line; the next call to Next returns the next line.
type LineTooLongError struct {
	Offset int64 // decompressed offset of the line's first byte
	Length int64 // full length of the line, without its "\n"
	Max    int   // the limit it exceeded
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("line at offset %d is %d bytes, longer than the %d-byte maximum (truncated)", e.Offset, e.Length, e.Max)
}

// Reader returns the lines of a stream. It is not safe for concurrent use.
type Reader struct {
	src   io.Reader // decompressed bytes
	gz    *gunzip.Reader
	async *asyncReader // non-nil with Options.Concurrent on gzip input
	raw   *countingReader
	bufr  *bufio.Reader

	buf        []byte
	start, end int   // unread bytes are buf[start:end]
	off        int64 // decompressed offset of buf[start]
	max        int
	readSize   int
	err        error // sticky: io.EOF or the read error, returned once buffered lines are used up
}

var gzipMagic = []byte{0x1f, 0x8b}

// NewReader wraps r; if r starts with the gzip magic bytes it is decompressed (all
// members, and zero bytes after the last taken for padding, as `gzip -d` does). The error
// is non-nil only when r's gzip header cannot be read.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if opts.ReadSize <= 0 {
		opts.ReadSize = 128 << 10
	}
	lr := &Reader{
		raw:      &countingReader{r: r},
		off:      opts.StartOffset,
		max:      opts.MaxLineBytes,
		readSize: opts.ReadSize,
	}
	lr.bufr = bufio.NewReaderSize(lr.raw, 64<<10)
	lr.src = lr.bufr
	magic, _ := lr.bufr.Peek(2) // a short or failing peek means "not gzip"; Next reports read errors
	if bytes.Equal(magic, gzipMagic) {
		gz, err := gunzip.NewReader(lr.bufr)
		if err != nil {
			return nil, lr.headerError(err)
		}
		lr.gz, lr.src = gz, gz
		if opts.Concurrent && runtime.GOMAXPROCS(0) > 1 {
			lr.async = newAsyncReader(gz)
			lr.src = lr.async
		}
	}
	// Start small: most objects have short lines, and the buffer only grows
	// towards MaxLineBytes+ReadSize when a line needs it.
	n := min(opts.ReadSize*2, opts.MaxLineBytes+opts.ReadSize)
	lr.buf = make([]byte, n)
	return lr, nil
}

// Close stops the decompression goroutine of a Concurrent reader; it does not close
// the underlying reader. It is safe to call more than once, and on any Reader.
func (r *Reader) Close() error {
	if r.async != nil {
		r.async.close()
	}
	return nil
}

// Compressed reports whether the input was gzip.
func (r *Reader) Compressed() bool { return r.gz != nil }

// RawBytes is how many bytes have been read from the underlying reader (compressed, when
// the input is gzip), including read-ahead not yet returned as lines.
func (r *Reader) RawBytes() int64 { return r.raw.n }

// Offset is the decompressed offset of the next unread byte (a line boundary after Next).
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next line without its "\n" (and without a trailing "\r"), and the
// decompressed byte offset of its first byte. The slice is valid until the next call.
// A line longer than Options.MaxLineBytes is returned truncated to that size with err of
// type *LineTooLongError; the reader then continues with the next line. Next returns
// io.EOF after the last line (a last line without "\n" is returned); a truncated or
// corrupt gzip stream is an error naming what broke.
func (r *Reader) Next() (line []byte, offset int64, err error) {
	for {
		if i := bytes.IndexByte(r.buf[r.start:r.end], '\n'); i >= 0 {
			return r.take(i, i+1)
		}
		n := r.end - r.start
		if r.err != nil {
			if r.err == io.EOF && n > 0 {
				return r.take(n, n)
			}
			return nil, r.off, r.err
		}
		if n > r.max {
			return r.tooLong()
		}
		r.fill()
	}
}

// take consumes buf[start:start+skip] and returns its first n bytes as the line.
func (r *Reader) take(n, skip int) ([]byte, int64, error) {
	line := r.buf[r.start : r.start+n]
	off := r.off
	r.start += skip
	r.off += int64(skip)
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) > r.max {
		// Only possible if a newline appeared beyond max in the same fill; keep the contract.
		return line[:r.max], off, &LineTooLongError{Offset: off, Length: int64(n), Max: r.max}
	}
	return line, off, nil
}

// tooLong keeps the first max bytes of the current line and reads past the rest of it,
// using the space after them, so memory stays at max+ReadSize whatever the line length.
func (r *Reader) tooLong() ([]byte, int64, error) {
	if r.start > 0 { // fill must not move the kept bytes
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	keep := r.max
	length := int64(r.max)
	for {
		if i := bytes.IndexByte(r.buf[keep:r.end], '\n'); i >= 0 {
			length += int64(i)
			line := r.buf[r.start:keep]
			off := r.off
			r.off += length + 1
			r.start = keep + i + 1
			return line, off, &LineTooLongError{Offset: off, Length: length, Max: r.max}
		}
		length += int64(r.end - keep)
		r.end = keep
		if r.err != nil {
			line := r.buf[r.start:keep]
			off := r.off
			r.off += length
			r.start = keep
			if r.err == io.EOF {
				return line, off, &LineTooLongError{Offset: off, Length: length, Max: r.max}
			}
			return nil, off, r.err
		}
		r.fill()
	}
}

// fill reads once into the buffer, compacting or growing it as needed.
func (r *Reader) fill() {
	if r.start == r.end {
		r.start, r.end = 0, 0
	}
	low := max(r.readSize/2, 1) // free space below which we compact, then grow
	if len(r.buf)-r.end < low && r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	if len(r.buf)-r.end < low && len(r.buf) < r.max+r.readSize {
		nb := make([]byte, min(2*len(r.buf), r.max+r.readSize))
		r.end = copy(nb, r.buf[r.start:r.end])
		r.start = 0
		r.buf = nb
	}
	n, err := r.src.Read(r.buf[r.end:min(len(r.buf), r.end+r.readSize)])
	r.end += n
	if err != nil {
		if err != io.EOF {
			err = r.readError(err)
		}
		r.err = err
	}
}

func (r *Reader) readError(err error) error {
	if r.gz != nil {
		return r.gzipError(err)
	}
	return fmt.Errorf("reading input at offset %d: %w", r.off+int64(r.end-r.start), err)
}

// gzipError names what broke and where, since "unexpected EOF" alone does not
// tell an operator whether the object was cut short or is corrupt.
func (r *Reader) gzipError(err error) error {
	return r.describe(err, r.gz.InputOffset())
}

// headerError is gzipError for the first header, before there is a gunzip.Reader.
func (r *Reader) headerError(err error) error {
	return r.describe(err, r.raw.n-int64(r.bufr.Buffered()))
}

func (r *Reader) describe(err error, at int64) error {
	dec := r.off + int64(r.end-r.start)
	var corrupt *gunzip.CorruptError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return damaged{fmt.Errorf("gzip stream truncated: input ends after %d compressed bytes (%d bytes decompressed): %w", r.raw.n, dec, err)}
	case errors.Is(err, gunzip.ErrChecksum):
		return damaged{fmt.Errorf("gzip stream corrupt: checksum mismatch at compressed byte %d (%d bytes decompressed): %w", at, dec, err)}
	case errors.Is(err, gunzip.ErrHeader):
		return damaged{fmt.Errorf("gzip stream corrupt: invalid member header at compressed byte %d (%d bytes decompressed): %w", at, dec, err)}
	case errors.As(err, &corrupt):
		return damaged{fmt.Errorf("gzip stream corrupt (%d bytes decompressed): %w", dec, err)}
	default:
		return fmt.Errorf("reading gzip input at compressed byte %d (%d bytes decompressed): %w", at, dec, err)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
