package lines

import (
	"io"
	"sync"
)

const (
	asyncChunks    = 4         // decompressed chunks in flight: bounds memory at 1 MiB
	asyncChunkSize = 256 << 10 // large enough that channel handoffs cost nothing per line
)

// asyncReader decompresses in its own goroutine, up to asyncChunks chunks ahead of the
// reader, so that decompression and parsing overlap on a machine with two cores.
type asyncReader struct {
	src    io.Reader
	filled chan chunk
	free   chan []byte
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	cur, held []byte // unread part of the current chunk, and the whole chunk
	err       error
}

type chunk struct {
	b   []byte
	err error
}

func newAsyncReader(src io.Reader) *asyncReader {
	a := &asyncReader{
		src:    src,
		filled: make(chan chunk, asyncChunks),
		free:   make(chan []byte, asyncChunks),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for range asyncChunks {
		a.free <- make([]byte, asyncChunkSize)
	}
	go a.run()
	return a
}

func (a *asyncReader) run() {
	defer close(a.done)
	for {
		var buf []byte
		select {
		case buf = <-a.free:
		case <-a.stop:
			return
		}
		// Not io.ReadFull: it turns a short read plus EOF into ErrUnexpectedEOF, which
		// would hide whether the gzip stream itself was truncated.
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var k int
			k, err = a.src.Read(buf[n:])
			n += k
		}
		select {
		case a.filled <- chunk{buf[:n], err}:
		case <-a.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (a *asyncReader) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.held != nil {
			a.free <- a.held[:cap(a.held)] // never blocks: there are only asyncChunks buffers
			a.held = nil
		}
		if a.err != nil {
			return 0, a.err
		}
		c := <-a.filled
		a.cur, a.held, a.err = c.b, c.b, c.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// close stops the goroutine and waits for it, so that nothing reads the source after.
func (a *asyncReader) close() {
	a.once.Do(func() { close(a.stop) })
	<-a.done
}
