package elblog

// Documents are written straight into the caller's buffer, member after member, with
// no writer state: every member is appended with its leading comma, and an object that
// may turn out empty is bracketed by mark/shut, which turn the first member's comma into
// the object's '{' or take the object back out if nothing was written in it. That costs
// one comparison per object instead of a writer's bookkeeping per member (which cost as
// much as the copying). The member order is the one oldwriter_test.go's old writer had;
// TestDirectWriterMatchesOracle and FuzzDirectWriter hold the two to the same bytes.

// Append appends one complete JSON document (no trailing newline) for line at offset.
// A line that does not parse still yields a document (event.original, error.message,
// tags:["_elb_parse_failure"]) and res.Err says why. Like append it may write into dst's
// spare capacity, and there past the document too (put.go's windows).
func (e *Encoder) Append(dst, line []byte, offset int64) (out []byte, res Result) {
	e.rec.reset()
	// Capped at its length, so that put's windows never read past the line, whoever
	// owns (or is filling) the rest of its buffer; the last values of a line are then
	// appended (~0.5% of a line's cost).
	line = line[:len(line):len(line)]
	if err := e.parse(line); err != nil {
		return e.appendFailure(dst, line, offset, err)
	}
	return e.appendDoc(dst, line, offset), Result{Time: e.rec.time}
}

// AppendFailure appends the failure document for a line that could not be read whole
// (for example a *lines.LineTooLongError): line is what was read of it.
func (e *Encoder) AppendFailure(dst, line []byte, offset int64, err error) (out []byte, res Result) {
	e.rec.reset()
	return e.appendFailure(dst, line, offset, err)
}

// mark remembers where an object member began (start) and where its members begin (body).
type mark struct{ start, body int }

// open appends k (`,"name":`) and marks the object that follows it. Every k is at most
// 16 bytes, which append copies without memmove; putK would make open too large to inline.
func open(b []byte, k string) ([]byte, mark) {
	m := mark{start: len(b)}
	b = append(b, k...)
	m.body = len(b)
	return b, m
}

// shut ends the object m marks: '{' over its first member's comma and a closing '}', or,
// with no member written, the whole member removed.
func shut(b []byte, m mark) []byte {
	if len(b) == m.body {
		return b[:m.start]
	}
	b[m.body] = '{'
	return append(b, '}')
}

func (e *Encoder) appendFailure(dst, line []byte, offset int64, err error) ([]byte, Result) {
	r := &e.rec
	e.plain = false
	b, doc := open(dst, "")
	if r.ts != nil { // the time parsed before something else broke
		b = append(b, `,"@timestamp":`...)
		b = appendTime(b, r.ts)
	}
	b = append(b, `,"@metadata":{"_id":"`...)
	off := formatOffset(&e.offset, offset)
	b = append(b, e.idPrefix...)
	b = append(b, off...)
	b = append(b, `"},"event":{"kind":"event","module":"aws","dataset":"`...)
	b = append(b, datasetFor(r.format)...)
	b = append(b, '"')
	if r.ts != nil {
		b = append(b, `,"end":`...)
		b = appendTime(b, r.ts)
	}
	if line != nil {
		b = append(b, `,"original":`...)
		b = appendString(b, line)
	}
	b = append(b, '}')
	b = e.cloudLog(b, off)
	b = append(b, `,"aws":{`...)
	b = append(b, e.s3...)
	b = append(b, `},"error":{"message":`...)
	b = appendString(b, []byte(err.Error()))
	b = append(b, `},"tags":["_elb_parse_failure"]`...)
	return shut(b, doc), Result{Time: r.time, Err: err}
}

// cloudLog appends the precomputed cloud and log objects; off is the line's offset in digits.
func (e *Encoder) cloudLog(b, off []byte) []byte {
	b = append(b, ',')
	b = append(b, e.cloudLogHead...)
	return append(put(b, off), '}')
}

func datasetFor(f format) string {
	if f == formatConn {
		return "aws.elb_connection_logs"
	}
	return "aws.elb_logs"
}

// appendTime appends a validated log time as an RFC 3339 UTC string; NLB times have no "Z".
func appendTime(b, ts []byte) []byte {
	b = append(b, '"')
	b = append(b, ts...)
	if ts[len(ts)-1] != 'Z' {
		b = append(b, 'Z')
	}
	return append(b, '"')
}

// quotedList appends NLB's list of quoted names, v being the field without its outer
// quotes (h2","http/1.1), as the items of an array of strings, and closes it. The field
// is the array's body already when its only quotes and commas are the "," between two
// names and nothing else needs escaping: then it is copied whole, where list took ~300
// instructions for two names.
func (e *Encoder) quotedList(b, v []byte) []byte {
	if !isJSONList(v) {
		return e.list(b, v, ',', true)
	}
	return append(append(append(b, '"'), v...), '"', ']')
}

// isJSONList reports whether `"`+v+`"` is a list of JSON strings as it is: printable
// ASCII but for backslashes, with quotes and commas only as "," between two strings.
func isJSONList(v []byte) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			if i+2 >= len(v) || v[i+1] != ',' || v[i+2] != '"' {
				return false
			}
			i += 2
		case c < 0x20 || c >= 0x7f || c == ',' || c == '\\':
			return false
		}
	}
	return true
}

// list appends v split on sep as the items of an array of strings, and closes it;
// trimQuotes drops the quotes of NLB's "h2","http/1.1" items.
func (e *Encoder) list(b, v []byte, sep byte, trimQuotes bool) []byte {
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
			b = append(b, ',')
		}
		b = e.str(append(b, '"'), item)
		if j < 0 {
			break
		}
		v = v[j+1:]
	}
	return append(b, ']')
}
