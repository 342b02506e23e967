package logstash

import (
	"context"
	"errors"
	"fmt"
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
	// Config is the mirror's sink, with its own URL, credentials, Workers, retry budget
	// and DeadLetter (by convention the primary's root + MirrorPrefix). Required:
	// Config.URL. The mirror sends the primary's batches, so BatchDocs, BatchBytes and
	// FlushInterval are the primary's; with the primary's Codec and DisableGzip (the
	// defaults) it sends the primary's request bodies as they are, otherwise it encodes
	// each batch itself. A 413 from the mirror splits the batch by documents, as the
	// primary does.
	Config Config
	// Buffer is the most documents waiting for the mirror, in whole batches (an empty
	// buffer takes one batch whatever its size); while it is full, batches go to the
	// mirror's dead letter at once instead of holding back the primary. Default 20000.
	Buffer int
	// Wait bounds how long Close waits for the mirror once the primary is done; what the
	// mirror still holds then is dead-lettered at once. Default 5s.
	Wait time.Duration
}

// NewMirrored returns an Indexer that sends every document to primary and, isolated from
// it, to a mirror Logstash. primary must come from NewIndexer: its workers hand each batch,
// with the body they encoded for it, to the mirror before sending it themselves, so a
// document is encoded and compressed once for both. The mirror's failures are retried
// with its own budget, then dead-lettered with its own DeadLetter and counted in
// Stats().Mirror; they never make Add or Close fail, and the primary waits for the mirror
// only as far as Buffer and Wait allow. Close returns the primary's error alone. Stats
// are the primary's, with Mirror set.
func NewMirrored(primary Indexer, m MirrorConfig) (Indexer, error) {
	p, ok := primary.(*indexer)
	if !ok {
		return nil, fmt.Errorf("logstash: NewMirrored needs a primary made by NewIndexer, not %T", primary)
	}
	if m.Buffer <= 0 {
		m.Buffer = 20000
	}
	if m.Wait <= 0 {
		m.Wait = 5 * time.Second
	}
	m.Config.FlushInterval = -1 // its batches come whole from the primary: nothing to flush
	if m.Config.Logger != nil {
		m.Config.Logger = m.Config.Logger.With("sink", "mirror")
	}
	mx, err := newIndexer(m.Config, true)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	mi := &mirrored{
		primary: p, mirror: mx, cfg: m,
		sameBody: p.cfg.Codec == mx.cfg.Codec && p.cfg.DisableGzip == mx.cfg.DisableGzip,
		ready:    make(chan struct{}, 1), fed: make(chan struct{}),
	}
	if !p.mirror.CompareAndSwap(nil, mi) {
		mx.Close(context.Background())
		return nil, errors.New("logstash: NewMirrored: the primary already has a mirror")
	}
	mi.feedCtx, mi.stopFeed = context.WithCancel(context.Background())
	go mi.feed()
	return mi, nil
}

type mirrored struct {
	primary, mirror *indexer
	cfg             MirrorConfig
	sameBody        bool // the primary's request bodies are the mirror's too

	mu     sync.Mutex // guards queue, queued and closed
	queue  []*batch   // copies waiting for the feeder: the bounded buffer
	queued int        // documents in queue
	closed bool
	ready  chan struct{} // a token: queue or closed changed
	fed    chan struct{} // closed when the feeder is done

	feedCtx  context.Context
	stopFeed context.CancelFunc

	overflowed atomic.Uint64
}

// Add gives doc to the primary alone: the mirror gets it with its batch, from the
// primary's worker (take).
func (mi *mirrored) Add(ctx context.Context, doc []byte) error {
	return mi.primary.Add(ctx, doc)
}

// take copies the primary's batch b, with its encoded body when the mirror can send it
// as is, for the mirror, and queues it; when the buffer is full it dead-letters it for the
// mirror instead: the primary never waits for a slow or absent mirror. Called from the
// primary's workers (and its Close), before b is sent or reused.
func (mi *mirrored) take(b *batch) {
	n := b.len()
	if n == 0 {
		return
	}
	mi.mirror.added.Add(uint64(n))
	m := mi.mirror.getBatch()
	if mi.sameBody {
		m.buf = append(m.buf, b.buf...)
		m.ends = append(m.ends, b.ends...)
		m.body.Write(b.body.Bytes()) // empty if the primary had no time to encode it: the mirror does
	} else {
		for i := range n {
			m.buf = append(append(m.buf, b.doc(i)...), mi.mirror.sep)
			m.ends = append(m.ends, len(m.buf)-1)
		}
	}
	m.first = b.first
	if !mi.push(m) {
		mi.overflowed.Add(uint64(n))
		mi.keep(m, "mirror buffer full: the mirror is slower than the primary or down")
	}
}

// push queues m unless the buffer is full (or closed).
func (mi *mirrored) push(m *batch) bool {
	mi.mu.Lock()
	ok := !mi.closed && (mi.queued == 0 || mi.queued+m.len() <= mi.cfg.Buffer)
	if ok {
		mi.queue = append(mi.queue, m)
		mi.queued += m.len()
	}
	mi.mu.Unlock()
	if ok {
		mi.signal()
	}
	return ok
}

func (mi *mirrored) signal() {
	select {
	case mi.ready <- struct{}{}:
	default: // a token is already there
	}
}

// pop returns the oldest queued batch, waiting for one; nil once the queue is closed and
// empty.
func (mi *mirrored) pop() *batch {
	for {
		mi.mu.Lock()
		if len(mi.queue) > 0 {
			m := mi.queue[0]
			mi.queue[0] = nil
			mi.queue = mi.queue[1:]
			mi.queued -= m.len()
			mi.mu.Unlock()
			return m
		}
		closed := mi.closed
		mi.mu.Unlock()
		if closed {
			return nil
		}
		<-mi.ready
	}
}

// keep dead-letters m for the mirror (or counts it lost), in the mirror's own counts.
func (mi *mirrored) keep(m *batch, why string) {
	var res BatchResult
	mi.mirror.nBatches.Add(1)
	mi.mirror.deadLetter(m, 0, m.len(), 0, 0, errors.New(why), &res)
	mi.mirror.putBatch(m)
}

// feed hands queued batches to the mirror's workers; once feedCtx ends (Close's Wait is
// over), what it still holds is dead-lettered for the mirror.
func (mi *mirrored) feed() {
	defer close(mi.fed)
	const late = "not sent to the mirror before the primary was done and the mirror's wait ran out"
	for m := mi.pop(); m != nil; m = mi.pop() {
		if mi.feedCtx.Err() != nil {
			mi.keep(m, late)
			continue
		}
		select {
		case mi.mirror.work <- m:
			mi.mirror.nBatches.Add(1)
		case <-mi.feedCtx.Done():
			mi.keep(m, late)
		}
	}
}

// Close closes the primary (its error is the result; its workers have handed every batch
// to the mirror when it returns), then gives the mirror up to Wait to take what is
// buffered; the mirror's own Close dead-letters what it could not send.
func (mi *mirrored) Close(ctx context.Context) error {
	perr := mi.primary.Close(ctx)
	mi.mu.Lock()
	mi.closed = true
	mi.mu.Unlock()
	mi.signal()
	wctx, cancel := context.WithTimeout(ctx, mi.cfg.Wait)
	defer cancel()
	select {
	case <-mi.fed:
	case <-wctx.Done():
		mi.stopFeed() // the feeder's blocked hand-over returns; the rest is dead-lettered
		<-mi.fed
	}
	if err := mi.mirror.Close(wctx); err != nil {
		mi.mirror.cfg.Logger.Warn("logstash: mirror: not every document reached the mirror (see its dead letters)", "err", err)
	}
	mi.stopFeed()
	return perr
}

func (mi *mirrored) Stats() Stats {
	st := mi.primary.Stats()
	ms := mi.mirror.Stats()
	st.Mirror = MirrorStats{
		Added: ms.Added, Sent: ms.Sent, Retries: ms.Retries, Overflowed: mi.overflowed.Load(),
		DeadLettered: ms.DeadLettered, Lost: ms.Lost,
	}
	return st
}
