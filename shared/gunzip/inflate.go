package gunzip

import (
	"encoding/binary"
	"fmt"
	"io"
)

const (
	windowSize = 1 << 15 // deflate's distances reach back at most 32 KiB
	maxMatch   = 258

	// The output buffer holds the window and the output of one round of decoding. After a
	// round has been read, its last 32 KiB move to the front, so a round is ~224 KiB.
	outSize = 256 << 10
	// An iteration of the fast loop may write this far past the limit it was started
	// under: two pairs of literals (each written as 2 bytes) and a match, whose 8-byte
	// copies overrun its end by up to 7.
	outSlack = 4 + maxMatch + 8 + 1

	inSize    = 64 << 10
	inKeep    = 8  // bytes kept before ip when input is compacted: the bit buffer may hold them
	fastInput = 16 // the fast loop loads 8 bytes at ip up to twice per iteration
)

type blockState uint8

const (
	stateHeader  blockState = iota // a block header is next (or the end, after the final block)
	stateHuffman                   // inside a block of Huffman codes
	stateStored                    // inside a stored block
	stateEnd                       // the final block has ended; the stream is byte-aligned
)

// decoder decodes one raw deflate stream (RFC 1951) from src, a round at a time, into out.
//
// It is built for speed on the access logs logferry reads: the bit buffer is refilled 8
// bytes at a time without a branch, one table lookup decodes a whole symbol with its
// extra-bit count, matches are copied 8 bytes at a time. Near the end of the input it
// switches to a careful path that reads byte by byte and counts any bits it has to make
// up past the end, so that a truncated stream is reported as such and no byte is ever
// written from bits that were not in the input.
type decoder struct {
	src      io.Reader
	in       []byte // in[ip:iend] is input not yet in the bit buffer
	ip, iend int
	inBase   int64 // compressed offset of in[0]
	eof      bool  // src has returned io.EOF
	srcErr   error // a read error of src, reported once the input before it is used up

	// bitbuf's low bitsleft bits are the next bits of the stream. The fast refill may
	// leave more bits above them; they are always the true next bits, as a later refill
	// loads the same bytes into the same place. Past the end of the input, the careful
	// path adds zero bytes instead, counted in overread.
	bitbuf   uint64
	bitsleft uint
	overread uint

	out []byte // out[:op] is output; its last windowSize bytes are the window
	op  int

	state      blockState
	final      bool // the current block is the last
	storedLeft int  // bytes of the current stored block not yet copied

	litp, distp *[litTableSize]uint32 // the current block's tables (fixed or dynamic)
	lit         [litTableSize]uint32
	dist        [litTableSize]uint32
}

func (d *decoder) init(src io.Reader) {
	d.src = src
	d.in = make([]byte, inSize)
	d.out = make([]byte, outSize+outSlack)
}

// CorruptError reports deflate data that no valid stream contains.
type CorruptError struct {
	Offset  int64  // compressed offset, within the input, near which it was found
	Problem string // what is wrong
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("bad deflate data near compressed byte %d: %s", e.Offset, e.Problem)
}

func (d *decoder) corrupt(problem string) error {
	return &CorruptError{Offset: d.offset(), Problem: problem}
}

// offset is the compressed offset of the next bit to decode, rounded down to its byte.
func (d *decoder) offset() int64 {
	return d.inBase + int64(d.ip) + int64(d.overread) - int64((d.bitsleft+7)/8)
}

// moreInput reads from src after the unread input, first moving it (and the inKeep bytes
// before it) to the front of the buffer. It returns nil once it has read something or
// reached the end of src.
func (d *decoder) moreInput() error {
	if keep := d.ip - inKeep; keep > 0 {
		d.iend = copy(d.in, d.in[keep:d.iend])
		d.ip -= keep
		d.inBase += int64(keep)
	}
	for range 100 {
		if d.eof {
			return nil
		}
		if d.srcErr != nil {
			return d.srcErr
		}
		n, err := d.src.Read(d.in[d.iend:])
		d.iend += n
		switch {
		case err == io.EOF:
			d.eof = true
		case err != nil:
			d.srcErr = err // the bytes that came with it are used first
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

// fill tops the bit buffer up to 56-63 bits, a byte at a time, reading more input
// as needed; past the end of the input it adds zero bytes, counted in overread.
func (d *decoder) fill() error {
	d.bitbuf &= 1<<d.bitsleft - 1 // drop the look-ahead: it is added back from in[ip:]
	for d.bitsleft < 56 {         // and so at most 63: the fast refill shifts by bitsleft
		switch {
		case d.ip < d.iend:
			d.bitbuf |= uint64(d.in[d.ip]) << d.bitsleft
			d.ip++
		case !d.eof:
			if err := d.moreInput(); err != nil {
				return err
			}
			continue
		default:
			d.overread++
		}
		d.bitsleft += 8
	}
	return nil
}

// short reports whether bits made up past the end of the input have been consumed.
func (d *decoder) short() bool { return d.overread*8 > d.bitsleft }

// shortOf reports whether fewer than n bits of the input are left in the bit buffer: an
// invalid code found there may be made of zeros past the end, so it is a truncation.
func (d *decoder) shortOf(n uint) bool { return d.overread*8+n > d.bitsleft }

// bits reads n (at most 32) bits.
func (d *decoder) bits(n uint) (uint32, error) {
	if d.bitsleft < n {
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
	v := uint32(d.bitbuf & (1<<n - 1))
	d.bitbuf >>= n
	d.bitsleft -= n
	if d.short() {
		return 0, io.ErrUnexpectedEOF
	}
	return v, nil
}

// align skips to the next byte boundary and gives the whole bytes left in the bit buffer
// back to the input, so that what follows can be read a byte at a time from in[ip:].
func (d *decoder) align() error {
	d.bitbuf >>= d.bitsleft & 7
	d.bitsleft &^= 7
	if d.short() {
		return io.ErrUnexpectedEOF
	}
	d.ip -= int(d.bitsleft/8 - d.overread)
	d.bitbuf, d.bitsleft, d.overread = 0, 0, 0
	return nil
}

// bytes returns the next n (at most inSize-inKeep) bytes of a byte-aligned stream.
func (d *decoder) bytes(n int) ([]byte, error) {
	for d.iend-d.ip < n {
		if d.eof {
			return nil, io.ErrUnexpectedEOF
		}
		if err := d.moreInput(); err != nil {
			return nil, err
		}
	}
	b := d.in[d.ip : d.ip+n]
	d.ip += n
	return b, nil
}

// decode decodes until it has written output, or the final block has ended.
func (d *decoder) decode() error {
	start := d.op
	for d.op == start {
		var err error
		switch d.state {
		case stateHeader:
			if d.final {
				if err := d.align(); err != nil {
					return err
				}
				d.state = stateEnd
				return nil
			}
			err = d.blockHeader()
		case stateHuffman:
			var done bool
			if done, err = d.huffman(); done {
				d.state = stateHeader
			}
		case stateStored:
			if err = d.stored(); err == nil && d.storedLeft == 0 {
				d.state = stateHeader
			}
		case stateEnd:
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) blockHeader() error {
	v, err := d.bits(3)
	if err != nil {
		return err
	}
	d.final = v&1 == 1
	switch v >> 1 {
	case 0:
		if err := d.align(); err != nil {
			return err
		}
		b, err := d.bytes(4)
		if err != nil {
			return err
		}
		n, inv := binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint16(b[2:])
		if n != ^inv {
			return d.corrupt("stored block length does not match its complement")
		}
		d.storedLeft = int(n)
		d.state = stateStored
	case 1:
		d.litp, d.distp = &fixedLit, &fixedDist
		d.state = stateHuffman
	case 2:
		if err := d.dynamicHeader(); err != nil {
			return err
		}
		pairLiterals(&d.lit)
		d.litp, d.distp = &d.lit, &d.dist
		d.state = stateHuffman
	default:
		return d.corrupt("invalid block type 3")
	}
	return nil
}

// codeLengthOrder is the order in which code length code lengths are sent (RFC 1951 3.2.7).
var codeLengthOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// repeatBits is how many extra bits follow each code length symbol.
var repeatBits = [19]uint{16: 2, 17: 3, 18: 7}

// dynamicHeader reads a dynamic block's code lengths and builds its tables.
func (d *decoder) dynamicHeader() error {
	v, err := d.bits(14)
	if err != nil {
		return err
	}
	nlit, ndist, ncl := int(v&31)+257, int(v>>5&31)+1, int(v>>10)+4
	if nlit > 286 || ndist > 30 {
		return d.corrupt(fmt.Sprintf("block declares %d literal/length and %d distance codes (at most 286 and 30)", nlit, ndist))
	}
	var clLens [19]uint8
	for i := range ncl {
		v, err := d.bits(3)
		if err != nil {
			return err
		}
		clLens[codeLengthOrder[i]] = uint8(v)
	}
	var clTable [1 << clBits]uint32
	if !build(clTable[:], clBits, clLens[:], clEntries[:]) {
		return d.corrupt("invalid code length code")
	}
	var lens [286 + 30]uint8
	for i := 0; i < nlit+ndist; {
		if d.bitsleft < clBits+7 { // a code and the most extra bits one can have
			if err := d.fill(); err != nil {
				return err
			}
		}
		e := clTable[d.bitbuf&(1<<clBits-1)]
		if e&badFlag != 0 {
			if d.shortOf(clBits) {
				return io.ErrUnexpectedEOF
			}
			return d.corrupt("invalid code length code in use")
		}
		d.bitbuf >>= e & 15
		d.bitsleft -= uint(e & 15)
		sym := e >> 16
		// Zeros made up past the end decode as lengths: say truncated, not corrupt.
		if d.shortOf(repeatBits[sym]) {
			return io.ErrUnexpectedEOF
		}
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var l uint8
		switch sym {
		case 16:
			if i == 0 {
				return d.corrupt("code length repeat with no length before it")
			}
			l, rep = lens[i-1], 3+int(d.bitbuf&3)
			d.bitbuf >>= 2
			d.bitsleft -= 2
		case 17:
			rep = 3 + int(d.bitbuf&7)
			d.bitbuf >>= 3
			d.bitsleft -= 3
		default:
			rep = 11 + int(d.bitbuf&127)
			d.bitbuf >>= 7
			d.bitsleft -= 7
		}
		if i+rep > nlit+ndist {
			return d.corrupt("code length repeat runs past the last code")
		}
		for range rep {
			lens[i] = l
			i++
		}
	}
	if d.short() {
		return io.ErrUnexpectedEOF
	}
	if lens[256] == 0 {
		return d.corrupt("block has no end-of-block code")
	}
	if !build(d.lit[:], litBits, lens[:nlit], litEntries[:]) {
		return d.corrupt("invalid literal/length code")
	}
	if !build(d.dist[:], distBits, lens[nlit:nlit+ndist], distEntries[:]) {
		return d.corrupt("invalid distance code")
	}
	return nil
}

// stored copies from a stored block until it ends, the output round is full, or an error.
func (d *decoder) stored() error {
	for d.storedLeft > 0 {
		room := len(d.out) - outSlack - d.op
		if room <= 0 {
			return nil
		}
		if d.ip == d.iend {
			if d.eof {
				return io.ErrUnexpectedEOF
			}
			if err := d.moreInput(); err != nil {
				return err
			}
			continue
		}
		n := copy(d.out[d.op:d.op+min(room, d.storedLeft)], d.in[d.ip:d.iend])
		d.op += n
		d.ip += n
		d.storedLeft -= n
	}
	return nil
}
