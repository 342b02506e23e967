// Package logstash ships JSON documents to Logstash's http input: batches by count and
// bytes, gzip bodies, a bounded number of requests in flight, exponential backoff with
// full jitter, and the status handling of docs/logstash-http.md (429:
// back off and reconnect; 5xx: retry; 413: split; 401/403: stop; 400: a bug, loudly).
// Nothing is dropped: a batch that cannot be delivered goes to a DeadLetter (a local
// directory or an S3 prefix), from where Replay sends it again.
package logstash

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/klauspost/compress/gzip"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logferry/logferry/shared/endpoint"
)

// Indexer sends documents to Logstash in batches. It is safe for concurrent use.
type Indexer interface {
	// Add queues one JSON document (a single-line JSON object). doc is copied: the
	// caller may reuse its buffer. Add blocks while every worker is busy and a full
	// batch is waiting, so memory stays bounded; it returns an error only when doc was
	// not accepted (invalid, Close called, or ctx ended while blocked).
	Add(ctx context.Context, doc []byte) error
	// Close sends what is buffered, waits for the requests in flight and dead-letters
	// what failed. When ctx ends first, retries stop and the remaining batches are
	// dead-lettered at once. It returns a *DeliveryError if any document was not
	// acknowledged, whether it was dead-lettered or lost.
	Close(ctx context.Context) error
	// Stats may be called at any time, also after Close.
	Stats() Stats
}

// Stats counts what an Indexer did. Document counts satisfy, after Close,
// Added == Sent + Failed and Failed == DeadLettered + Lost + Refused.
type Stats struct {
	Added        uint64 // documents accepted by Add
	Sent         uint64 // documents acknowledged with a 2xx
	Failed       uint64 // documents given up on: dead-lettered or lost
	DeadLettered uint64 // documents written to the DeadLetter
	Lost         uint64 // documents neither sent nor dead-lettered
	Refused      uint64 // documents not sent after Logstash refused the credentials (not dead-lettered)
	Batches      uint64 // batches handed to workers
	Retries      uint64 // requests repeated after 429, 5xx, 408 or a network error
	Requests     uint64 // HTTP requests made
	BytesSent    uint64 // request body bytes on the wire (gzipped when enabled), all attempts
	Throttled    uint64 // 429 answers
	ServerErrors uint64 // 5xx and 408 answers
	NetErrors    uint64 // requests that got no answer (reset, EOF, timeout)
	Splits       uint64 // 413 answers that split a batch in halves

	Mirror MirrorStats // the mirror's side of a NewMirrored Indexer; zero otherwise
}

// NewIndexer validates cfg and starts its workers; call Close to stop them.
func NewIndexer(cfg Config) (Indexer, error) {
	ix, err := newIndexer(cfg, false)
	if err != nil {
		return nil, err
	}
	return ix, nil
}

// newIndexer is NewIndexer; asMirror makes the indexer a mirror's (see keepRefused).
func newIndexer(cfg Config, asMirror bool) (*indexer, error) {
	ownClient := cfg.HTTPClient == nil
	cfg, u, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ix := &indexer{
		cfg:         cfg,
		url:         u.String(),
		ownClient:   ownClient,
		keepRefused: asMirror,
		work:        make(chan *batch),
		lock:        make(chan struct{}, 1),
		flushStop:   make(chan struct{}),
		flushDone:   make(chan struct{}),
	}
	ix.contentType, ix.sep = "application/json", ','
	if cfg.Codec == CodecJSONLines {
		ix.contentType, ix.sep = "application/x-ndjson", '\n'
	}
	switch {
	case cfg.APIKey != "":
		ix.authorization = "ApiKey " + cfg.APIKey
	case cfg.BearerToken != "":
		ix.authorization = "Bearer " + cfg.BearerToken
	}
	ix.scrubber = newScrubber(cfg)
	ix.abortCtx, ix.abort = context.WithCancel(context.Background())
	ix.free = make(chan *batch, cfg.Workers+2)
	ix.cur = ix.getBatch()
	ix.wg.Add(cfg.Workers)
	for range cfg.Workers {
		go ix.worker()
	}
	go ix.flusher()
	return ix, nil
}

var errClosed = errors.New("logstash: Add after Close")

// batch holds documents back to back, each followed by the codec's separator (',' for
// json, '\n' for json_lines), so that a request body is one slice of it between brackets
// or as is, and splitting a batch needs no copy.
type batch struct {
	buf   []byte
	ends  []int // index of each document's separator
	first time.Time
	// body is the request body of the whole batch once encoded, empty until then. It lives
	// with the batch so that a mirror can send the primary's body as it is (one encoding
	// and one compression for both); a mirror's batch arrives with it filled in.
	body bytes.Buffer
}

func (b *batch) len() int { return len(b.ends) }

func (b *batch) start(i int) int {
	if i == 0 {
		return 0
	}
	return b.ends[i-1] + 1
}

func (b *batch) doc(i int) []byte { return b.buf[b.start(i):b.ends[i]] }

// span returns documents lo..hi-1 with the separators between them, and after the last
// one when withLast.
func (b *batch) span(lo, hi int, withLast bool) []byte {
	end := b.ends[hi-1]
	if withLast {
		end++
	}
	return b.buf[b.start(lo):end]
}

type indexer struct {
	cfg           Config
	url           string
	contentType   string
	sep           byte // written after each document in a batch
	authorization string
	scrubber      // removes credentials from error bodies before they are kept
	ownClient     bool
	// keepRefused dead-letters documents refused for the credentials instead of only
	// counting them: a mirror's, whose source object succeeds and is never read again for it.
	keepRefused bool
	// mirror, when set (NewMirrored), is handed every batch by the worker that takes it,
	// with its body already encoded, before the batch is sent here.
	mirror atomic.Pointer[mirrored]

	// lock guards cur and closed; it is a channel so that waiting for it honours a
	// context, since Add holds it while it waits for a free worker.
	lock   chan struct{}
	cur    *batch
	closed bool

	work      chan *batch
	wg        sync.WaitGroup
	flushStop chan struct{}
	flushDone chan struct{}
	abortCtx  context.Context
	abort     context.CancelFunc
	closeOnce sync.Once
	closeErr  error

	// free holds batches to reuse. A channel rather than a sync.Pool: a pool is emptied
	// by every GC, and then each batch buffer grows again from 64 KiB (measured: ~35 MB
	// allocated per 20,000-line object); at most Workers+2 batches exist at once anyway.
	free   chan *batch
	bodies sync.Pool // *bytes.Buffer, for the bodies of split batches
	gzips  sync.Pool // *gzip.Writer

	authFailed atomic.Bool
	// fitBytes is learnt from 413s: the largest uncompressed span that may be sent in one
	// request, so that later batches are split before sending instead of each being
	// refused again (0: nothing learnt yet).
	fitBytes atomic.Int64
	errMu    sync.Mutex
	firstErr error

	added, sent, failed, deadLettered, lost    atomic.Uint64
	refused                                    atomic.Uint64
	nBatches, retries, requests, bytesSent     atomic.Uint64
	throttled, serverErrors, netErrors, splits atomic.Uint64
}

func (ix *indexer) Stats() Stats {
	return Stats{
		Added: ix.added.Load(), Sent: ix.sent.Load(), Failed: ix.failed.Load(),
		DeadLettered: ix.deadLettered.Load(), Lost: ix.lost.Load(), Refused: ix.refused.Load(),
		Batches: ix.nBatches.Load(), Retries: ix.retries.Load(), Requests: ix.requests.Load(),
		BytesSent: ix.bytesSent.Load(), Throttled: ix.throttled.Load(),
		ServerErrors: ix.serverErrors.Load(), NetErrors: ix.netErrors.Load(), Splits: ix.splits.Load(),
	}
}

// checkDoc rejects what would corrupt a request body. A full JSON validation would
// double the CPU per document; the encoder already produces valid JSON.
func checkDoc(doc []byte) error {
	switch {
	case len(doc) == 0:
		return errors.New("logstash: empty document")
	case doc[0] != '{' || doc[len(doc)-1] != '}':
		return fmt.Errorf("logstash: document is not a JSON object (starts %q)", prefix(doc, 40))
	case bytes.IndexByte(doc, '\n') >= 0:
		return fmt.Errorf("logstash: document contains a newline; want single-line JSON (starts %q)", prefix(doc, 40))
	}
	return nil
}

func prefix(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func (ix *indexer) Add(ctx context.Context, doc []byte) error {
	if err := checkDoc(doc); err != nil {
		return err
	}
	select {
	case ix.lock <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("logstash: add: waiting for a free worker: %w", ctx.Err())
	}
	defer ix.unlock()
	if ix.closed {
		return errClosed
	}
	if ix.authFailed.Load() {
		// Nothing more will be taken: stop the caller reading instead of queueing for nothing.
		return fmt.Errorf("logstash: add: %w", ErrUnauthorized)
	}
	b := ix.cur
	if b.len() > 0 && (b.len() >= ix.cfg.BatchDocs || len(b.buf)+len(doc)+1 > ix.cfg.BatchBytes) {
		if err := ix.dispatchLocked(ctx, nil); err != nil {
			return fmt.Errorf("logstash: add: waiting for a free worker: %w", err)
		}
		b = ix.cur
	}
	if b.len() == 0 {
		b.first = time.Now()
	}
	b.buf = append(b.buf, doc...)
	b.buf = append(b.buf, ix.sep)
	b.ends = append(b.ends, len(b.buf)-1)
	ix.added.Add(1)
	if b.len() >= ix.cfg.BatchDocs || len(b.buf) >= ix.cfg.BatchBytes {
		// The document is accepted either way; if ctx ends here, the full batch stays
		// current and the next Add, the flusher or Close sends it.
		_ = ix.dispatchLocked(ctx, nil)
	}
	return nil
}

var errStopped = errors.New("stopped")

func (ix *indexer) unlock() { <-ix.lock }

// dispatchLocked hands the current batch to a worker, waiting for one to be free.
func (ix *indexer) dispatchLocked(ctx context.Context, stop <-chan struct{}) error {
	select {
	case ix.work <- ix.cur:
		ix.nBatches.Add(1)
		ix.cur = ix.getBatch()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-stop:
		return errStopped
	}
}

func (ix *indexer) getBatch() *batch {
	select {
	case b := <-ix.free:
		return b
	default:
	}
	return &batch{buf: make([]byte, 0, min(ix.cfg.BatchBytes, 64<<10))}
}

func (ix *indexer) putBatch(b *batch) {
	b.buf, b.ends = b.buf[:0], b.ends[:0]
	b.body.Reset()
	if b.body.Cap() > 2*ix.cfg.BatchBytes {
		b.body = bytes.Buffer{} // grown by an unusually large batch: let it go
	}
	select {
	case ix.free <- b:
	default: // more batches than expected alive (413 splits): let this one go
	}
}

// flusher sends a partial batch once its first document is FlushInterval old, so a
// slow trickle of documents is not held back indefinitely.
func (ix *indexer) flusher() {
	defer close(ix.flushDone)
	if ix.cfg.FlushInterval < 0 {
		<-ix.flushStop
		return
	}
	tick := time.NewTicker(max(ix.cfg.FlushInterval/2, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ix.flushStop:
			return
		case <-tick.C:
		}
		select {
		case ix.lock <- struct{}{}:
		case <-ix.flushStop:
			return
		}
		if ix.cur.len() > 0 && time.Since(ix.cur.first) >= ix.cfg.FlushInterval {
			_ = ix.dispatchLocked(context.Background(), ix.flushStop)
		}
		ix.unlock()
	}
}

func (ix *indexer) Close(ctx context.Context) error {
	ix.closeOnce.Do(func() { ix.closeErr = ix.close(ctx) })
	return ix.closeErr
}

func (ix *indexer) close(ctx context.Context) error {
	close(ix.flushStop)
	<-ix.flushDone
	select {
	case ix.lock <- struct{}{}:
	case <-ctx.Done():
		// Producers hold the lock waiting for busy workers: stop the workers' retries so
		// they free up (dead-lettering what they hold), then take the lock.
		ix.abort()
		ix.lock <- struct{}{}
	}
	ix.closed = true
	if ix.cur.len() > 0 {
		if err := ix.dispatchLocked(ctx, nil); err != nil {
			// Out of time with every worker busy: stop retrying and keep this batch too.
			ix.abort()
			b := ix.cur
			res := BatchResult{Docs: b.len()}
			ix.nBatches.Add(1)
			if mi := ix.mirror.Load(); mi != nil {
				mi.take(b) // not encoded: the mirror encodes it itself
			}
			ix.deadLetter(b, 0, b.len(), 0, 0, fmt.Errorf("not sent before Close's deadline: %w", err), &res)
			ix.report(res)
		}
	}
	ix.unlock()
	close(ix.work)
	done := make(chan struct{})
	go func() { ix.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		ix.cfg.Logger.Warn("logstash: Close deadline reached; dead-lettering batches still in flight", "err", ctx.Err())
		ix.abort()
		<-done
	}
	ix.abort()
	if ix.ownClient {
		ix.cfg.HTTPClient.CloseIdleConnections()
	}
	st := ix.Stats()
	if st.Failed == 0 {
		return nil
	}
	ix.errMu.Lock()
	defer ix.errMu.Unlock()
	return &DeliveryError{DeadLettered: int(st.DeadLettered), Lost: int(st.Lost), Refused: int(st.Refused), Err: ix.firstErr}
}

func (ix *indexer) report(res BatchResult) {
	if ix.cfg.OnBatch != nil {
		ix.cfg.OnBatch(res)
	}
}

func (ix *indexer) recordErr(err error) {
	ix.errMu.Lock()
	if ix.firstErr == nil {
		ix.firstErr = err
	}
	ix.errMu.Unlock()
}

func (ix *indexer) worker() {
	defer ix.wg.Done()
	for b := range ix.work {
		res := BatchResult{Docs: b.len()}
		if mi := ix.mirror.Load(); mi != nil {
			ix.wholeBody(b)
			mi.take(b)
		}
		ix.deliver(b, 0, b.len(), &res)
		ix.report(res)
		ix.putBatch(b)
	}
}

// deliver sends documents lo..hi-1 of b until Logstash acknowledges them, splitting on
// 413, and dead-letters them when that cannot happen.
func (ix *indexer) deliver(b *batch, lo, hi int, res *BatchResult) {
	if fit := ix.fitBytes.Load(); fit > 0 && hi-lo > 1 && int64(len(b.span(lo, hi, false))) > fit {
		mid := lo + (hi-lo)/2
		ix.deliver(b, lo, mid, res)
		ix.deliver(b, mid, hi, res)
		return
	}
	var body []byte
	var pooled *bytes.Buffer // the body of a part of b, returned to ix.bodies when done
	if lo == 0 && hi == b.len() {
		body = ix.wholeBody(b)
	} else {
		pooled = ix.encode(b, lo, hi)
		body = pooled.Bytes()
	}
	started := time.Now()
	attempts := 0
	var status int
	var lastErr error
	defer func() {
		if pooled != nil {
			ix.putBody(pooled)
		}
	}()
	for {
		if ix.authFailed.Load() {
			lastErr = fmt.Errorf("not sent: an earlier request was refused: %w", ErrUnauthorized)
			break
		}
		attempts++
		status, lastErr = ix.post(body)
		if lastErr == nil {
			n := hi - lo
			ix.sent.Add(uint64(n))
			res.Sent += n
			return
		}
		if status == http.StatusRequestEntityTooLarge {
			if hi-lo > 1 {
				ix.splits.Add(1)
				ix.learnFit(int64(len(b.span(lo, hi, false))) - 1)
				ix.cfg.Logger.Debug("logstash: 413, splitting batch", "docs", hi-lo, "body_bytes", len(body))
				if pooled != nil {
					ix.putBody(pooled)
					pooled = nil
				}
				mid := lo + (hi-lo)/2
				ix.deliver(b, lo, mid, res)
				ix.deliver(b, mid, hi, res)
				return
			}
			ix.cfg.Logger.Error("logstash: a single document is larger than the input's max_content_length",
				"doc_bytes", len(b.doc(lo)), "body_bytes", len(body))
			break
		}
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			lastErr = fmt.Errorf("%w: %w", ErrUnauthorized, lastErr)
			if ix.authFailed.CompareAndSwap(false, true) {
				ix.cfg.Logger.Error("logstash: credentials refused; not sending any more batches", "status", status)
			}
			break
		}
		if status == http.StatusBadRequest {
			var se *StatusError
			errors.As(lastErr, &se)
			ix.cfg.Logger.Error("logstash: request rejected as malformed (400); this is a bug in the sender",
				"status", status, "body", se.Body, "docs", hi-lo, "content_type", ix.contentType)
			break
		}
		if status == 0 && isCertError(lastErr) {
			ix.cfg.Logger.Error("logstash: server certificate not trusted; set the CA with CACertPEM", "err", lastErr)
			break
		}
		if !retryable(status) {
			ix.cfg.Logger.Error("logstash: request failed permanently", "status", status, "err", lastErr)
			break
		}
		switch {
		case status == http.StatusTooManyRequests:
			ix.throttled.Add(1)
		case status != 0:
			ix.serverErrors.Add(1)
		default:
			ix.netErrors.Add(1)
		}
		if status == http.StatusTooManyRequests || status == 0 {
			// Logstash may close the connection on 429 and a reset one is dead: dial anew.
			ix.cfg.HTTPClient.CloseIdleConnections()
		}
		wait := ix.backoff(attempts)
		if ix.outOfRetries(attempts, started, wait) {
			lastErr = fmt.Errorf("giving up after %d attempts in %s: %w", attempts, time.Since(started).Round(time.Millisecond), lastErr)
			break
		}
		ix.cfg.Logger.Debug("logstash: retrying", "status", status, "err", lastErr, "attempt", attempts, "wait", wait)
		if !ix.sleep(wait) {
			lastErr = fmt.Errorf("retries stopped by Close's deadline: %w", lastErr)
			break
		}
		ix.retries.Add(1)
	}
	ix.deadLetter(b, lo, hi, status, attempts, lastErr, res)
}

// learnFit lowers fitBytes to n: a span of more than n bytes was refused as too large.
func (ix *indexer) learnFit(n int64) {
	for {
		cur := ix.fitBytes.Load()
		if (cur > 0 && cur <= n) || n <= 0 || ix.fitBytes.CompareAndSwap(cur, n) {
			return
		}
	}
}

// outOfRetries reports whether waiting wait for attempt+1 would break a limit: the
// count (when set), the time budget, or RetryUntil.
func (ix *indexer) outOfRetries(attempts int, started time.Time, wait time.Duration) bool {
	c := ix.cfg
	return c.MaxRetries < 0 || (c.MaxRetries > 0 && attempts > c.MaxRetries) ||
		time.Since(started)+wait > c.RetryBudget ||
		(!c.RetryUntil.IsZero() && time.Now().Add(wait).After(c.RetryUntil))
}

// retryable reports whether an answer may succeed when repeated: throttling, server
// errors, request timeouts and no answer at all (status 0).
func retryable(status int) bool {
	return status == 0 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
}

// isCertError reports a TLS verification failure, which no retry can fix.
func isCertError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// backoff is the full-jitter exponential backoff: uniform in [0, min(max, base·2^n)).
func (ix *indexer) backoff(attempt int) time.Duration {
	ceil := ix.cfg.BackoffMax
	if attempt < 40 {
		if d := ix.cfg.BackoffBase << (attempt - 1); d > 0 && d < ceil {
			ceil = d
		}
	}
	return time.Duration(rand.Int64N(int64(ceil)) + 1)
}

// sleep waits d unless Close's deadline aborts the Indexer first.
func (ix *indexer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ix.abortCtx.Done():
		return false
	}
}

// post sends one body; a non-2xx answer is a *StatusError with its status.
func (ix *indexer) post(body []byte) (int, error) {
	if err := ix.abortCtx.Err(); err != nil {
		return 0, fmt.Errorf("not sent: Close's deadline reached: %w", err)
	}
	ctx, cancel := context.WithTimeout(ix.abortCtx, ix.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ix.url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", ix.contentType)
	req.Header.Set("User-Agent", "logferry")
	if !ix.cfg.DisableGzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, vs := range ix.cfg.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	switch {
	case ix.cfg.Username != "":
		req.SetBasicAuth(ix.cfg.Username, ix.cfg.Password)
	case ix.authorization != "":
		req.Header.Set("Authorization", ix.authorization)
	}
	ix.requests.Add(1)
	ix.bytesSent.Add(uint64(len(body)))
	resp, err := ix.cfg.HTTPClient.Do(req)
	if err != nil {
		// The client's error quotes the URL, which goes to logs and dead-letter headers: a
		// token in its query must not.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = endpoint.Redact(ue.URL)
		}
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		// Read to the end so the connection can be reused.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return resp.StatusCode, nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, &StatusError{Status: resp.StatusCode, Body: ix.scrub(bytes.TrimSpace(msg))}
}

// wholeBody returns the request body of all of b, encoding it into b.body the first time.
func (ix *indexer) wholeBody(b *batch) []byte {
	if b.body.Len() == 0 && b.len() > 0 {
		ix.encodeTo(&b.body, b, 0, b.len())
	}
	return b.body.Bytes()
}

// encode builds the request body for documents lo..hi-1 in a pooled buffer.
func (ix *indexer) encode(b *batch, lo, hi int) *bytes.Buffer {
	buf, ok := ix.bodies.Get().(*bytes.Buffer)
	if !ok {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	ix.encodeTo(buf, b, lo, hi)
	return buf
}

// encodeTo writes the request body for documents lo..hi-1 to buf.
func (ix *indexer) encodeTo(buf *bytes.Buffer, b *batch, lo, hi int) {
	var w io.Writer = buf
	var zw *gzip.Writer
	if !ix.cfg.DisableGzip {
		var ok bool
		if zw, ok = ix.gzips.Get().(*gzip.Writer); ok {
			zw.Reset(buf)
		} else {
			zw, _ = gzip.NewWriterLevel(buf, gzip.BestSpeed)
		}
		w = zw
	}
	// Writes to a bytes.Buffer or a gzip.Writer over one cannot fail.
	if ix.cfg.Codec == CodecJSONLines {
		w.Write(b.span(lo, hi, true))
	} else {
		w.Write(openBracket)
		w.Write(b.span(lo, hi, false))
		w.Write(closeBracket)
	}
	if zw != nil {
		zw.Close()
		ix.gzips.Put(zw)
	}
}

var openBracket, closeBracket = []byte{'['}, []byte{']'}

func (ix *indexer) putBody(buf *bytes.Buffer) {
	// Do not keep a buffer grown by an unusually large batch.
	if buf.Cap() <= 2*ix.cfg.BatchBytes {
		ix.bodies.Put(buf)
	}
}

// deadLetter hands documents lo..hi-1 to the DeadLetter, or counts them lost; documents
// refused for the credentials are only counted (retrying them later would be refused too,
// and the source object is the durable copy).
func (ix *indexer) deadLetter(b *batch, lo, hi, status, attempts int, cause error, res *BatchResult) {
	n := hi - lo
	ix.failed.Add(uint64(n))
	if cause == nil {
		cause = errors.New("unknown failure")
	}
	ix.recordErr(cause)
	res.Err = cause
	if errors.Is(cause, ErrUnauthorized) && !ix.keepRefused {
		ix.refused.Add(uint64(n))
		res.Refused += n
		return
	}
	if ix.cfg.DeadLetter == nil {
		ix.lost.Add(uint64(n))
		res.Lost += n
		ix.cfg.Logger.Error("logstash: batch not delivered and no dead letter configured", "docs", n, "status", status, "err", cause)
		return
	}
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = b.doc(lo + i)
	}
	fb := FailedBatch{
		Docs: docs, Source: ix.cfg.Source, Status: status, Err: cause.Error(),
		Attempts: attempts, Time: time.Now().UTC(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), ix.cfg.DeadLetterTimeout)
	defer cancel()
	if err := ix.cfg.DeadLetter.Put(ctx, fb); err != nil {
		ix.lost.Add(uint64(n))
		res.Lost += n
		ix.recordErr(fmt.Errorf("dead letter: %w", err))
		ix.cfg.Logger.Error("logstash: batch not delivered and the dead letter failed", "docs", n, "status", status, "err", cause, "dead_letter_err", err)
		return
	}
	ix.deadLettered.Add(uint64(n))
	res.DeadLettered += n
	ix.cfg.Logger.Warn("logstash: batch dead-lettered", "docs", n, "status", status, "attempts", attempts, "err", cause, "dead_letter", fmt.Sprint(ix.cfg.DeadLetter))
}
