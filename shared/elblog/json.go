package elblog

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

func trimQuote(b []byte) []byte {
	if len(b) > 0 && b[0] == '"' {
		b = b[1:]
	}
	if len(b) > 0 && b[len(b)-1] == '"' {
		b = b[:len(b)-1]
	}
	return b
}

// safeASCII marks bytes that go into a JSON string unchanged.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString appends s as a quoted JSON string. Invalid UTF-8 becomes U+FFFD so the
// document is always valid JSON (Elasticsearch rejects documents with broken UTF-8).
func appendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// appendEscaped appends s as the inside of a JSON string. It reads s 8 bytes at a time,
// going straight to the first byte of a word that needs looking at (a bitmap's lowest
// bit: no byte-by-byte loop up to it), and copies the runs between them at once. Values
// that need no escaping at all are copied at once too, without a check of their own
// first: the caller (str) sends only values in the line's dirty span, most of which do.
func appendEscaped(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			m := unplain8(binary.LittleEndian.Uint64(s[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// isPlain reports whether s goes into a JSON string unchanged: 8 bytes at a time, the
// last word overlapping the one before it rather than a byte loop for the tail.
func isPlain(s []byte) bool {
	if len(s) < 8 {
		for _, c := range s {
			if c >= utf8.RuneSelf || !safeASCII[c] {
				return false
			}
		}
		return true
	}
	for i := 0; i+8 <= len(s); i += 8 {
		if !plain8(binary.LittleEndian.Uint64(s[i:])) {
			return false
		}
	}
	return plain8(binary.LittleEndian.Uint64(s[len(s)-8:]))
}

// plainText reports whether s goes into a JSON string unchanged, non-ASCII included: no
// control byte, quote or backslash, and valid UTF-8 (what tokenize's plain means).
func plainText(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(s)
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plain8 reports whether none of the 8 bytes in x needs escaping: no byte < 0x20,
// no '"', no '\\' and no byte ≥ 0x80 (checked byte by byte for UTF-8 validity).
func plain8(x uint64) bool { return unplain8(x) == 0 }

// unplain8 sets the top bit of the bytes of x that plain8 looks for. A borrow may also
// flag a byte after one rightly flagged, never before it: the lowest flag is exact.
func unplain8(x uint64) uint64 {
	ctl := (x - lsb*0x20) & ^x
	quote := x ^ (lsb * '"')
	quote = (quote - lsb) & ^quote
	bs := x ^ (lsb * '\\')
	bs = (bs - lsb) & ^bs
	return (ctl | quote | bs | x) & msb
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
