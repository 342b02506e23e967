package elblog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unicode/utf8"
)

// tokenize splits line into space-separated fields, some double-quoted (the quotes are
// removed). A quoted field ends at its first unescaped quote, which must be followed by
// a space or the end of the line (escaped quotes, \", stay inside it). It returns the number of
// fields, which may exceed len(f) (only the first len(f) are stored), and the span of
// the line outside which the fields can be copied into JSON strings unescaped: it holds
// every control byte, backslash, quote but the ones delimiting quoted fields, and, if
// the line is not valid UTF-8, non-ASCII byte (valid non-ASCII text, such as a
// certificate subject's "Köln", goes in as it is: only a line that has some is
// validated, with one utf8.Valid). The span is empty on most lines; on the others it
// is usually one user agent's \" (a sixth of ALB lines), and only the values in it
// need escaping.
//
// It reads the line once, 64 bytes at a time: a block yields a bitmap of its spaces,
// quotes and bytes to escape (and a few others), whose bits are then taken in order by
// one loop while in an unquoted field and another while in a quoted one. Backslashes are
// looked for apart, with one bytes.IndexByte over the line. Nothing restarts per field:
// fields average ~20 bytes, and a scan per field spent its time starting up and
// mispredicting where it would stop.
func tokenize(line []byte, f *fields) (n int, dirty span, err error) {
	f.line, f.n = line, 0
	dirty, wide := noSpan, noSpan // wide: the non-ASCII bytes
	start := 0                    // where the current field starts (its opening quote if quoted)
	quoted := false               // the current field is quoted
	next := 0                     // delimiters before next are consumed
	for base := 0; base < len(line); base += 64 {
		var d uint64
		if base+64 <= len(line) {
			d = block((*[64]byte)(line[base:]))
		} else if len(line) >= 64 {
			// The last, partial block: the line's last 64 bytes, shifted so that bit 0
			// is base's. Copying the rest of the line into a padded block cost two
			// memmove calls, and its loads waited on their stores.
			d = block((*[64]byte)(line[len(line)-64:])) >> (base + 64 - len(line))
		} else {
			var tail [64]byte
			copy(tail[copy(tail[:], line[base:]):], padding)
			d = block(&tail)
		}
		if k := next - base; k > 0 { // a closing quote's space, or a list's quote, ended the last block
			d &^= 1<<k - 1
		}
	events:
		for d != 0 {
			if !quoted {
				for d != 0 { // in an unquoted field, or between fields
					b := bits.TrailingZeros64(d)
					d &= d - 1
					p := base + b
					switch c := line[p]; {
					case c == ' ':
						if n < maxFields {
							f.at[n] = [2]int{start, p}
						}
						n++
						start = p + 1
					case c != '"':
						if c >= utf8.RuneSelf {
							wide.add(p, p+1)
						} else if c != '!' && c != '#' {
							dirty.add(p, p+1) // a control byte
						}
					case p == start:
						quoted = true
						continue events
					default:
						dirty.add(p, p+1) // a quote inside an unquoted field
					}
				}
				break
			}
			for d != 0 { // in a quoted field, which starts at start
				b := bits.TrailingZeros64(d)
				d &= d - 1
				p := base + b
				if c := line[p]; c != '"' {
					if c >= utf8.RuneSelf {
						wide.add(p, p+1)
					} else if c != ' ' && c != '!' && c != '#' {
						dirty.add(p, p+1) // a control byte
					}
					continue
				}
				if line[p-1] == '\\' { // an escaped quote inside the field
					dirty.add(p, p+1)
					continue
				}
				if p+1 == len(line) || line[p+1] == ' ' {
					if n < maxFields {
						f.at[n] = [2]int{start + 1, p}
					}
					n++
					start, quoted, next = p+2, false, p+2
					d &^= 1<<(b+2) - 1 // the space after the quote
					continue events
				}
				if p+2 < len(line) && line[p+1] == ',' && line[p+2] == '"' {
					// A list of quoted names, as NLB logs alpn_client_preference_list:
					// "h2","http/1.1" is one field.
					dirty.add(p, p+3)
					next = p + 3
					d &^= 1<<(b+3) - 1 // the quote opening the next name
					continue
				}
				// Taking the quote for one inside the field would shift every later
				// field under the wrong name: the line is malformed.
				f.n = min(n, maxFields)
				return n, everySpan, fmt.Errorf("field %d: quoted field starting at byte %d ends at byte %d with %q after it, not a space", n+1, start, p, line[p+1])
			}
		}
	}
	if quoted {
		f.n = min(n, maxFields)
		return n, everySpan, fmt.Errorf("field %d: quoted field starting at byte %d is not terminated", n+1, start)
	}
	if start < len(line) {
		if n < maxFields {
			f.at[n] = [2]int{start, len(line)}
		}
		n++
	}
	f.n = min(n, maxFields)
	if i := bytes.IndexByte(line, '\\'); i >= 0 {
		// The last one by IndexByte again: a line has a few, in one field (a user
		// agent's \"…\"), and bytes.LastIndexByte reads byte by byte from the end.
		last := i
		for j := bytes.IndexByte(line[last+1:], '\\'); j >= 0; j = bytes.IndexByte(line[last+1:], '\\') {
			last += j + 1
		}
		dirty.add(i, last+1)
	}
	if !wide.empty() && !utf8.Valid(line) {
		dirty.add(wide.lo, wide.hi)
	}
	return n, dirty, nil
}

// fields are a line's fields as offsets into it (the first maxFields; tokenize counts
// the rest): storing one is two integer stores, where a slice into an array in the heap
// took three and a write barrier check, about a fifth of tokenize on an ALB line.
type fields struct {
	line []byte
	n    int // fields stored
	at   [maxFields][2]int
}

// get returns field i, nil past the last one stored.
func (f *fields) get(i int) []byte {
	if i >= f.n {
		return nil
	}
	return f.line[f.at[i][0]:f.at[i][1]]
}

// span is the bytes [lo, hi) of a line; empty when hi <= lo.
type span struct{ lo, hi int }

// noSpan is the empty span that add widens; everySpan holds any offset.
var (
	noSpan    = span{math.MaxInt, math.MinInt}
	everySpan = span{math.MinInt, math.MaxInt}
)

func (s *span) add(from, to int) { s.lo, s.hi = min(s.lo, from), max(s.hi, to) }

func (s span) empty() bool { return s.hi <= s.lo }

// block returns a bitmap (bit i for b[i]) of the bytes of b that are below 0x23 or
// non-ASCII: spaces and quotes, but also controls, '!', non-ASCII bytes and a few '#'
// (below), which the caller tells apart by reading them. Subtracting 0x23 from a byte
// below it borrows into its top bit, and a non-ASCII byte has its own set; the borrow may
// also flag the next byte if it is '#' (0x23 - 1 borrows again), but only after a byte
// rightly flagged. Two operations a word, where testing for spaces and quotes exactly,
// and for bytes to escape apart, took a dozen. Unrolled, and a function of its own, so
// that the compiler keeps its values in registers.
//
// Word k's flags (top bits) are shifted to bit k of their bytes: byte i of the result then
// has, in bit k, byte 8k+i of b, and transposing that 8×8 bit matrix puts byte 8k+i at bit
// 8k+i, cheaper than gathering each word's 8 top bits with a multiply.
func block(b *[64]byte) uint64 {
	m0 := flags(binary.LittleEndian.Uint64(b[0:8]))
	m1 := flags(binary.LittleEndian.Uint64(b[8:16]))
	m2 := flags(binary.LittleEndian.Uint64(b[16:24]))
	m3 := flags(binary.LittleEndian.Uint64(b[24:32]))
	m4 := flags(binary.LittleEndian.Uint64(b[32:40]))
	m5 := flags(binary.LittleEndian.Uint64(b[40:48]))
	m6 := flags(binary.LittleEndian.Uint64(b[48:56]))
	m7 := flags(binary.LittleEndian.Uint64(b[56:64]))
	x := m0>>7 | m1>>6 | m2>>5 | m3>>4 | m4>>3 | m5>>2 | m6>>1 | m7
	t := (x ^ x>>7) & 0x00aa00aa00aa00aa
	x ^= t ^ t<<7
	t = (x ^ x>>14) & 0x0000cccc0000cccc
	x ^= t ^ t<<14
	t = (x ^ x>>28) & 0x00000000f0f0f0f0
	return x ^ t ^ t<<28
}

// flags sets the top bit of x's bytes that are below 0x23 or non-ASCII (see block).
func flags(x uint64) uint64 {
	return (x | (x - lsb*0x23)) & msb
}

// padding fills a line's last block past its end: 'a' is neither a delimiter nor a byte
// that needs escaping.
const padding = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
