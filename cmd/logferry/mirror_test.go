package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

// `replay DIR` leaves the mirror's batches (DIR/mirror/) alone; `replay DIR --mirror --to
// URL` sends exactly those to the mirror.
func TestReplayMirrorDeadLetters(t *testing.T) {
	dir := t.TempDir()
	primaryDL, _ := logstash.NewDir(dir)
	mirrorDL, _ := logstash.NewDir(filepath.Join(dir, "mirror"))
	deadLetterSome(t, primaryDL, 30)
	deadLetterSome(t, mirrorDL, 70)

	primary := logstashtest.New(t, logstashtest.Options{})
	e, _, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"replay", dir, "--to", primary.URL}); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errb)
	}
	assertReplayed(t, primary, 30)
	if !strings.Contains(errb.String(), "the mirror's, left in place: replay them with --mirror") {
		t.Errorf("replay output does not mention the mirror's batches: %s", errb)
	}

	mirror := logstashtest.New(t, logstashtest.Options{})
	e, _, errb = testEnv(map[string]string{"LOGSTASH_URL": primary.URL})
	if code := run(context.Background(), e, []string{"replay", dir, "--mirror", "--to", mirror.URL}); code != 0 {
		t.Fatalf("replay --mirror: exit %d: %s", code, errb)
	}
	assertReplayed(t, mirror, 70)
	if n := len(primary.Docs()); n != 30 {
		t.Errorf("the primary got %d documents, want still 30", n)
	}
	e, _, errb = testEnv(nil)
	if code := run(context.Background(), e, []string{"replay", dir, "--mirror"}); code != 2 || !strings.Contains(errb.String(), "no mirror URL") {
		t.Errorf("replay --mirror without a URL: exit %d, %s", code, errb)
	}
}

// `ingest --to-mirror URL` ships history to the new cluster only, with the mirror's
// credentials; LOGSTASH_MIRROR_URL alone does not make the CLI ship twice.
func TestIngestToMirrorOnly(t *testing.T) {
	primary := logstashtest.New(t, logstashtest.Options{})
	mirror := logstashtest.New(t, logstashtest.Options{Username: "new", Password: "s3cret"})
	dir := t.TempDir()
	body, offs := classicLines(120)
	path := filepath.Join(dir, "a.log")
	os.WriteFile(path, body, 0o644)
	vars := map[string]string{"LOGSTASH_URL": primary.URL, "LOGSTASH_MIRROR_URL": mirror.URL,
		"LOGSTASH_MIRROR_USERNAME": "new", "LOGSTASH_MIRROR_PASSWORD": "s3cret"}
	e, _, errb := testEnv(vars)
	if code := run(context.Background(), e, []string{"ingest", path, "--to-mirror", mirror.URL}); code != 0 {
		t.Fatalf("ingest --to-mirror: exit %d: %s", code, errb)
	}
	if len(primary.Docs()) != 0 {
		t.Fatalf("the primary got %d documents from --to-mirror", len(primary.Docs()))
	}
	docs := mirror.Docs()
	for _, off := range offs {
		if _, ok := docs[elblog.DocumentID("", "a.log", off)]; !ok { // a file given alone: keyed by its name
			t.Fatalf("line at %d missing in the mirror", off)
		}
	}
	e, _, errb = testEnv(vars)
	if code := run(context.Background(), e, []string{"ingest", path}); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errb)
	}
	if len(primary.Docs()) != len(offs) || mirror.Deliveries(elblog.DocumentID("", "a.log", 0)) != 1 {
		t.Fatalf("plain ingest: primary %d docs, mirror got the first line %d times; want the primary only", len(primary.Docs()), mirror.Deliveries(elblog.DocumentID("", "a.log", 0)))
	}
}
