package logstash

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/logferry/logferry/shared/escape"
)

// ReplayStats counts what Replay did.
type ReplayStats struct {
	Batches  int    // stored batches found
	Replayed int    // batches Logstash acknowledged completely, then deleted
	Kept     int    // batches left in place because some document failed again or the batch was unreadable
	Docs     uint64 // documents read
	Sent     uint64 // documents acknowledged
	// MirrorSkipped counts batches under MirrorPrefix, left for a replay to the mirror.
	MirrorSkipped int
}

// Replay sends every batch of src again, each through its own Indexer built from cfg,
// and deletes a batch once Logstash acknowledged all its documents. A batch that fails
// again stays where it is, whole (cfg.DeadLetter is ignored, so nothing is written
// twice); sending it again later is safe because document ids are deterministic.
// The error joins one error per kept batch, naming it.
func Replay(ctx context.Context, src DeadLetterSource, cfg Config) (ReplayStats, error) {
	var st ReplayStats
	cfg.DeadLetter = nil
	ownClient := cfg.HTTPClient == nil
	full, _, err := cfg.withDefaults()
	if err != nil {
		return st, err
	}
	// One client for every batch, so connections are reused across them.
	cfg.HTTPClient = full.HTTPClient
	if ownClient {
		defer cfg.HTTPClient.CloseIdleConnections()
	}
	log := full.Logger
	all, err := src.List(ctx)
	if err != nil {
		return st, err
	}
	// The mirror's dead letters live under the root too; they belong to the mirror.
	names := all[:0:0]
	for _, n := range all {
		if strings.HasPrefix(n, MirrorPrefix) {
			st.MirrorSkipped++
			continue
		}
		names = append(names, n)
	}
	if st.MirrorSkipped > 0 {
		log.Info("logstash: replay: the mirror's batches are skipped; replay "+MirrorPrefix+" to the mirror", "batches", st.MirrorSkipped)
	}
	st.Batches = len(names)
	var errs []error
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		sent, docs, err := replayOne(ctx, src, name, cfg)
		st.Docs += docs
		st.Sent += sent
		if err != nil {
			st.Kept++
			errs = append(errs, err)
			log.Warn("logstash: replay: batch kept", "batch", name, "err", err)
			continue
		}
		st.Replayed++
		log.Info("logstash: replay: batch delivered and deleted", "batch", name, "docs", docs)
	}
	return st, errors.Join(errs...)
}

// replayOne sends one batch again. Its errors name the batch once: Get's name the stored
// object already; the others are prefixed with name, escaped.
func replayOne(ctx context.Context, src DeadLetterSource, name string, cfg Config) (sent, docs uint64, err error) {
	b, err := src.Get(ctx, name)
	if err != nil {
		return 0, 0, err
	}
	sent, docs, err = sendBatch(ctx, src, name, b, cfg)
	if err != nil {
		err = fmt.Errorf("%s: %w", escape.Text(name), err)
	}
	return sent, docs, err
}

func sendBatch(ctx context.Context, src DeadLetterSource, name string, b FailedBatch, cfg Config) (sent, docs uint64, err error) {
	cfg.Source = b.Source
	ix, err := NewIndexer(cfg)
	if err != nil {
		return 0, 0, err
	}
	for _, d := range b.Docs {
		if err = ix.Add(ctx, d); err != nil {
			break
		}
	}
	cerr := ix.Close(ctx)
	st := ix.Stats()
	if err == nil {
		err = cerr
	}
	if err == nil && st.Sent != uint64(len(b.Docs)) {
		err = fmt.Errorf("only %d of %d documents acknowledged", st.Sent, len(b.Docs))
	}
	if err != nil {
		return st.Sent, uint64(len(b.Docs)), err
	}
	if err := src.Delete(ctx, name); err != nil {
		return st.Sent, uint64(len(b.Docs)), fmt.Errorf("delivered, but not deleted (a later replay sends it again, harmlessly): %w", err)
	}
	return st.Sent, uint64(len(b.Docs)), nil
}
