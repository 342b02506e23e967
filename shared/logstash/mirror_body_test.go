package logstash_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

// The mirror sends the primary's request bodies as they are: the same batches, byte for
// byte on the wire, each once.
func TestMirrorSendsThePrimarysBodies(t *testing.T) {
	primary := logstashtest.New(t, logstashtest.Options{})
	mirror := logstashtest.New(t, logstashtest.Options{})
	ix := mirroredIndexer(t, primary.URL, mirror.URL, nil, 0)
	addAll(t, ix, 0, 1000)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, mirror, 0, 1000)
	wire := func(s *logstashtest.Server) map[string]int {
		out := map[string]int{}
		for _, r := range s.Requests() {
			out[fmt.Sprintf("%d docs, %d bytes as sent, %d decoded, %s", r.Events, r.WireBytes, r.BodyBytes, r.ContentEncoding)]++
		}
		return out
	}
	p, m := wire(primary), wire(mirror)
	if len(primary.Requests()) != 10 || fmt.Sprint(p) != fmt.Sprint(m) {
		t.Fatalf("primary's requests %v, mirror's %v: want the same ten gzipped batches", p, m)
	}
	if st := ix.Stats(); st.BytesSent == 0 || st.Mirror.Sent != 1000 || st.Mirror.Added != 1000 {
		t.Fatalf("stats %+v", st)
	}
}

// A mirror whose max_content_length is lower than the primary's splits the primary's
// batches by documents until they fit, as the primary does; a document too large for it
// alone goes to the mirror's dead letters. The primary gets everything.
func TestMirror413SplitsByDocuments(t *testing.T) {
	primary := logstashtest.New(t, logstashtest.Options{})
	mirror := logstashtest.New(t, logstashtest.Options{MaxContentLength: int64(12 * len(doc(0)))})
	dl, _ := logstash.NewDir(t.TempDir())
	p := newIndexer(t, logstash.Config{URL: primary.URL, BatchDocs: 100})
	ix, err := logstash.NewMirrored(p, logstash.MirrorConfig{
		Config: fastRetries(logstash.Config{URL: mirror.URL, DeadLetter: dl}),
		Wait:   time.Minute, // the splits take a while under -race; this test is not about the wait
	})
	if err != nil {
		t.Fatal(err)
	}
	big := fmt.Appendf(nil, `{"@metadata":{"_id":"big"},"message":"%s"}`, strings.Repeat("x", 8000))
	addAll(t, ix, 0, 500)
	if err := ix.Add(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	addAll(t, ix, 500, 1000)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v; the mirror's 413s never fail the object", err)
	}
	if len(primary.Docs()) != 1001 || len(primary.Redelivered()) != 0 {
		t.Fatalf("primary holds %d documents, want 1001 once", len(primary.Docs()))
	}
	assertExactlyOnce(t, mirror, 0, 1000)
	st := ix.Stats()
	if st.Mirror.Sent != 1000 || st.Mirror.DeadLettered != 1 || st.Mirror.Lost != 0 || st.Splits != 0 {
		t.Fatalf("stats %+v: want 1000 sent to the mirror, the big one in its dead letters, no split on the primary", st)
	}
	names, _ := dl.List(context.Background())
	if len(names) != 1 {
		t.Fatalf("mirror dead letters %v, want one", names)
	}
	fb, err := dl.Get(context.Background(), names[0])
	if err != nil || len(fb.Docs) != 1 || !bytes.Equal(fb.Docs[0], big) || fb.Status != 413 {
		t.Fatalf("mirror dead letter: %v, status %d, %d docs; want the big document with its 413", err, fb.Status, len(fb.Docs))
	}
}

// A mirror with another body format than the primary's encodes the batches itself.
func TestMirrorOtherCodecEncodesItself(t *testing.T) {
	primary := logstashtest.New(t, logstashtest.Options{})
	mirror := logstashtest.New(t, logstashtest.Options{Codecs: map[string]string{"application/x-ndjson": "json_lines"}})
	p := newIndexer(t, logstash.Config{URL: primary.URL, BatchDocs: 100})
	ix, err := logstash.NewMirrored(p, logstash.MirrorConfig{
		Config: fastRetries(logstash.Config{URL: mirror.URL, Codec: logstash.CodecJSONLines, DisableGzip: true}),
	})
	if err != nil {
		t.Fatal(err)
	}
	addAll(t, ix, 0, 1000)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, primary, 0, 1000)
	assertExactlyOnce(t, mirror, 0, 1000)
	for _, r := range mirror.Requests() {
		if r.ContentType != "application/x-ndjson" || r.ContentEncoding != "" || r.WireBytes != r.BodyBytes {
			t.Fatalf("mirror request %+v: want uncompressed NDJSON", r)
		}
	}
}

// The mirror refusing the credentials is the mirror's failure alone: the object
// succeeds, and since its source is not read again for the mirror, the documents go to
// the mirror's dead letters (not only counted, as the primary's are), from where a replay
// with the right credentials delivers them.
func TestMirrorRefusedCredentialsAreDeadLettered(t *testing.T) {
	primary := logstashtest.New(t, logstashtest.Options{})
	mirror := logstashtest.New(t, logstashtest.Options{Username: "ferry", Password: "right"})
	dl, _ := logstash.NewDir(t.TempDir())
	p := newIndexer(t, logstash.Config{URL: primary.URL, BatchDocs: 100})
	ix, err := logstash.NewMirrored(p, logstash.MirrorConfig{
		Config: fastRetries(logstash.Config{URL: mirror.URL, Username: "ferry", Password: "wrong", DeadLetter: dl}),
		Wait:   2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	addAll(t, ix, 0, 1000)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v; want nil", err)
	}
	assertExactlyOnce(t, primary, 0, 1000)
	if st := ix.Stats(); st.Mirror.DeadLettered != 1000 || st.Mirror.Lost != 0 || st.Mirror.Sent != 0 {
		t.Fatalf("stats %+v: want the 1000 mirror documents dead-lettered", st)
	}
	rs, err := logstash.Replay(context.Background(), dl, logstash.Config{URL: mirror.URL, Username: "ferry", Password: "right"})
	if err != nil || rs.Docs != 1000 || rs.Kept != 0 {
		t.Fatalf("replay: %+v, %v", rs, err)
	}
	assertExactlyOnce(t, mirror, 0, 1000)
}

// NewMirrored needs the primary's batches, so only an Indexer from NewIndexer, and only
// one mirror per primary.
func TestMirrorNeedsAnIndexerPrimary(t *testing.T) {
	primary := logstashtest.New(t, logstashtest.Options{})
	p := newIndexer(t, logstash.Config{URL: primary.URL})
	defer p.Close(context.Background())
	mc := logstash.MirrorConfig{Config: logstash.Config{URL: primary.URL}}
	m, err := logstash.NewMirrored(p, mc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := logstash.NewMirrored(m, mc); err == nil || !strings.Contains(err.Error(), "NewIndexer") {
		t.Errorf("a mirrored Indexer as primary: %v, want an error naming NewIndexer", err)
	}
	if _, err := logstash.NewMirrored(p, mc); err == nil || !strings.Contains(err.Error(), "already has a mirror") {
		t.Errorf("a second mirror: %v", err)
	}
}
