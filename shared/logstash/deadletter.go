package logstash

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
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

// ReadFailedBatch reads what WriteFailedBatch wrote. A truncated or altered batch is an
// error: the header's document count must match.
func ReadFailedBatch(r io.Reader) (FailedBatch, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return FailedBatch{}, fmt.Errorf("dead letter is not gzip: %w", err)
	}
	br := bufio.NewReader(zr)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return FailedBatch{}, fmt.Errorf("dead letter header: %w", noEOF(err))
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil || h.Version != formatVersion {
		return FailedBatch{}, fmt.Errorf("dead letter header: not a logferry dead letter (version %d, %v)", h.Version, err)
	}
	b := FailedBatch{Source: h.Source, Status: h.Status, Err: h.Err, Attempts: h.Attempts, Time: h.Time}
	b.Docs = make([][]byte, 0, h.Docs)
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

// batchName is where a batch is stored, relative to the dead letter's root:
//
//	yyyy/mm/dd/<bucket>/<key>/<yyyymmddThhmmss.mmmZ>-<random>.ndjson.gz
//
// Path segments of the bucket and key are escaped so that no name can climb out of the
// root; "_" stands for a missing bucket or key.
func batchName(b FailedBatch) string {
	t := b.Time.UTC()
	if t.IsZero() {
		t = time.Now().UTC()
	}
	var sb strings.Builder
	sb.WriteString(t.Format("2006/01/02/"))
	sb.WriteString(segment(b.Source.Bucket))
	sb.WriteByte('/')
	if b.Source.Key == "" {
		sb.WriteString("_/")
	} else {
		for _, s := range strings.Split(b.Source.Key, "/") {
			sb.WriteString(segment(s))
			sb.WriteByte('/')
		}
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	sb.WriteString(t.Format("20060102T150405.000Z"))
	sb.WriteByte('-')
	sb.WriteString(hex.EncodeToString(rnd[:]))
	sb.WriteString(Ext)
	return sb.String()
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
	s = url.PathEscape(s)
	if len(s) > 200 { // file systems limit a name to 255 bytes
		s = s[:200]
	}
	return s
}

var errNotBatchName = errors.New("not a dead-letter batch name")
