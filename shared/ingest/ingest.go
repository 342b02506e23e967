// Package ingest ships one log object end to end: read it through a Getter (S3; the CLI
// also serves local files through one), split it into lines, encode each line as an ECS
// document and hand the documents to a sink (a Logstash indexer, or `parse`'s writer). It stops at a line boundary when told to (the Lambda deadline) and says where
// to resume; a resumed run never re-ships the lines before its offset.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/escape"
	"github.com/logferry/logferry/shared/lines"
	"github.com/logferry/logferry/shared/logstash"
)

// Getter is the part of the S3 client ingest uses; *s3.Client satisfies it. It must
// honour GetObjectInput.Range of the form "bytes=N-" and "bytes=0-1".
type Getter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Object names what to ship and where to start: an S3 object, as the document ids and
// aws.s3.* fields name it. Nothing here reads the local file system: the CLI ships local
// files through a Getter of its own, with Bucket "" unless told which bucket they came from.
type Object struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"` // decoded, never URL-encoded
	// Offset is the decompressed byte offset of the first line to ship: 0, or a line
	// boundary returned as Result.Continue by an earlier run.
	Offset int64 `json:"offset,omitempty"`
}

// String names the object for messages, escaped (escape.Text): a key can hold any
// character, ESC and CR included, and must not act on the terminal that shows it.
func (o Object) String() string {
	if o.Bucket == "" {
		return escape.Text(o.Key)
	}
	return escape.Text("s3://" + o.Bucket + "/" + o.Key)
}

// Config is what Run needs besides the object.
type Config struct {
	// Getter reads the objects. Required.
	Getter Getter
	// NewIndexer returns the sink for one object's documents. Run closes it. Required.
	NewIndexer func(Object) (logstash.Indexer, error)
	// StopAt, when set, makes Run stop at the first line boundary after it, flush, and
	// return Result.Continue. Default: never stop early.
	StopAt time.Time
	// Clock is read against StopAt every few hundred lines. Default time.Now.
	Clock func() time.Time
	// IncludeOriginal also puts event.original on lines that parsed. Default false.
	IncludeOriginal bool
	// MaxLineBytes is the longest line parsed (lines.DefaultMaxLineBytes when 0).
	MaxLineBytes int
	// Logger receives per-object events. Default: slog.Default().
	Logger *slog.Logger
	// Progress, when set, is called about every ProgressEvery lines with the running result.
	Progress      func(Result)
	ProgressEvery int64 // default 65536
	// Concurrent decompresses in a goroutine of its own (lines.Options.Concurrent), which
	// pays on two cores when the sink is cheap (`parse`). Default false.
	Concurrent bool
}

// An InPlaceIndexer is a sink that lends its own buffer, so that each document is encoded
// where it will stay rather than encoded and then copied by Add: Run uses it when the sink
// has it. `logferry parse`'s writer does (there, the copy was ~4% of the time on short
// lines); logstash's Indexer does not, since it checks and batches each document first.
type InPlaceIndexer interface {
	logstash.Indexer
	// Tail returns the buffer the next document is to be appended to.
	Tail() []byte
	// AddTail takes buf, Tail's buffer with one document appended, and the document in it.
	AddTail(ctx context.Context, buf []byte) error
}

// Result describes one run over one object.
type Result struct {
	Object Object      `json:"object"`
	Kind   elblog.Kind `json:"-"`
	// Skipped is true for objects that are not logs by design (ELBAccessLogTestFile).
	Skipped bool `json:"skipped,omitempty"`
	// ObjectBytes is the size of the stored (possibly compressed) object; ReadBytes the
	// stored bytes actually read in this run.
	ObjectBytes int64 `json:"object_bytes"`
	ReadBytes   int64 `json:"read_bytes"`
	// Bytes is the decompressed bytes of the lines shipped in this run.
	Bytes         int64 `json:"bytes"`
	Lines         int64 `json:"lines"`
	Documents     int64 `json:"documents"`
	ParseFailures int64 `json:"parse_failures"`
	LongLines     int64 `json:"long_lines"`
	BlankLines    int64 `json:"blank_lines,omitempty"` // counted in Lines, no document
	// Newest is the newest @timestamp among the shipped lines (zero if none had one).
	Newest   time.Time      `json:"newest,omitzero"`
	Sink     logstash.Stats `json:"sink"`
	Duration time.Duration  `json:"duration"`
	// Continue is set when Run stopped early: ship the rest from there.
	Continue *Object `json:"continue,omitempty"`
}

// PermanentError is a failure that retrying cannot fix (the object is not a log, or is
// corrupt). Lines before the failure were shipped; callers should report it and not
// redeliver the object forever.
type PermanentError struct {
	Object Object
	Err    error
}

func (e *PermanentError) Error() string { return e.Object.String() + ": " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err (from Run) cannot be fixed by retrying.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// ErrNotLog is wrapped by the PermanentError for objects that are not ELB logs.
var ErrNotLog = errors.New("not an Elastic Load Balancing log")

const checkDeadlineEvery = 256 // lines between clock reads

// Run ships obj. It returns an error when the object could not be read, or when documents
// could be neither delivered nor dead-lettered; documents that were dead-lettered still
// make it return an error (a *logstash.DeliveryError) so that the object is redelivered.
func Run(ctx context.Context, obj Object, cfg Config) (res Result, err error) {
	start := time.Now()
	res.Object = obj
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("object", obj.String())
	defer func() { res.Duration = time.Since(start) }()

	res.Kind = elblog.Classify(obj.Key)
	if res.Kind == elblog.KindTestFile {
		res.Skipped = true
		log.Info("skipping the test file ELB writes when access logging is enabled")
		return res, nil
	}
	if cfg.NewIndexer == nil {
		return res, errors.New("ingest: Config.NewIndexer is nil")
	}

	body, size, err := open(ctx, obj, cfg.Getter)
	if err != nil {
		return res, err
	}
	defer body.Close()
	res.ObjectBytes = size
	lr, err := lines.NewReader(body.r, lines.Options{MaxLineBytes: cfg.MaxLineBytes, StartOffset: body.start, Concurrent: cfg.Concurrent})
	if err != nil {
		return res, &PermanentError{obj, fmt.Errorf("open: %w", err)}
	}
	defer lr.Close()

	idx, err := cfg.NewIndexer(obj)
	if err != nil {
		return res, fmt.Errorf("%s: sink: %w", obj, err)
	}
	readErr := ship(ctx, obj, cfg, lr, idx, &res)
	// Close flushes and waits for the batches in flight; when ctx ends first, it
	// dead-letters them instead of waiting (the Lambda passes a ctx that ends a little
	// before its deadline, so that this happens before the process is frozen).
	closeErr := idx.Close(ctx)
	res.Sink = idx.Stats()
	res.ReadBytes = lr.RawBytes()
	if readErr != nil {
		return res, readErr
	}
	if closeErr != nil {
		return res, fmt.Errorf("%s: %w", obj, closeErr)
	}
	return res, nil
}

func ship(ctx context.Context, obj Object, cfg Config, lr *lines.Reader, idx logstash.Indexer, res *Result) error {
	enc := elblog.NewEncoder(elblog.Source{Bucket: obj.Bucket, Key: obj.Key, IncludeOriginal: cfg.IncludeOriginal})
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	every := cfg.ProgressEvery
	if every <= 0 {
		every = 1 << 16
	}
	first := true
	var buf []byte
	inPlace, _ := idx.(InPlaceIndexer)
	var newest int64
	defer func() {
		if newest != 0 {
			res.Newest = time.Unix(0, newest).UTC()
		}
	}()
	// A gzip resume decompresses from the start; skipping to the offset is work every
	// resume must finish, so the deadline is not checked here.
	for lr.Offset() < obj.Offset {
		_, _, _, err := next(obj, lr, res.ObjectBytes)
		if err == io.EOF {
			return &PermanentError{obj, fmt.Errorf("resume offset %d is past the end (%d bytes)", obj.Offset, lr.Offset())}
		}
		if err != nil {
			return err
		}
	}
	for n := int64(0); ; n++ {
		if n%checkDeadlineEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%s: stopped at offset %d: %w", obj, lr.Offset(), err)
			}
			// Never before the first line: every run must make progress.
			if n > 0 && !cfg.StopAt.IsZero() && clock().After(cfg.StopAt) {
				res.Continue = &Object{Bucket: obj.Bucket, Key: obj.Key, Offset: lr.Offset()}
				return nil
			}
		}
		line, off, longErr, err := next(obj, lr, res.ObjectBytes)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if longErr != nil {
			res.LongLines++ // shipped truncated, as a parse failure that says why
		}
		res.Lines++
		res.Bytes = lr.Offset() - obj.Offset
		if len(line) == 0 {
			res.BlankLines++
			continue // blank lines (a trailing "\n\n") carry no record
		}
		var r elblog.Result
		dst := buf[:0]
		if inPlace != nil {
			dst = inPlace.Tail()
		}
		if longErr != nil {
			dst, r = enc.AppendFailure(dst, line, off, longErr)
		} else {
			dst, r = enc.Append(dst, line, off)
		}
		if r.Err != nil {
			if first && res.Kind == elblog.KindUnknown {
				return &PermanentError{obj, fmt.Errorf("%w: the key does not look like one and its first line does not parse (%v)", ErrNotLog, r.Err)}
			}
			res.ParseFailures++
		}
		first = false
		if r.Time > newest {
			newest = r.Time
		}
		if inPlace != nil {
			err = inPlace.AddTail(ctx, dst)
		} else {
			buf = dst
			err = idx.Add(ctx, buf)
		}
		if err != nil {
			return fmt.Errorf("%s: sink: %w", obj, err)
		}
		res.Documents++
		if cfg.Progress != nil && res.Lines%every == 0 {
			cfg.Progress(*res)
		}
	}
}

// next reads one line. A line past MaxLineBytes comes back truncated with longErr set;
// err is io.EOF at the end, or the classified read failure.
func next(obj Object, lr *lines.Reader, size int64) (line []byte, off int64, longErr, err error) {
	line, off, err = lr.Next()
	if err == nil || err == io.EOF {
		return line, off, nil, err
	}
	// Declared here, not per line: errors.As makes it escape to the heap.
	var tooLong *lines.LineTooLongError
	if errors.As(err, &tooLong) {
		return line, off, err, nil
	}
	return nil, off, nil, readFailure(obj, lr, size, err)
}

// readFailure classifies a read error: damage to the stored object (all of it read, and
// still a truncated or corrupt gzip) is permanent; a transfer cut short, or any other
// read error, is worth a retry.
func readFailure(obj Object, lr *lines.Reader, size int64, err error) error {
	err = fmt.Errorf("read at offset %d: %w", lr.Offset(), err)
	if errors.Is(err, lines.ErrCorrupt) && lr.RawBytes() >= size {
		return &PermanentError{obj, err}
	}
	return fmt.Errorf("%s: %w", obj, err)
}

// body is an open object positioned so that its first byte is at decompressed offset start.
type body struct {
	r     io.Reader
	close func() error
	start int64
}

func (b body) Close() error { return b.close() }

// open returns the object's bytes. A resume of an uncompressed object reads only from the
// offset (a ranged GET or a seek); a compressed one must be decompressed from the start.
func open(ctx context.Context, obj Object, g Getter) (body, int64, error) {
	if g == nil {
		return body{}, 0, fmt.Errorf("%s: no Getter to read it with", obj)
	}
	if obj.Offset > 0 {
		gz, err := sniffGzip(ctx, obj, g)
		if err != nil {
			return body{}, 0, err
		}
		if !gz {
			out, err := g.GetObject(ctx, &s3.GetObjectInput{
				Bucket: &obj.Bucket, Key: &obj.Key, Range: aws.String(fmt.Sprintf("bytes=%d-", obj.Offset)),
			})
			if err != nil {
				return body{}, 0, fmt.Errorf("%s: get from offset %d: %w", obj, obj.Offset, err)
			}
			return body{r: out.Body, close: out.Body.Close, start: obj.Offset}, obj.Offset + aws.ToInt64(out.ContentLength), nil
		}
	}
	out, err := g.GetObject(ctx, &s3.GetObjectInput{Bucket: &obj.Bucket, Key: &obj.Key})
	if err != nil {
		return body{}, 0, fmt.Errorf("%s: get: %w", obj, err)
	}
	return body{r: out.Body, close: out.Body.Close}, aws.ToInt64(out.ContentLength), nil
}

func sniffGzip(ctx context.Context, obj Object, g Getter) (bool, error) {
	out, err := g.GetObject(ctx, &s3.GetObjectInput{Bucket: &obj.Bucket, Key: &obj.Key, Range: aws.String("bytes=0-1")})
	if err != nil {
		return false, fmt.Errorf("%s: get first bytes: %w", obj, err)
	}
	defer out.Body.Close()
	var magic [2]byte
	n, _ := io.ReadFull(out.Body, magic[:])
	return n == 2 && magic == [2]byte{0x1f, 0x8b}, nil
}
