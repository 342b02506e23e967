package logstash

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// MirrorPrefix is where, under the primary's dead-letter root, the mirror's dead letters
// go; Replay skips it, so that replaying the root never sends the mirror's batches to the
// primary (replay them from the root + MirrorPrefix to the mirror).
const MirrorPrefix = "mirror/"

// MirrorStats counts what the mirror of a NewMirrored Indexer did. Zero for any other Indexer.
type MirrorStats struct {
	Added        uint64 // documents handed to the mirror
	Sent         uint64 // acknowledged by the mirror
	DeadLettered uint64 // in the mirror's dead letters: the mirror's own failures and what overflowed the buffer
	Lost         uint64 // neither (no mirror dead letter, or it failed too)
	Retries      uint64 // the mirror's retried requests
	Overflowed   uint64 // documents the full buffer sent straight to the dead letters
}

// MirrorConfig configures the mirror of NewMirrored.
type MirrorConfig struct {
	// Config is the mirror's sink, with its own URL, credentials, retry budget and
	// DeadLetter (by convention the primary's root + MirrorPrefix). Required: Config.URL.
	Config Config
	// Buffer is the most documents waiting for the mirror; while it is full, documents go
	// to the mirror's dead letter at once instead of holding back the primary. Default 20000.
	Buffer int
	// Wait bounds how long Close waits for the mirror once the primary is done; what the
	// mirror still holds then is dead-lettered at once. Default 5s.
	Wait time.Duration
}

// chunkDocs and chunkBytes size the copies handed to the mirror: one copy per chunk, not
// per document.
const (
	chunkDocs  = 256
	chunkBytes = 256 << 10
)

// chunk holds documents back to back for the mirror.
type chunk struct {
	buf  []byte
	ends []int
}

func (c *chunk) docs() [][]byte {
	out := make([][]byte, len(c.ends))
	start := 0
	for i, e := range c.ends {
		out[i], start = c.buf[start:e], e
	}
	return out
}

// NewMirrored returns an Indexer that sends every document to primary and, isolated from
// it, to a mirror Logstash: the mirror's failures are retried with its own budget, then
// dead-lettered with its own DeadLetter and counted in Stats().Mirror; they never make
// Add or Close fail, and the primary waits for the mirror only as far as Buffer and Wait
// allow. Close returns the primary's error alone. Stats are the primary's, with Mirror set.
func NewMirrored(primary Indexer, m MirrorConfig) (Indexer, error) {
	if primary == nil {
		return nil, errors.New("logstash: NewMirrored needs a primary Indexer")
	}
	if m.Buffer <= 0 {
		m.Buffer = 20000
	}
	if m.Wait <= 0 {
		m.Wait = 5 * time.Second
	}
	full, _, err := m.Config.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	ix, err := NewIndexer(m.Config)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	slots := max(1, m.Buffer/chunkDocs)
	mi := &mirrored{
		primary: primary, mirror: ix, cfg: m, log: full.Logger, dl: m.Config.DeadLetter, source: m.Config.Source,
		queue: make(chan *chunk, slots), free: make(chan *chunk, slots+2), fed: make(chan struct{}),
	}
	mi.feedCtx, mi.stopFeed = context.WithCancel(context.Background())
	mi.cur = mi.getChunk()
	go mi.feed()
	return mi, nil
}

type mirrored struct {
	primary, mirror Indexer
	cfg             MirrorConfig
	log             *slog.Logger
	dl              DeadLetter
	source          Source

	mu     sync.Mutex // guards cur
	cur    *chunk
	queue  chan *chunk // chunks waiting for the feeder: the bounded buffer
	free   chan *chunk
	fed    chan struct{} // closed when the feeder is done
	closed atomic.Bool

	feedCtx  context.Context
	stopFeed context.CancelFunc

	added, overflowed, ownDL, ownLost atomic.Uint64
}

func (mi *mirrored) Add(ctx context.Context, doc []byte) error {
	if err := mi.primary.Add(ctx, doc); err != nil {
		return err // not accepted by the primary: the mirror does not get it either
	}
	mi.mu.Lock()
	defer mi.mu.Unlock()
	if mi.closed.Load() {
		return nil // the primary accepted it; Close has already handed the mirror its last chunk
	}
	c := mi.cur
	c.buf = append(c.buf, doc...)
	c.ends = append(c.ends, len(c.buf))
	mi.added.Add(1)
	if len(c.ends) >= chunkDocs || len(c.buf) >= chunkBytes {
		mi.handOn(c)
		mi.cur = mi.getChunk()
	}
	return nil
}

// handOn queues c for the mirror, or dead-letters it for the mirror when the buffer is
// full: the primary never waits for a slow or absent mirror.
func (mi *mirrored) handOn(c *chunk) {
	select {
	case mi.queue <- c:
	default:
		mi.overflowed.Add(uint64(len(c.ends)))
		mi.keep(c, "mirror buffer full: the mirror is slower than the primary or down")
		mi.putChunk(c)
	}
}

// keep dead-letters c's documents for the mirror (or counts them lost).
func (mi *mirrored) keep(c *chunk, why string) {
	if n := len(c.ends); n > 0 {
		err := errors.New("no mirror dead letter configured")
		if mi.dl != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = mi.dl.Put(ctx, FailedBatch{Docs: c.docs(), Source: mi.source, Err: why, Time: time.Now().UTC()})
			cancel()
		}
		if err != nil {
			mi.ownLost.Add(uint64(n))
			mi.log.Error("logstash: mirror: documents lost for the mirror", "docs", n, "why", why, "err", err)
		} else {
			mi.ownDL.Add(uint64(n))
			mi.log.Warn("logstash: mirror: documents dead-lettered for the mirror", "docs", n, "why", why)
		}
	}
}

// feed hands queued documents to the mirror's Indexer; once feedCtx ends (Close's Wait is
// over), what it still holds is dead-lettered for the mirror.
func (mi *mirrored) feed() {
	defer close(mi.fed)
	for c := range mi.queue {
		if mi.feedCtx.Err() != nil {
			mi.keep(c, "not sent to the mirror before the primary was done and the mirror's wait ran out")
			mi.putChunk(c)
			continue
		}
		docs := c.docs()
		for i, d := range docs {
			if err := mi.mirror.Add(mi.feedCtx, d); err != nil {
				rest := &chunk{buf: c.buf[c.start(i):], ends: shift(c.ends[i:], c.start(i))}
				mi.keep(rest, "not sent to the mirror before the primary was done and the mirror's wait ran out")
				break
			}
		}
		mi.putChunk(c)
	}
}

func (c *chunk) start(i int) int {
	if i == 0 {
		return 0
	}
	return c.ends[i-1]
}

func shift(ends []int, by int) []int {
	out := make([]int, len(ends))
	for i, e := range ends {
		out[i] = e - by
	}
	return out
}

func (mi *mirrored) getChunk() *chunk {
	select {
	case c := <-mi.free:
		return c
	default:
		return &chunk{buf: make([]byte, 0, chunkBytes+4<<10), ends: make([]int, 0, chunkDocs)}
	}
}

func (mi *mirrored) putChunk(c *chunk) {
	if cap(c.buf) > 4*chunkBytes {
		return // a chunk grown by a huge document: let it go
	}
	c.buf, c.ends = c.buf[:0], c.ends[:0]
	select {
	case mi.free <- c:
	default:
	}
}

// Close closes the primary (its error is the result), then gives the mirror up to Wait to
// take what is buffered; the mirror's own Close dead-letters what it could not send.
func (mi *mirrored) Close(ctx context.Context) error {
	perr := mi.primary.Close(ctx)
	mi.mu.Lock()
	if !mi.closed.Swap(true) {
		mi.handOn(mi.cur)
		mi.cur = &chunk{}
		close(mi.queue)
	}
	mi.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, mi.cfg.Wait)
	defer cancel()
	select {
	case <-mi.fed:
	case <-wctx.Done():
		mi.stopFeed() // the feeder's blocked Add returns; the rest is dead-lettered
		<-mi.fed
	}
	if err := mi.mirror.Close(wctx); err != nil {
		mi.log.Warn("logstash: mirror: not every document reached the mirror (see its dead letters)", "err", err)
	}
	mi.stopFeed()
	return perr
}

func (mi *mirrored) Stats() Stats {
	st := mi.primary.Stats()
	ms := mi.mirror.Stats()
	st.Mirror = MirrorStats{
		Added: mi.added.Load(), Sent: ms.Sent, Retries: ms.Retries, Overflowed: mi.overflowed.Load(),
		DeadLettered: ms.DeadLettered + mi.ownDL.Load(), Lost: ms.Lost + mi.ownLost.Load(),
	}
	return st
}
