package logstash

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// FailedBatch is a batch Logstash did not acknowledge, with what an operator needs to
// know about it; Replay sends its documents again.
type FailedBatch struct {
	// Docs are the documents, single-line JSON objects carrying their @metadata._id.
	// From an Indexer they alias its buffers: a DeadLetter must not keep them after Put.
	Docs     [][]byte
	Source   Source    // the object the documents came from, when the caller said
	Status   int       // the last HTTP status; 0 when the last attempt got no answer
	Err      string    // the last failure
	Attempts int       // requests made for these documents
	Time     time.Time // when the Indexer gave up (UTC)
}

// DeadLetter stores batches that could not be delivered. Put must not return before
// the batch is durably stored: the Indexer counts the documents safe once it returns nil.
type DeadLetter interface {
	Put(ctx context.Context, b FailedBatch) error
}

// DeadLetterSource lists, reads and removes stored batches, for Replay.
type DeadLetterSource interface {
	// List returns the names of the stored batches, oldest first.
	List(ctx context.Context) ([]string, error)
	Get(ctx context.Context, name string) (FailedBatch, error)
	Delete(ctx context.Context, name string) error
}

// Ext ends the name of every stored batch.
const Ext = ".ndjson.gz"

// formatVersion is the value of the header's "logferry_dead_letter" key.
const formatVersion = 1

// header is the first line of a stored batch; the documents follow, one per line.
type header struct {
	Version  int       `json:"logferry_dead_letter"`
	Docs     int       `json:"docs"`
	Source   Source    `json:"source"`
	Status   int       `json:"status"`
	Err      string    `json:"error"`
	Attempts int       `json:"attempts"`
	Time     time.Time `json:"time"`
}

// WriteFailedBatch writes b in the stored format: gzip of NDJSON whose first line is a
// header ({"logferry_dead_letter":1,"docs":N,"source":{…},"status":…,"error":…,
// "attempts":…,"time":…}) and whose other lines are the documents.
func WriteFailedBatch(w io.Writer, b FailedBatch) error {
	h, err := json.Marshal(header{
		Version: formatVersion, Docs: len(b.Docs), Source: b.Source, Status: b.Status,
		Err: b.Err, Attempts: b.Attempts, Time: b.Time,
	})
	if err != nil {
		return fmt.Errorf("encoding dead-letter header: %w", err)
	}
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	zw.Write(h)
	zw.Write([]byte{'\n'})
	for _, d := range b.Docs {
		zw.Write(d)
		if _, err := zw.Write([]byte{'\n'}); err != nil {
			return fmt.Errorf("writing dead letter: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("writing dead letter: %w", err)
	}
	return nil
}

// MaxStoredBatchBytes bounds one stored batch, both as stored (gzip) and decompressed:
// the sink never writes more than the input's max_content_length (100 MiB by default) of
// documents to one batch, so anything larger is not a batch it wrote, and reading it must
// not take the replaying process's memory (a gzip bomb is small on disk).
const MaxStoredBatchBytes = 256 << 20

// maxStoredBatchBytes is MaxStoredBatchBytes; tests lower it.
var maxStoredBatchBytes int64 = MaxStoredBatchBytes

// ErrBatchTooLarge is wrapped by the error of a stored batch over MaxStoredBatchBytes.
var ErrBatchTooLarge = fmt.Errorf("larger than %d MiB, more than any batch logferry writes", MaxStoredBatchBytes>>20)

// capped fails with ErrBatchTooLarge instead of reading past n bytes.
type capped struct {
	r io.Reader
	n int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n <= 0 {
		// At the cap: only the end of the input is fine.
		var one [1]byte
		if m, err := c.r.Read(one[:]); m == 0 && err != nil {
			return 0, err
		}
		return 0, ErrBatchTooLarge
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// ReadFailedBatch reads what WriteFailedBatch wrote. A truncated or altered batch is an
// error: the header's document count must match. It reads at most MaxStoredBatchBytes,
// stored and decompressed.
func ReadFailedBatch(r io.Reader) (FailedBatch, error) {
	zr, err := gzip.NewReader(&capped{r: r, n: maxStoredBatchBytes})
	if err != nil {
		return FailedBatch{}, fmt.Errorf("dead letter is not gzip: %w", err)
	}
	br := bufio.NewReader(&capped{r: zr, n: maxStoredBatchBytes})
	line, err := br.ReadBytes('\n')
	if err != nil {
		return FailedBatch{}, fmt.Errorf("dead letter header: %w", noEOF(err))
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil || h.Version != formatVersion {
		return FailedBatch{}, fmt.Errorf("dead letter header: not a logferry dead letter (version %d, %v)", h.Version, err)
	}
	b := FailedBatch{Source: h.Source, Status: h.Status, Err: h.Err, Attempts: h.Attempts, Time: h.Time}
	if h.Docs < 0 || int64(h.Docs) > maxStoredBatchBytes/3 { // a document is at least "{}\n"
		return FailedBatch{}, fmt.Errorf("dead letter header: %d documents is not a count a batch can hold", h.Docs)
	}
	b.Docs = make([][]byte, 0, min(h.Docs, 1<<14)) // the header is not trusted with an allocation
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err != nil {
			return FailedBatch{}, fmt.Errorf("dead letter document %d: %w", n, noEOF(err))
		}
		doc := line[:len(line)-1]
		if err := checkDoc(doc); err != nil {
			return FailedBatch{}, fmt.Errorf("dead letter document %d: %w", n, err)
		}
		b.Docs = append(b.Docs, doc)
	}
	if len(b.Docs) != h.Docs {
		return FailedBatch{}, fmt.Errorf("dead letter holds %d documents, its header says %d", len(b.Docs), h.Docs)
	}
	return b, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func encodeBatch(b FailedBatch) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteFailedBatch(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MaxKeyBytes is the longest name a stored batch gets, its root's prefix included: S3's
// limit on an object key.
const MaxKeyBytes = 1024

// batchName is where a batch is stored, relative to the dead letter's root:
//
//	yyyy/mm/dd/<bucket>/<key>/<yyyymmddThhmmss.mmmZ>-<random>.ndjson.gz
//
// Path segments of the bucket and key are escaped so that no name can climb out of the
// root; "_" stands for a missing bucket or key. Segments are cut at 200 bytes (file
// systems limit a name to 255), and max bounds the whole name's length: when either cuts
// the source, it ends in
// "~<16 hex digits of SHA-256(bucket/key)>/" instead, so distinct sources stay apart. The
// full bucket and key are always in the batch's header.
func batchName(b FailedBatch, max int) string {
	t := b.Time.UTC()
	if t.IsZero() {
		t = time.Now().UTC()
	}
	var src strings.Builder
	cut := false // a segment was shortened: the hash keeps its source apart from others
	add := func(seg string) {
		e := segment(seg)
		cut = cut || len(url.PathEscape(seg)) > maxSegmentBytes
		src.WriteString(e)
		src.WriteByte('/')
	}
	add(b.Source.Bucket)
	if b.Source.Key == "" {
		add("")
	} else {
		for _, s := range strings.Split(b.Source.Key, "/") {
			add(s)
		}
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	day := t.Format("2006/01/02/")
	tail := t.Format("20060102T150405.000Z") + "-" + hex.EncodeToString(rnd[:]) + Ext
	source := src.String()
	if cut || len(day)+len(source)+len(tail) > max {
		sum := sha256.Sum256([]byte(b.Source.Bucket + "/" + b.Source.Key))
		mark := "~" + hex.EncodeToString(sum[:8]) + "/"
		source = cutEscaped(source, max-len(day)-len(tail)-len(mark)) + mark
	}
	return day + source + tail
}

// maxSegmentBytes is the longest escaped segment: file systems limit a name to 255 bytes.
const maxSegmentBytes = 200

// minNameBytes is what batchName needs at least: the day, a hash mark and the file name.
const minNameBytes = len("2006/01/02/") + len("~0123456789abcdef/") + len("20060102T150405.000Z-0123456789ab") + len(Ext)

// cutEscaped shortens a path-escaped s to at most n bytes without splitting a %XX escape.
func cutEscaped(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	s = s[:n]
	if i := strings.LastIndexByte(s, '%'); i >= 0 && i > len(s)-3 {
		s = s[:i]
	}
	return s
}

func segment(s string) string {
	switch s {
	case "":
		return "_"
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return cutEscaped(url.PathEscape(s), maxSegmentBytes)
}

var errNotBatchName = errors.New("not a dead-letter batch name")
