package elblog

import "strconv"

// The copies a document is made of, without a call to runtime.memmove for the short
// ones. A document is ~40 keys and ~30 values, most under 32 bytes (IPs, ports,
// numbers, status codes, cipher names); append copies each with a call to memmove,
// which with its call and its choice of how to copy each size was the largest single
// cost of Append (16% of the samples of `logferry parse`). Here a short copy moves
// a fixed 32-byte window instead, two 16-byte loads and stores, and then counts only
// len(v) of them: the bytes past the copy land in the buffer's spare capacity and are
// overwritten by the next copy. appendDoc reserves room for the whole document first
// (Encoder.room and four bytes a byte of the line), so the window fits; where it does
// not, or a value is long, append does the copy as before.

// window is the size of the fixed copies.
const window = 32

// put appends v, copying a 32-byte window when v is at most that long and can be read
// that far: v is a sub-slice of the line (which Append caps at its length), so its
// capacity runs on to the line's end, and what is read past len(v) is never counted.
func put(b, v []byte) []byte {
	if n := len(b); len(v) <= window && cap(v) >= window && cap(b)-n >= window {
		d, s := b[n:n+window], v[:window]
		*(*[16]byte)(d) = *(*[16]byte)(s)
		*(*[16]byte)(d[16:]) = *(*[16]byte)(s[16:])
		return b[:n+len(v)]
	}
	return append(b, v...)
}

// putK appends k, a constant: inlined, len(k) is known and both copies below become
// stores of immediates (the first k's bytes before its last 16, the second its last 16,
// or all of a shorter k). Longer constants are appended.
func putK(b []byte, k string) []byte {
	if n := len(b); len(k) <= window && cap(b)-n >= window {
		d := b[n : n+window]
		i := max(len(k), 16) - 16
		copy(d, k[:i])
		copy(d[i:], k[i:])
		return b[:n+len(k)]
	}
	return append(b, k...)
}

// putLong is put for values that are often longer than 32 bytes (user agents, ARNs,
// certificate subjects): a 64-byte window. Not inlined.
func putLong(b, v []byte) []byte {
	if n := len(b); len(v) <= 2*window && cap(v) >= 2*window && cap(b)-n >= 2*window {
		copy64(b[n:n+2*window], v[:2*window])
		return b[:n+len(v)]
	}
	return append(b, v...)
}

// copy64 copies s's 64 bytes to d's as four 16-byte moves (a [64]byte assignment would
// be a memmove call: the compiler cannot rule out that the two overlap).
func copy64(d, s []byte) {
	*(*[16]byte)(d) = *(*[16]byte)(s)
	*(*[16]byte)(d[16:]) = *(*[16]byte)(s[16:])
	*(*[16]byte)(d[32:]) = *(*[16]byte)(s[32:])
	*(*[16]byte)(d[48:]) = *(*[16]byte)(s[48:])
}

// str appends a string value and its closing quote, escaped if it has bytes in the
// line's dirty span. Not inlined (it is too large), it copies a clean value with a
// 64-byte window, quote included: strings are the long values (URLs, ARNs, trace ids).
func (e *Encoder) str(b, v []byte) []byte {
	clean := e.clean(v)
	if n := len(b); clean && len(v) < 2*window && cap(v) >= 2*window && cap(b)-n >= 2*window {
		d := b[n : n+2*window]
		copy64(d, v[:2*window])
		d[len(v)] = '"'
		return b[:n+len(v)+1]
	}
	if clean {
		b = append(b, v...)
	} else {
		b = appendEscaped(b, v)
	}
	return append(b, '"')
}

// clean reports whether v, a value of the line's record, lies outside the line's dirty
// span, so that it needs no escaping. v is a sub-slice of the line (its offset there is
// what its capacity lacks of the line's) or, for a decoded NLB name, the span is
// everySpan, which holds any offset.
func (e *Encoder) clean(v []byte) bool {
	off := e.lineCap - cap(v)
	return off+len(v) <= e.dirty.lo || off >= e.dirty.hi
}

// dirtyWithin reports whether the line's dirty span lies within v, a sub-slice of the
// line: every other value is clean.
func (e *Encoder) dirtyWithin(v []byte) bool {
	off := e.lineCap - cap(v)
	return e.dirty.lo >= off && e.dirty.hi <= off+len(v)
}

// formatOffset formats a line's offset into buf, two digits a step, so that it ends 20
// bytes in (the most an int64 has) and put can copy it with a window: buf is larger
// than that. strconv.AppendInt formats into a buffer of its own and appends from it.
func formatOffset(buf *[window + 20]byte, v int64) []byte {
	if v < 0 {
		return strconv.AppendInt(buf[:0], v, 10)
	}
	i, u := 20, uint64(v)
	for u >= 100 {
		q := u / 100
		r := 2 * (u - 100*q)
		i -= 2
		buf[i], buf[i+1] = digitPairs[r], digitPairs[r+1]
		u = q
	}
	if u >= 10 {
		i -= 2
		buf[i], buf[i+1] = digitPairs[2*u], digitPairs[2*u+1]
	} else {
		i--
		buf[i] = byte('0' + u)
	}
	return buf[i:20]
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
