package elblog

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// tokenizeOld is tokenize as it was before the one-pass rewrite (a scan restarted per
// field), kept as the fuzz oracle: the new one must give the same fields, count, plain
// flag and error, byte for byte.
func tokenizeOld(line []byte, f [][]byte) (n int, plain bool, err error) {
	var bad uint64 // a byte's top bit set: something needs escaping
	for i := 0; i < len(line); {
		var tok []byte
		if line[i] == '"' {
			j := i + 1
			for {
				k, b := scanQuoteOld(line, j)
				bad |= b
				if k == len(line) {
					return n, false, fmt.Errorf("field %d: quoted field starting at byte %d is not terminated", n+1, i)
				}
				j = k
				if line[j-1] == '\\' { // an escaped quote inside the field
					bad |= msb
					j++
					continue
				}
				if j+1 == len(line) || line[j+1] == ' ' {
					break
				}
				if j+2 < len(line) && line[j+1] == ',' && line[j+2] == '"' {
					// A list of quoted names, as NLB logs alpn_client_preference_list:
					// "h2","http/1.1" is one field.
					bad |= msb
					j += 3
					continue
				}
				// Taking the quote for one inside the field would shift every later
				// field under the wrong name: the line is malformed.
				return n, false, fmt.Errorf("field %d: quoted field starting at byte %d ends at byte %d with %q after it, not a space", n+1, i, j, line[j+1])
			}
			tok = line[i+1 : j]
			i = j + 2
		} else {
			j, b := scanOld(line, i, ' ', '"')
			bad |= b
			for j < len(line) && line[j] == '"' { // a quote inside an unquoted field
				bad |= msb
				j, b = scanOld(line, j+1, ' ', '"')
				bad |= b
			}
			tok = line[i:j]
			i = j + 1
		}
		if n < len(f) {
			f[n] = tok
		}
		n++
	}
	return n, bad&msb == 0, nil
}

// scan returns the index of the first byte at or after i that is c or d (len(line) if
// none), 8 bytes at a time: fields are short, and bytes.IndexByte's per-call setup would
// dominate. bad has the top bit set in some byte if a byte read needs JSON escaping; it
// may include a few bytes past the one found, which are the line's too.
func scanOld(line []byte, i int, c, d byte) (int, uint64) {
	pc, pd := lsb*uint64(c), lsb*uint64(d)
	var bad uint64
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:])
		bad |= escapes(x)
		xc, xd := x^pc, x^pd
		if m := ((xc-lsb)&^xc | (xd-lsb)&^xd) & msb; m != 0 {
			return i + bits.TrailingZeros64(m)/8, bad
		}
	}
	for ; i < len(line); i++ {
		b := line[i]
		if b == c || b == d {
			return i, bad
		}
		if b < 0x20 || b >= 0x80 || b == '\\' {
			bad = msb
		}
	}
	return i, bad
}

// scanQuote is scan for a quote only: half the matching work on the long quoted fields.
func scanQuoteOld(line []byte, i int) (int, uint64) {
	var bad uint64
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:])
		bad |= escapes(x)
		xq := x ^ (lsb * '"')
		if m := (xq - lsb) &^ xq & msb; m != 0 {
			return i + bits.TrailingZeros64(m)/8, bad
		}
	}
	for ; i < len(line); i++ {
		b := line[i]
		if b == '"' {
			return i, bad
		}
		if b < 0x20 || b >= 0x80 || b == '\\' {
			bad = msb
		}
	}
	return i, bad
}

// escapes sets a byte's top bit, somewhere in the word, if one of x's bytes needs JSON
// escaping: non-ASCII (its own top bit), a control byte (subtracting 0x20 borrows) or a
// backslash (subtracting 1 after the xor borrows). For ASCII bytes nothing else sets one.
func escapes(x uint64) uint64 {
	return x | (x - lsb*0x20) | (x ^ lsb*'\\' - lsb)
}
