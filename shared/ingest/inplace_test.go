package ingest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/s3test"
)

// copySink keeps a copy of every document Add is given.
type copySink struct{ docs [][]byte }

func (s *copySink) Add(_ context.Context, doc []byte) error {
	s.docs = append(s.docs, bytes.Clone(doc))
	return nil
}
func (s *copySink) Close(context.Context) error { return nil }
func (s *copySink) Stats() logstash.Stats {
	return logstash.Stats{Added: uint64(len(s.docs)), Sent: uint64(len(s.docs))}
}

// tailSink lends its buffer, as cmd/logferry's parse writer does, and starts with bytes
// of its own in it that the documents must be appended after, not written over.
type tailSink struct {
	copySink
	buf  []byte
	adds int
}

func (s *tailSink) Tail() []byte { return s.buf }
func (s *tailSink) AddTail(_ context.Context, buf []byte) error {
	s.docs = append(s.docs, bytes.Clone(buf[len(s.buf):]))
	s.buf = append(buf, '\n')
	return nil
}
func (s *tailSink) Add(context.Context, []byte) error { s.adds++; return nil }

var _ InPlaceIndexer = (*tailSink)(nil)

// TestInPlaceSinkGetsTheSameDocuments: a sink that lends its buffer gets, after what it
// held, exactly the documents Add would have been given, parse failures and long lines
// included, and Add is not called.
func TestInPlaceSinkGetsTheSameDocuments(t *testing.T) {
	s := s3test.New(t)
	s.CreateBucket(t, bucket)
	var lines []string
	for i := range 300 {
		lines = append(lines, albLine(i))
	}
	lines[17] = "not an ALB line"
	lines[99] = albLine(99) + strings.Repeat("x", 3000) // longer than MaxLineBytes below
	body, _ := object(lines)
	s.Put(t, bucket, albKey, gz(t, body))

	run := func(sink logstash.Indexer) Result {
		res, err := Run(context.Background(), Object{Bucket: bucket, Key: albKey}, Config{
			Getter:       s.Client,
			NewIndexer:   func(Object) (logstash.Indexer, error) { return sink, nil },
			MaxLineBytes: 2000,
			Logger:       quiet,
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	byAdd := &copySink{}
	inPlace := &tailSink{buf: append(make([]byte, 0, 1<<20), "earlier output\n"...)}
	ra, rt := run(byAdd), run(inPlace)
	if ra.Documents != 300 || rt.Documents != 300 || ra.ParseFailures != 2 || rt.ParseFailures != 2 || rt.LongLines != 1 {
		t.Fatalf("documents %d / %d, parse failures %d / %d, long lines %d: want 300, 2, 1", ra.Documents, rt.Documents, ra.ParseFailures, rt.ParseFailures, rt.LongLines)
	}
	if inPlace.adds != 0 {
		t.Errorf("Add called %d times on a sink that lends its buffer", inPlace.adds)
	}
	if !bytes.HasPrefix(inPlace.buf, []byte("earlier output\n")) {
		t.Errorf("the sink's earlier bytes were overwritten: %.40q", inPlace.buf)
	}
	for i := range byAdd.docs {
		if !bytes.Equal(byAdd.docs[i], inPlace.docs[i]) {
			t.Fatalf("document %d differs:\nAdd:     %.200s\nin place: %.200s", i, byAdd.docs[i], inPlace.docs[i])
		}
	}
}
