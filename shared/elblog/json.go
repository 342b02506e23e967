package elblog

import (
	"encoding/binary"
	"unicode/utf8"
)

// maxDepth bounds object nesting in a document (aws.elb.backend.http.response is the deepest).
const maxDepth = 8

// writer appends one JSON document to b. Objects are opened lazily, on their first
// member, so an object whose fields are all absent is omitted without look-ahead.
type writer struct {
	b      []byte
	depth  int              // current level; 0 is the document itself
	opened int              // deepest level whose "{" has been written
	comma  bool             // the next member needs a separator
	keys   [maxDepth]string // keys (pre-quoted) of the levels not yet opened
	// plain is set when every string written by str, strIn and list is known to need
	// no escaping (the whole line was checked at once), so they are copied as they are.
	plain bool
}

func (w *writer) begin(dst []byte) {
	w.b = append(dst, '{')
	w.depth, w.opened, w.comma = 0, 0, false
}

func (w *writer) finish() []byte {
	w.b = append(w.b, '}')
	return w.b
}

// obj starts a nested object; it only reaches the output if a member is written.
func (w *writer) obj(key string) {
	w.depth++
	w.keys[w.depth] = key
}

func (w *writer) end() {
	if w.opened == w.depth {
		w.b = append(w.b, '}')
		w.opened--
		w.comma = true
	}
	w.depth--
}

// key writes the pending object openings, the separator and k. Keys are passed
// pre-quoted (`"name":`) so that writing one is a single copy.
func (w *writer) key(k string) {
	if w.opened < w.depth {
		w.open()
	}
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, k...)
	w.comma = true
}

// open writes the openings of the pending objects down to the current level.
func (w *writer) open() {
	for w.opened < w.depth {
		if w.comma {
			w.b = append(w.b, ',')
		}
		w.opened++
		w.b = append(w.b, w.keys[w.opened]...)
		w.b = append(w.b, '{')
		w.comma = false
	}
}

// rawMember appends a precomputed `"key":value` fragment.
func (w *writer) rawMember(frag []byte) {
	if w.opened < w.depth {
		w.open()
	}
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, frag...)
	w.comma = true
}

// str writes a string member; nil (absent) writes nothing.
func (w *writer) str(k string, v []byte) {
	if v == nil {
		return
	}
	w.key(k)
	w.string(v)
}

func (w *writer) string(v []byte) {
	if w.plain {
		w.b = append(w.b, '"')
		w.b = append(w.b, v...)
		w.b = append(w.b, '"')
		return
	}
	w.b = appendString(w.b, v)
}

// strIn writes a string member nested in single-member objects: k opens them (as in
// `"user_agent":{"original":`) and closers ends them; one call instead of obj/str/end.
func (w *writer) strIn(k string, v []byte, closers string) {
	if v == nil {
		return
	}
	w.key(k)
	w.string(v)
	w.b = append(w.b, closers...)
}

// numIn is strIn for a validated number.
func (w *writer) numIn(k string, v []byte, closers string) {
	if v == nil {
		return
	}
	w.key(k)
	w.b = append(w.b, v...)
	w.b = append(w.b, closers...)
}

// safe writes a string member the parser validated as needing no escaping (IPs, type
// words); nil writes nothing.
func (w *writer) safe(k string, v []byte) {
	if v == nil {
		return
	}
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, v...)
	w.b = append(w.b, '"')
}

func (w *writer) strConst(k, v string) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, v...)
	w.b = append(w.b, '"')
}

// num writes a member whose value the parser validated as a JSON number.
func (w *writer) num(k string, v []byte) {
	if v == nil {
		return
	}
	w.key(k)
	w.b = append(w.b, v...)
}

// list writes v split on sep as an array of strings; nil writes nothing.
func (w *writer) list(k string, v []byte, sep byte, trimQuotes bool) {
	if v == nil {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i := 0; ; i++ {
		j := indexByte(v, sep)
		item := v
		if j >= 0 {
			item = v[:j]
		}
		if trimQuotes {
			item = trimQuote(item)
		}
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.string(item)
		if j < 0 {
			break
		}
		v = v[j+1:]
	}
	w.b = append(w.b, ']')
}

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
	start := 0
	for i := 0; i < len(s); {
		// Skip 8 plain bytes at a time; most of a log line needs no escaping.
		for i+8 <= len(s) && plain8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
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
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plain8 reports whether none of the 8 bytes in x needs escaping: no byte < 0x20,
// no '"', no '\\' and no byte ≥ 0x80 (checked byte by byte for UTF-8 validity).
func plain8(x uint64) bool {
	ctl := (x - lsb*0x20) & ^x
	quote := x ^ (lsb * '"')
	quote = (quote - lsb) & ^quote
	bs := x ^ (lsb * '\\')
	bs = (bs - lsb) & ^bs
	return (ctl|quote|bs|x)&msb == 0
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
