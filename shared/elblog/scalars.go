package elblog

import (
	"bytes"
	"encoding/binary"
)

func percentDecode(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func isDigits(b []byte) bool {
	if n := len(b); n > 0 && n <= 8 && cap(b) >= 8 {
		// One word, the bytes past b masked off: status codes, byte counts and times
		// are short, and a loop over them mispredicts where it stops.
		return nonDigitFlags(binary.LittleEndian.Uint64(b[:8]))&(^uint64(0)>>(64-8*n)) == 0
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// trimZeros drops leading zeros from validated digits: JSON numbers cannot have them.
func trimZeros(b []byte) []byte {
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	return b
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

// isPort accepts 1 to 5 digits worth at most 65535 (leading zeros allowed).
func isPort(b []byte) bool {
	if len(b) == 0 || len(b) > 5 {
		return false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}

// isIP accepts dotted-quad IPv4 and the characters of IPv6, so that Elasticsearch's ip
// fields never reject a document (and lose it) for a malformed address. IPv4 is tried
// first; only an address that breaks it with a ':' is checked as IPv6.
func isIP(b []byte) bool {
	if len(b) == 0 || len(b) > 45 {
		return false
	}
	if n, ok := ipv4Prefix(b); ok && n == len(b) {
		return true
	} else if bytes.IndexByte(b[n:], ':') < 0 {
		return false // b[:n] holds digits and dots only
	}
	colons := 0
	for _, c := range b {
		switch {
		case c == ':':
			colons++
		case c == '.' || isHex(c):
		default:
			return false
		}
	}
	return colons >= 2
}

// ipv4Prefix reads a dotted-quad IPv4 address at the start of b: n is how far it got
// (b[:n] holds digits and dots only), ok whether b[:n] is a whole address. Octet by
// octet, each read as up to three digits without a loop: a loop over the bytes
// mispredicted at every dot.
func ipv4Prefix(b []byte) (n int, ok bool) {
	for part := 0; ; part++ {
		if n >= len(b) || b[n]-'0' > 9 {
			return n, false
		}
		v := int(b[n] - '0')
		n++
		if n < len(b) && b[n]-'0' <= 9 {
			v = v*10 + int(b[n]-'0')
			n++
			if n < len(b) && b[n]-'0' <= 9 {
				v = v*10 + int(b[n]-'0')
				n++
			}
		}
		if v > 255 {
			return n, false
		}
		if part == 3 {
			return n, true
		}
		if n >= len(b) || b[n] != '.' {
			return n, false
		}
		n++
	}
}

// isMicros reports whether x's 8 bytes are d.dddddd, seconds to the microsecond as ELB
// and ALB log their processing times: a JSON number, read in a few operations where
// isJSONNumber's loop took ~90 instructions.
func isMicros(x uint64) bool {
	return x>>8&0xff == '.' && nonDigitFlags(x&^0xff00|'0'<<8) == 0
}

// nonDigitFlags sets the top bit of x's bytes that are not ASCII digits. With t = x^'0'
// a byte by byte, t's bytes are at most 9 exactly for the digits; adding 0x76 to their
// low 7 bits sets a byte's top bit from 10 up without carrying into the next byte, and
// t's own top bit flags the rest.
func nonDigitFlags(x uint64) uint64 {
	t := x ^ lsb*'0'
	return ((t&^msb + lsb*0x76) | t) & msb
}

// isJSONNumber checks the JSON number grammar, since numbers are copied verbatim
// (keeping the logged precision).
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(b)
}
