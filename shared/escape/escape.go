// Package escape makes text that someone outside the deployment can shape (object names,
// events, answers of Logstash and Elasticsearch) inert before it is printed to a terminal
// or quoted in an error: no control character (ESC sequences, CR that overwrites a line,
// LF that forges one), no invalid UTF-8 and no bidirectional override reaches the output,
// and a malformed event is quoted by a short prefix, never whole.
package escape

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s with every byte or rune that is not printable written as a Go escape
// (\x1b, \r, \n, \u202e, \xff for invalid UTF-8), so the result is one inert line.
// Printable text, spaces included, is unchanged and costs no allocation, and "\" is
// left as it is so that Text(Text(s)) == Text(s): a message escaped where it was made
// can be escaped again where it is printed without growing backslashes.
func Text(s string) string {
	return text(s, false)
}

// Lines is Text except that "\n" is kept: for a message that is several lines by design
// (a list of failures), each of whose parts was escaped where it was made.
func Lines(s string) string {
	return text(s, true)
}

func text(s string, keepLF bool) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if needs(r, size, keepLF) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case !needs(r, size, keepLF):
			b.WriteString(s[i : i+size])
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

func needs(r rune, size int, keepLF bool) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r == '\n':
		return !keepLF
	case r == ' ':
		return false
	}
	// Not graphic: controls (C0, DEL, C1), format characters such as the bidirectional
	// overrides U+202A–U+202E and U+2066–U+2069, unassigned code points.
	return !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r)
}

// DefaultPrefix is how much of a malformed input an error quotes.
const DefaultPrefix = 128

// Prefix returns at most the first n bytes of b (cut at a rune boundary), escaped as Text
// does, followed by "… (N bytes)" when b is longer: enough to recognise the input, never
// all of a 50 MB one.
func Prefix(b []byte, n int) string {
	if len(b) <= n {
		return Text(string(b))
	}
	// Only the prefix is copied into a string, however long b is.
	return cutAt(string(b[:n+1]), n) + "… (" + strconv.Itoa(len(b)) + " bytes)"
}

// String is Prefix for a string.
func String(s string, n int) string {
	if len(s) <= n {
		return Text(s)
	}
	return cutAt(s, n) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// cutAt escapes the first n bytes of s (len(s) > n), not splitting a rune.
func cutAt(s string, n int) string {
	cut := n
	for cut > 0 && cut > n-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if !utf8.RuneStart(s[cut]) { // not UTF-8 there anyway: cut where asked
		cut = n
	}
	return Text(s[:cut])
}

// IsInert reports whether s is valid UTF-8 without a control or format character other
// than the layout ones, "\n" and "\t": what Text and Lines make, and what any output
// someone else can shape must be (tests assert it).
func IsInert(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			return false
		}
	}
	return true
}
