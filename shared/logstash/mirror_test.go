package logstash_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

func mirroredIndexer(t *testing.T, primaryURL, mirrorURL string, dl logstash.DeadLetter, buffer int) logstash.Indexer {
	t.Helper()
	p := newIndexer(t, logstash.Config{URL: primaryURL, BatchDocs: 100})
	m, err := logstash.NewMirrored(p, logstash.MirrorConfig{
		Config: fastRetries(logstash.Config{URL: mirrorURL, BatchDocs: 100, MaxRetries: 3, DeadLetter: dl, Source: logstash.Source{Bucket: "b", Key: "k"}}),
		Buffer: buffer, Wait: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMirrorHealthyGetsEverythingOnce(t *testing.T) {
	primary := logstashtest.New(t, logstashtest.Options{})
	mirror := logstashtest.New(t, logstashtest.Options{})
	ix := mirroredIndexer(t, primary.URL, mirror.URL, nil, 0)
	addAll(t, ix, 0, 5000)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*logstashtest.Server{primary, mirror} {
		if len(s.Docs()) != 5000 || len(s.Redelivered()) > 0 {
			t.Fatalf("%d documents, %d redelivered; want 5000 once", len(s.Docs()), len(s.Redelivered()))
		}
	}
	st := ix.Stats()
	if st.Sent != 5000 || st.Mirror.Added != 5000 || st.Mirror.Sent != 5000 || st.Mirror.DeadLettered != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// The mirror is down for the whole run: the primary gets everything and Close succeeds;
// the mirror's dead letters (under mirror/) hold exactly the documents, and replaying them
// into the mirror once it is back delivers exactly the missing ids. A replay of the root
// leaves the mirror's batches alone.
func TestMirrorDownNeverFailsThePrimary(t *testing.T) {
	primary := logstashtest.New(t, logstashtest.Options{})
	down := logstashtest.New(t, logstashtest.Options{})
	downURL := down.URL
	down.Close() // connection refused from now on
	root := t.TempDir()
	dl, err := logstash.NewDir(filepath.Join(root, "mirror"))
	if err != nil {
		t.Fatal(err)
	}
	ix := mirroredIndexer(t, primary.URL, downURL, dl, 1000)
	start := time.Now()
	addAll(t, ix, 0, 3000)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatalf("Close with the mirror down: %v, want nil (the mirror never fails the object)", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("3000 documents took %v with the mirror down: the primary was held back", d)
	}
	if len(primary.Docs()) != 3000 {
		t.Fatalf("primary holds %d documents, want 3000", len(primary.Docs()))
	}
	st := ix.Stats()
	if st.Mirror.DeadLettered != 3000 || st.Mirror.Lost != 0 || st.Mirror.Sent != 0 || st.Failed != 0 {
		t.Fatalf("stats %+v: want the 3000 mirror documents dead-lettered, nothing failed on the primary", st)
	}

	// A replay of the root to the primary skips the mirror's batches.
	src, _ := logstash.NewDir(root)
	rs, err := logstash.Replay(context.Background(), src, logstash.Config{URL: primary.URL})
	if err != nil || rs.Batches != 0 || rs.MirrorSkipped == 0 || len(primary.Redelivered()) != 0 {
		t.Fatalf("root replay: %+v, %v; want every batch skipped as the mirror's", rs, err)
	}
	back := logstashtest.New(t, logstashtest.Options{})
	rs, err = logstash.Replay(context.Background(), dl, logstash.Config{URL: back.URL})
	if err != nil || rs.Docs != 3000 || rs.Kept != 0 {
		t.Fatalf("mirror replay: %+v, %v", rs, err)
	}
	docs := back.Docs()
	for i := range 3000 {
		if _, ok := docs[id(i)]; !ok || back.Deliveries(id(i)) != 1 {
			t.Fatalf("%s reached the mirror %d times after replay", id(i), back.Deliveries(id(i)))
		}
	}
	if len(docs) != 3000 {
		t.Fatalf("mirror holds %d documents after replay, want 3000", len(docs))
	}
}

// A stalled mirror fills the bounded buffer; from then on documents go straight to the
// mirror's dead letter and the primary does not wait. Every document is in the mirror or its
// dead letters (a request still pending when the wait ran out is dead-lettered and may also
// land once the mirror resumes: replaying it then overwrites, ids being deterministic).
func TestMirrorStalledOverflowsToDeadLetters(t *testing.T) {
	primary := logstashtest.New(t, logstashtest.Options{})
	mirror := logstashtest.New(t, logstashtest.Options{BlockTimeout: time.Minute})
	mirror.Pause()
	dl, _ := logstash.NewDir(t.TempDir())
	ix := mirroredIndexer(t, primary.URL, mirror.URL, dl, 512)
	addAll(t, ix, 0, 4000)
	if err := ix.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	mirror.Resume()
	st := ix.Stats()
	if len(primary.Docs()) != 4000 || st.Mirror.Overflowed == 0 || st.Mirror.Lost != 0 {
		t.Fatalf("primary %d docs, stats %+v: want 4000 and an overflow, nothing lost", len(primary.Docs()), st)
	}
	names, _ := dl.List(context.Background())
	kept := map[string]int{}
	for _, n := range names {
		b, err := dl.Get(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range b.Docs {
			kept[string(d)]++
		}
	}
	if r := mirror.Redelivered(); len(r) > 0 {
		t.Fatalf("the mirror got %d documents twice", len(r))
	}
	got := mirror.Docs()
	for i := range 4000 {
		n := kept[string(doc(i))]
		if _, ok := got[id(i)]; ok {
			n++
		}
		if n == 0 {
			t.Fatalf("%s: neither in the mirror nor in its dead letters", id(i))
		}
	}
}
