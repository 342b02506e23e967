package elblog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
)

// maxFields is how many fields of a line are kept; AWS appends new fields at the end
// over time and the ones past what we know are ignored.
const maxFields = 40

type format uint8

const (
	formatClassic format = iota + 1
	formatALB
	formatNLB
	formatConn
)

func (f format) String() string {
	switch f {
	case formatClassic:
		return "classic ELB"
	case formatALB:
		return "ALB"
	case formatNLB:
		return "NLB"
	case formatConn:
		return "ALB connection log"
	}
	return "unknown"
}

// record holds a parsed line as sub-slices of it; nil means absent.
type record struct {
	format                                      format
	typ, version, ts, elb, listener             []byte
	clientIP, clientPort, backendIP, backendPrt []byte
	rpt, bpt, rspt                              []byte // processing times, seconds
	status, backendStatus                       []byte
	statusN                                     int
	recv, sent                                  []byte
	hasRequest                                  bool
	method, url, proto                          []byte
	scheme, domain, port, path, query, fragment []byte
	userAgent, cipher, sslProto                 []byte
	tlsVersion, tlsProtocol                     string
	tgArn, traceID, domainName, certArn         []byte
	priority, reqCreation                       []byte
	actions, redirect, errReason                []byte
	targetList, targetStatusList                []byte
	class, classReason, connTrace               []byte
	tHost, tURI, tStatus                        []byte
	connTime, tlsHandshake, alert, certSerial   []byte
	namedGroup, alpnFE, alpnBE, alpnList        []byte
	tlsCreated                                  []byte
	listenerPort, hsLatency                     []byte
	certSubject, notBefore, notAfter, serialNum []byte
	verifyStatus                                []byte
	time                                        int64
}

// Append appends one complete JSON document (no trailing newline) for line at offset.
// A line that does not parse still yields a document (event.original, error.message,
// tags:["_elb_parse_failure"]) and res.Err says why.
func (e *Encoder) Append(dst, line []byte, offset int64) (out []byte, res Result) {
	e.rec = record{}
	if err := e.parse(line); err != nil {
		return e.appendFailure(dst, line, offset, err)
	}
	return e.appendDoc(dst, line, offset), Result{Time: e.rec.time}
}

// AppendFailure appends the failure document for a line that could not be read whole
// (for example a *lines.LineTooLongError): line is what was read of it.
func (e *Encoder) AppendFailure(dst, line []byte, offset int64, err error) (out []byte, res Result) {
	e.rec = record{}
	return e.appendFailure(dst, line, offset, err)
}

func (e *Encoder) appendFailure(dst, line []byte, offset int64, err error) ([]byte, Result) {
	r := &e.rec
	w := &e.w
	w.begin(dst)
	w.plain = false
	if r.ts != nil { // the time parsed before something else broke
		e.timestamp(r.ts)
	}
	e.common(offset, datasetFor(r.format))
	w.str(`"original":`, line)
	w.end()
	e.cloudLog(offset)
	w.obj(`"aws":`)
	w.rawMember(e.s3)
	w.end()
	w.obj(`"error":`)
	w.key(`"message":`)
	w.b = appendString(w.b, []byte(err.Error()))
	w.end()
	w.key(`"tags":`)
	w.b = append(w.b, `["_elb_parse_failure"]`...)
	return w.finish(), Result{Time: r.time, Err: err}
}

// cloudLog writes the precomputed cloud and log objects at the top level.
func (e *Encoder) cloudLog(offset int64) {
	w := &e.w
	w.rawMember(e.cloudLogHead)
	w.b = strconv.AppendInt(w.b, offset, 10)
	w.b = append(w.b, '}')
}

func datasetFor(f format) string {
	if f == formatConn {
		return "aws.elb_connection_logs"
	}
	return "aws.elb_logs"
}

func (e *Encoder) timestamp(ts []byte) {
	w := &e.w
	w.key(`"@timestamp":`)
	appendTime(w, ts)
}

// appendTime writes a validated log time as an RFC 3339 UTC string; NLB times have no "Z".
func appendTime(w *writer, ts []byte) {
	w.b = append(w.b, '"')
	w.b = append(w.b, ts...)
	if ts[len(ts)-1] != 'Z' {
		w.b = append(w.b, 'Z')
	}
	w.b = append(w.b, '"')
}

// common writes @timestamp's neighbours: @metadata._id and the opening of event
// (left open for the caller's own event fields).
func (e *Encoder) common(offset int64, dataset string) {
	w := &e.w
	w.obj(`"@metadata":`)
	w.key(`"_id":`)
	w.b = append(w.b, '"')
	w.b = append(w.b, e.idPrefix...)
	w.b = strconv.AppendInt(w.b, offset, 10)
	w.b = append(w.b, '"')
	w.end()
	w.obj(`"event":`)
	w.strConst(`"kind":`, "event")
	w.strConst(`"module":`, "aws")
	w.strConst(`"dataset":`, dataset)
}

func (e *Encoder) appendDoc(dst, line []byte, offset int64) []byte {
	r := &e.rec
	w := &e.w
	// The head of every document is fixed but for a few values: write it directly
	// rather than member by member.
	b := append(dst, `{"@timestamp":"`...)
	b = append(b, r.ts...)
	if r.ts[len(r.ts)-1] != 'Z' {
		b = append(b, 'Z')
	}
	b = append(b, `","@metadata":{"_id":"`...)
	b = append(b, e.idPrefix...)
	b = strconv.AppendInt(b, offset, 10)
	if r.format == formatConn {
		b = append(b, `"},"event":{"kind":"event","module":"aws","dataset":"aws.elb_connection_logs","category":`...)
	} else {
		b = append(b, `"},"event":{"kind":"event","module":"aws","dataset":"aws.elb_logs","category":`...)
	}
	if r.hasRequest {
		b = append(b, `["web"]`...)
	} else {
		b = append(b, `["network"]`...)
	}
	w.b, w.depth, w.opened, w.comma = b, 1, 1, true
	switch {
	case r.status != nil && r.statusN < 400:
		w.strConst(`"outcome":`, "success")
	case r.status != nil:
		w.strConst(`"outcome":`, "failure")
	case r.verifyStatus != nil && bytes.Equal(r.verifyStatus, []byte("Success")):
		w.strConst(`"outcome":`, "success")
	case r.verifyStatus != nil && bytes.HasPrefix(r.verifyStatus, []byte("Failed")):
		w.strConst(`"outcome":`, "failure")
	}
	if r.reqCreation != nil {
		w.key(`"start":`)
		appendTime(w, r.reqCreation)
		w.key(`"end":`)
		appendTime(w, r.ts)
	}
	if r.tlsCreated != nil {
		w.key(`"start":`)
		appendTime(w, r.tlsCreated)
	}
	if e.src.IncludeOriginal {
		w.key(`"original":`)
		w.b = appendString(w.b, line) // the line's own quotes always need escaping
	}
	w.end()
	e.cloudLog(offset)

	if r.clientIP != nil && r.clientPort != nil {
		// The usual case, written in one go.
		w.key(`"source":{"address":"`)
		w.b = append(w.b, r.clientIP...)
		w.b = append(w.b, `","ip":"`...)
		w.b = append(w.b, r.clientIP...)
		w.b = append(w.b, `","port":`...)
		w.b = append(w.b, r.clientPort...)
		if !r.hasRequest && r.recv != nil {
			w.b = append(w.b, `,"bytes":`...)
			w.b = append(w.b, r.recv...)
		}
		w.b = append(w.b, '}')
	} else {
		w.obj(`"source":`)
		w.safe(`"address":`, r.clientIP)
		w.safe(`"ip":`, r.clientIP)
		w.num(`"port":`, r.clientPort)
		if !r.hasRequest {
			w.num(`"bytes":`, r.recv)
		}
		w.end()
	}

	w.obj(`"destination":`)
	w.str(`"domain":`, r.domainName)
	w.num(`"port":`, r.listenerPort)
	if !r.hasRequest {
		w.num(`"bytes":`, r.sent)
	}
	w.end()

	if r.hasRequest {
		if r.method != nil && r.recv != nil && r.status != nil && r.sent != nil && r.proto != nil {
			// The usual case, written in one go.
			w.key(`"http":{"request":{"method":`)
			w.string(r.method)
			w.b = append(w.b, `,"body":{"bytes":`...)
			w.b = append(w.b, r.recv...)
			w.b = append(w.b, `}},"response":{"status_code":`...)
			w.b = append(w.b, r.status...)
			w.b = append(w.b, `,"body":{"bytes":`...)
			w.b = append(w.b, r.sent...)
			w.b = append(w.b, `}},"version":`...)
			w.string(r.proto)
			w.b = append(w.b, '}')
		} else {
			w.obj(`"http":`)
			w.obj(`"request":`)
			w.str(`"method":`, r.method)
			w.numIn(`"body":{"bytes":`, r.recv, "}")
			w.end()
			w.obj(`"response":`)
			w.num(`"status_code":`, r.status)
			w.numIn(`"body":{"bytes":`, r.sent, "}")
			w.end()
			w.str(`"version":`, r.proto)
			w.end()
		}

		if e.albUsual() {
			w.b = e.albTail(w.b)
			return w.finish()
		}

		w.obj(`"url":`)
		w.str(`"original":`, r.url)
		w.str(`"scheme":`, r.scheme)
		w.str(`"domain":`, r.domain)
		w.num(`"port":`, r.port)
		w.str(`"path":`, r.path)
		w.str(`"query":`, r.query)
		w.str(`"fragment":`, r.fragment)
		w.end()

		w.strIn(`"user_agent":{"original":`, r.userAgent, "}")
	}

	w.obj(`"tls":`)
	w.str(`"cipher":`, r.cipher)
	if r.tlsVersion != "" {
		w.strConst(`"version":`, r.tlsVersion)
		w.strConst(`"version_protocol":`, r.tlsProtocol)
	}
	if r.format == formatConn {
		w.obj(`"client":`)
		w.obj(`"x509":`)
		w.obj(`"subject":`)
		w.str(`"distinguished_name":`, r.certSubject)
		w.end()
		w.str(`"serial_number":`, r.serialNum)
		w.str(`"not_before":`, r.notBefore)
		w.str(`"not_after":`, r.notAfter)
		w.end()
		w.end()
	}
	w.end()

	w.strIn(`"trace":{"id":`, r.traceID, "}")

	w.obj(`"aws":`)
	w.obj(`"elb":`)
	w.str(`"name":`, r.elb)
	w.safe(`"type":`, r.typ)
	w.str(`"log_version":`, r.version)
	w.str(`"listener":`, r.listener)
	switch {
	case r.hasRequest:
		w.strConst(`"protocol":`, "http")
	case r.format == formatNLB:
		w.strConst(`"protocol":`, "tls")
	case r.format == formatClassic:
		w.strConst(`"protocol":`, "tcp")
	}
	w.numIn(`"request_processing_time":{"sec":`, r.rpt, "}")
	w.numIn(`"backend_processing_time":{"sec":`, r.bpt, "}")
	w.numIn(`"response_processing_time":{"sec":`, r.rspt, "}")
	w.obj(`"backend":`)
	w.safe(`"ip":`, r.backendIP)
	w.num(`"port":`, r.backendPrt)
	w.numIn(`"http":{"response":{"status_code":`, r.backendStatus, "}}")
	w.end()
	w.str(`"ssl_cipher":`, r.cipher)
	w.str(`"ssl_protocol":`, r.sslProto)
	w.str(`"ssl_named_group":`, r.namedGroup)
	if r.format == formatALB {
		e.albFields()
	}
	if r.format == formatNLB {
		w.obj(`"chosen_cert":`)
		w.str(`"arn":`, r.certArn)
		w.str(`"serial":`, r.certSerial)
		w.end()
		w.numIn(`"connection_time":{"ms":`, r.connTime, "}")
		w.numIn(`"tls_handshake_time":{"ms":`, r.tlsHandshake, "}")
		w.str(`"incoming_tls_alert":`, r.alert)
		w.str(`"alpn_fe_protocol":`, r.alpnFE)
		w.str(`"alpn_be_protocol":`, r.alpnBE)
		w.list(`"alpn_client_preference_list":`, r.alpnList, ',', true)
	}
	if r.format == formatConn {
		w.str(`"connection_trace_id":`, r.connTrace)
		w.numIn(`"tls_handshake_latency":{"sec":`, r.hsLatency, "}")
		w.str(`"tls_verify_status":`, r.verifyStatus)
	}
	w.end()
	w.rawMember(e.s3)
	w.end()
	return w.finish()
}

// albUsual reports whether the line is an ALB request whose fields need no escaping and
// whose objects' first members are present, the common case that albTail writes.
func (e *Encoder) albUsual() bool {
	r := &e.rec
	return !e.generic && r.format == formatALB && e.w.plain && r.hasRequest && r.url != nil && r.cipher != nil &&
		r.elb != nil && r.typ != nil && r.backendIP != nil && (r.certArn != nil || r.certSerial == nil)
}

// albTail writes what appendDoc's generic code writes from url to the end of aws, for
// albUsual lines: every object is known to open with its first member, so members are
// appended directly instead of going through the writer's lazy opening and separators
// (which cost as much as the copying).
func (e *Encoder) albTail(b []byte) []byte {
	r := &e.rec
	b = append(b, `,"url":{"original":"`...)
	b = append(b, r.url...)
	b = append(b, '"')
	b = qs(b, `,"scheme":"`, r.scheme)
	b = qs(b, `,"domain":"`, r.domain)
	b = qn(b, `,"port":`, r.port)
	b = qs(b, `,"path":"`, r.path)
	b = qs(b, `,"query":"`, r.query)
	b = qs(b, `,"fragment":"`, r.fragment)
	b = append(b, '}')
	if r.userAgent != nil {
		b = append(b, `,"user_agent":{"original":"`...)
		b = append(b, r.userAgent...)
		b = append(b, `"}`...)
	}
	b = append(b, `,"tls":{"cipher":"`...)
	b = append(b, r.cipher...)
	b = append(b, '"')
	if r.tlsVersion != "" {
		b = append(b, `,"version":"`...)
		b = append(b, r.tlsVersion...)
		b = append(b, `","version_protocol":"`...)
		b = append(b, r.tlsProtocol...)
		b = append(b, '"')
	}
	b = append(b, '}')
	if r.traceID != nil {
		b = append(b, `,"trace":{"id":"`...)
		b = append(b, r.traceID...)
		b = append(b, `"}`...)
	}
	b = append(b, `,"aws":{"elb":{"name":"`...)
	b = append(b, r.elb...)
	b = append(b, `","type":"`...)
	b = append(b, r.typ...)
	b = append(b, '"')
	b = qs(b, `,"log_version":"`, r.version)
	b = qs(b, `,"listener":"`, r.listener)
	b = append(b, `,"protocol":"http"`...)
	b = qnIn(b, `,"request_processing_time":{"sec":`, r.rpt)
	b = qnIn(b, `,"backend_processing_time":{"sec":`, r.bpt)
	b = qnIn(b, `,"response_processing_time":{"sec":`, r.rspt)
	b = append(b, `,"backend":{"ip":"`...)
	b = append(b, r.backendIP...)
	b = append(b, '"')
	b = qn(b, `,"port":`, r.backendPrt)
	if r.backendStatus != nil {
		b = append(b, `,"http":{"response":{"status_code":`...)
		b = append(b, r.backendStatus...)
		b = append(b, `}}`...)
	}
	b = append(b, '}')
	b = qs(b, `,"ssl_cipher":"`, r.cipher)
	b = qs(b, `,"ssl_protocol":"`, r.sslProto)
	b = qs(b, `,"ssl_named_group":"`, r.namedGroup)
	if r.tgArn != nil {
		b = append(b, `,"target_group":{"arn":"`...)
		b = append(b, r.tgArn...)
		b = append(b, `"}`...)
	}
	b = qs(b, `,"trace_id":"`, r.traceID)
	if r.certArn != nil {
		b = append(b, `,"chosen_cert":{"arn":"`...)
		b = append(b, r.certArn...)
		b = append(b, '"')
		b = qs(b, `,"serial":"`, r.certSerial)
		b = append(b, '}')
	}
	b = qn(b, `,"matched_rule_priority":`, r.priority)
	b = qlist(b, `,"action_executed":["`, r.actions, ',')
	b = qs(b, `,"redirect_url":"`, r.redirect)
	if r.errReason != nil {
		b = append(b, `,"error":{"reason":"`...)
		b = append(b, r.errReason...)
		b = append(b, `"}`...)
	}
	b = qlist(b, `,"target_port":["`, r.targetList, ' ')
	b = qlist(b, `,"target_status_code":["`, r.targetStatusList, ' ')
	b = qs(b, `,"classification":"`, r.class)
	b = qs(b, `,"classification_reason":"`, r.classReason)
	b = qs(b, `,"connection_trace_id":"`, r.connTrace)
	b = qs(b, `,"transformed_host":"`, r.tHost)
	b = qs(b, `,"transformed_uri":"`, r.tURI)
	b = qs(b, `,"request_transform_status":"`, r.tStatus)
	b = append(b, `},`...)
	b = append(b, e.s3...)
	return append(b, '}')
}

// qs appends a string member (k ends with the opening quote) of a plain line, if present.
func qs(b []byte, k string, v []byte) []byte {
	if v == nil {
		return b
	}
	b = append(b, k...)
	b = append(b, v...)
	return append(b, '"')
}

// qn appends a validated number member, if present.
func qn(b []byte, k string, v []byte) []byte {
	if v == nil {
		return b
	}
	b = append(b, k...)
	return append(b, v...)
}

// qnIn appends a validated number member in a one-member object (k opens it), if present.
func qnIn(b []byte, k string, v []byte) []byte {
	if v == nil {
		return b
	}
	b = append(b, k...)
	b = append(b, v...)
	return append(b, '}')
}

// qlist appends v split on sep as an array of strings of a plain line (k ends with `["`),
// if present.
func qlist(b []byte, k string, v []byte, sep byte) []byte {
	if v == nil {
		return b
	}
	b = append(b, k...)
	for {
		j := indexByte(v, sep)
		if j < 0 {
			break
		}
		b = append(b, v[:j]...)
		b = append(b, `","`...)
		v = v[j+1:]
	}
	b = append(b, v...)
	return append(b, `"]`...)
}

func (e *Encoder) albFields() {
	r := &e.rec
	w := &e.w
	w.strIn(`"target_group":{"arn":`, r.tgArn, "}")
	w.str(`"trace_id":`, r.traceID)
	w.obj(`"chosen_cert":`)
	w.str(`"arn":`, r.certArn)
	w.str(`"serial":`, r.certSerial)
	w.end()
	w.num(`"matched_rule_priority":`, r.priority)
	w.list(`"action_executed":`, r.actions, ',', false)
	w.str(`"redirect_url":`, r.redirect)
	w.strIn(`"error":{"reason":`, r.errReason, "}")
	w.list(`"target_port":`, r.targetList, ' ', false)
	w.list(`"target_status_code":`, r.targetStatusList, ' ', false)
	w.str(`"classification":`, r.class)
	w.str(`"classification_reason":`, r.classReason)
	w.str(`"connection_trace_id":`, r.connTrace)
	w.str(`"transformed_host":`, r.tHost)
	w.str(`"transformed_uri":`, r.tURI)
	w.str(`"request_transform_status":`, r.tStatus)
}

// fieldError names the field that broke a line. Building it allocates, which is fine:
// it happens only on bad lines.
func fieldError(f format, name string, v []byte, why string) error {
	return fmt.Errorf("%s line: field %s %q: %s", f, name, clip(v), why)
}

func clip(v []byte) []byte {
	if len(v) > 64 {
		return append(v[:64:64], "..."...)
	}
	return v
}

var errEmpty = errors.New("empty line")

func (e *Encoder) parse(line []byte) error {
	n, plain, err := tokenize(line, e.fields[:])
	if err != nil {
		return err
	}
	e.w.plain = plain
	if n == 0 {
		return errEmpty
	}
	f := e.fields[:min(n, maxFields)]
	switch first := f[0]; {
	case isALBType(first):
		return e.parseALB(f)
	case string(first) == "tls":
		return e.parseNLB(f)
	case len(first) > 0 && first[0] >= '0' && first[0] <= '9':
		if len(f) > 2 && isDigits(f[2]) {
			return e.parseConn(f)
		}
		return e.parseClassic(f)
	}
	return fmt.Errorf("not an ELB log line: first field %q is neither an ALB/NLB type nor a timestamp", clip(f[0]))
}

func isALBType(b []byte) bool {
	switch string(b) {
	case "http", "https", "h2", "grpcs", "ws", "wss":
		return true
	}
	return false
}

// tokenize splits line into space-separated fields, some double-quoted (the quotes are
// removed). A quoted field ends at an unescaped quote followed by a space or the end of
// the line, so quotes inside user agents or URLs do not end it early. It returns the number of
// fields, which may exceed len(f) (only the first len(f) are stored), and whether the
// fields can be copied into JSON strings unescaped: no control bytes, backslashes or
// non-ASCII bytes, and no quotes but the ones delimiting quoted fields. Both come from one
// pass, since finding the delimiters reads every byte anyway.
func tokenize(line []byte, f [][]byte) (n int, plain bool, err error) {
	var bad uint64 // a byte's top bit set: something needs escaping
	for i := 0; i < len(line); {
		var tok []byte
		if line[i] == '"' {
			j := i + 1
			for {
				k, b := scanQuote(line, j)
				bad |= b
				if k == len(line) {
					return n, false, fmt.Errorf("field %d: quoted field starting at byte %d is not terminated", n+1, i)
				}
				j = k
				if (j+1 == len(line) || line[j+1] == ' ') && line[j-1] != '\\' {
					break
				}
				bad |= msb // a quote inside the field, which JSON must escape
				j++
			}
			tok = line[i+1 : j]
			i = j + 2
		} else {
			j, b := scan(line, i, ' ', '"')
			bad |= b
			for j < len(line) && line[j] == '"' { // a quote inside an unquoted field
				bad |= msb
				j, b = scan(line, j+1, ' ', '"')
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
func scan(line []byte, i int, c, d byte) (int, uint64) {
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
func scanQuote(line []byte, i int) (int, uint64) {
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

// opt returns nil for "-" and for an empty field.
func opt(b []byte) []byte {
	if len(b) == 0 || (len(b) == 1 && b[0] == '-') {
		return nil
	}
	return b
}

func field(f [][]byte, i int) []byte {
	if i < len(f) {
		return opt(f[i])
	}
	return nil
}

func (e *Encoder) need(f [][]byte, min int, what string) error {
	if len(f) < min {
		return fmt.Errorf("%s line has %d fields, want at least %d (through %s)", e.rec.format, len(f), min, what)
	}
	return nil
}

func (e *Encoder) parseTime(name string, v []byte, into *int64) error {
	t, ok := e.times.parse(v)
	if !ok {
		return fieldError(e.rec.format, name, v, "not an ISO 8601 UTC time")
	}
	if into != nil {
		*into = t
	}
	return nil
}

// hostPort splits "ip:port" on the last colon, stripping IPv6 brackets.
func (e *Encoder) hostPort(name string, v []byte) (ip, port []byte, err error) {
	v = opt(v)
	if v == nil {
		return nil, nil, nil
	}
	i := bytes.LastIndexByte(v, ':')
	if i < 0 {
		return nil, nil, fieldError(e.rec.format, name, v, "no :port")
	}
	ip, port = v[:i], v[i+1:]
	if len(ip) > 1 && ip[0] == '[' && ip[len(ip)-1] == ']' {
		ip = ip[1 : len(ip)-1]
	}
	if !isIP(ip) {
		return nil, nil, fieldError(e.rec.format, name, v, "not an IP address")
	}
	if !isPort(port) {
		return nil, nil, fieldError(e.rec.format, name, v, "bad port")
	}
	return ip, trimZeros(port), nil
}

// number validates an optional JSON number field; minusOne makes -1 mean absent too.
func (e *Encoder) number(name string, v []byte, minusOne bool) ([]byte, error) {
	v = opt(v)
	if v == nil || (minusOne && string(v) == "-1") {
		return nil, nil
	}
	if !isJSONNumber(v) {
		return nil, fieldError(e.rec.format, name, v, "not a number")
	}
	return v, nil
}

func (e *Encoder) integer(name string, v []byte) ([]byte, error) {
	v = opt(v)
	if v == nil {
		return nil, nil
	}
	if !isDigits(v) || len(v) > 18 {
		return nil, fieldError(e.rec.format, name, v, "not a non-negative integer")
	}
	return trimZeros(v), nil
}

func (e *Encoder) parseClassic(f [][]byte) error {
	r := &e.rec
	r.format = formatClassic
	if err := e.need(f, 12, "request"); err != nil {
		return err
	}
	return e.parseHTTPCommon(f, 0)
}

func (e *Encoder) parseALB(f [][]byte) error {
	r := &e.rec
	r.format = formatALB
	if err := e.need(f, 13, "request"); err != nil {
		return err
	}
	r.typ = f[0]
	if err := e.parseHTTPCommon(f, 1); err != nil {
		return err
	}
	var err error
	r.tgArn = field(f, 16)
	r.traceID = field(f, 17)
	r.domainName = field(f, 18)
	r.certArn = field(f, 19)
	if r.priority, err = e.number("matched_rule_priority", field(f, 20), true); err != nil {
		return err
	}
	if r.reqCreation = field(f, 21); r.reqCreation != nil {
		if err := e.parseTime("request_creation_time", r.reqCreation, nil); err != nil {
			return err
		}
	}
	r.actions = field(f, 22)
	r.redirect = field(f, 23)
	r.errReason = field(f, 24)
	r.targetList = field(f, 25)
	r.targetStatusList = field(f, 26)
	r.class = field(f, 27)
	r.classReason = field(f, 28)
	r.connTrace = field(f, 29)
	r.tHost = field(f, 30)
	r.tURI = field(f, 31)
	r.tStatus = field(f, 32)
	return nil
}

// parseHTTPCommon parses the fields Classic ELB and ALB share, starting at f[base] (the time).
func (e *Encoder) parseHTTPCommon(f [][]byte, base int) error {
	r := &e.rec
	var err error
	if err := e.parseTime("time", f[base], &r.time); err != nil {
		return err
	}
	r.ts = f[base]
	r.elb = field(f, base+1)
	if r.clientIP, r.clientPort, err = e.hostPort("client:port", f[base+2]); err != nil {
		return err
	}
	if r.backendIP, r.backendPrt, err = e.hostPort("backend:port", f[base+3]); err != nil {
		return err
	}
	if r.rpt, err = e.number("request_processing_time", f[base+4], true); err != nil {
		return err
	}
	if r.bpt, err = e.number("backend_processing_time", f[base+5], true); err != nil {
		return err
	}
	if r.rspt, err = e.number("response_processing_time", f[base+6], true); err != nil {
		return err
	}
	if r.status, err = e.integer("elb_status_code", f[base+7]); err != nil {
		return err
	}
	if r.status != nil {
		r.statusN = atoi(r.status)
	}
	if r.backendStatus, err = e.integer("backend_status_code", f[base+8]); err != nil {
		return err
	}
	if r.recv, err = e.integer("received_bytes", f[base+9]); err != nil {
		return err
	}
	if r.sent, err = e.integer("sent_bytes", f[base+10]); err != nil {
		return err
	}
	if err := e.request(f[base+11]); err != nil {
		return err
	}
	r.userAgent = field(f, base+12)
	r.cipher = field(f, base+13)
	r.sslProto = field(f, base+14)
	r.tlsVersion, r.tlsProtocol = tlsVersion(r.sslProto)
	return nil
}

// request splits "METHOD URL PROTOCOL" on the first and last space: the URL is
// logged as the client sent it and may contain spaces.
func (e *Encoder) request(req []byte) error {
	r := &e.rec
	if string(req) == "- - - " || string(req) == "-" || len(req) == 0 {
		return nil // TCP/SSL listener: no HTTP request
	}
	r.hasRequest = true
	i := bytes.IndexByte(req, ' ')
	if i < 0 {
		r.url = req
	} else {
		r.method = opt(req[:i])
		rest := req[i+1:]
		if j := bytes.LastIndexByte(rest, ' '); j >= 0 {
			r.url = rest[:j]
			if p := opt(rest[j+1:]); p != nil {
				r.proto = p
				if bytes.HasPrefix(p, []byte("HTTP/")) {
					r.proto = p[len("HTTP/"):]
				}
			}
		} else {
			r.url = rest
		}
	}
	r.url = opt(r.url)
	if r.url != nil {
		e.splitURL(r.url)
	}
	return nil
}

// splitURL fills url.* from an absolute (http://host:port/path?q) or origin-form URL.
// Parts it cannot find are left absent; it never fails the line.
func (e *Encoder) splitURL(u []byte) {
	r := &e.rec
	rest := u
	n := 0
	for n < len(u) && isSchemeByte(u[n]) {
		n++
	}
	if n > 0 && len(u) >= n+3 && u[n] == ':' && u[n+1] == '/' && u[n+2] == '/' {
		r.scheme = u[:n]
		rest = u[n+3:]
		// One pass over the authority: where it ends, and its last '@', ':' and ']'.
		end, at, colon, bracket := len(rest), -1, -1, -1
	authority:
		for k, c := range rest {
			switch c {
			case '/', '?', '#':
				end = k
				break authority
			case '@':
				at = k
			case ':':
				colon = k
			case ']':
				bracket = k
			}
		}
		host := rest[:end]
		rest = rest[end:]
		if at >= 0 { // userinfo: the port and brackets are after it (negative: none)
			host = host[at+1:]
			colon -= at + 1
			bracket -= at + 1
		}
		if colon >= 0 && colon > bracket {
			if p := host[colon+1:]; isPort(p) {
				r.port = trimZeros(p)
			}
			host = host[:colon]
		}
		if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
			host = host[1 : len(host)-1]
		}
		r.domain = opt(host)
	}
	if i := bytes.IndexByte(rest, '#'); i >= 0 {
		r.fragment = opt(rest[i+1:])
		rest = rest[:i]
	}
	if i := bytes.IndexByte(rest, '?'); i >= 0 {
		r.query = opt(rest[i+1:])
		rest = rest[:i]
	}
	if len(rest) > 0 {
		r.path = rest
	}
}

func isSchemeByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
}

// tlsVersion maps TLSv1.2 (ELB/ALB) and tlsv12 (NLB) to ECS tls.version and version_protocol.
func tlsVersion(p []byte) (version, protocol string) {
	switch string(p) {
	case "TLSv1", "tlsv1", "tlsv10", "TLSv1.0":
		return "1.0", "tls"
	case "TLSv1.1", "tlsv11":
		return "1.1", "tls"
	case "TLSv1.2", "tlsv12":
		return "1.2", "tls"
	case "TLSv1.3", "tlsv13":
		return "1.3", "tls"
	case "SSLv3", "sslv3":
		return "3.0", "ssl"
	}
	return "", ""
}

func (e *Encoder) parseNLB(f [][]byte) error {
	r := &e.rec
	r.format = formatNLB
	if err := e.need(f, 11, "sent_bytes"); err != nil {
		return err
	}
	var err error
	r.typ = f[0]
	r.version = field(f, 1)
	if err := e.parseTime("time", f[2], &r.time); err != nil {
		return err
	}
	r.ts = f[2]
	r.elb = field(f, 3)
	r.listener = field(f, 4)
	if r.clientIP, r.clientPort, err = e.hostPort("client:port", f[5]); err != nil {
		return err
	}
	if r.backendIP, r.backendPrt, err = e.hostPort("destination:port", f[6]); err != nil {
		return err
	}
	if r.connTime, err = e.number("connection_time", f[7], true); err != nil {
		return err
	}
	if r.tlsHandshake, err = e.number("tls_handshake_time", f[8], true); err != nil {
		return err
	}
	if r.recv, err = e.integer("received_bytes", f[9]); err != nil {
		return err
	}
	if r.sent, err = e.integer("sent_bytes", f[10]); err != nil {
		return err
	}
	r.alert = field(f, 11)
	r.certArn = field(f, 12)
	r.certSerial = field(f, 13)
	r.cipher = field(f, 14)
	r.sslProto = field(f, 15)
	r.tlsVersion, r.tlsProtocol = tlsVersion(r.sslProto)
	r.namedGroup = field(f, 16)
	if d := field(f, 17); d != nil {
		e.scratch = percentDecode(e.scratch[:0], d)
		r.domainName = e.scratch
		if len(e.scratch) != len(d) {
			e.w.plain = false // decoding may have produced bytes that need escaping
		}
	}
	r.alpnFE = field(f, 18)
	r.alpnBE = field(f, 19)
	r.alpnList = field(f, 20)
	if r.tlsCreated = field(f, 21); r.tlsCreated != nil {
		if err := e.parseTime("tls_connection_creation_time", r.tlsCreated, nil); err != nil {
			return err
		}
	}
	return nil
}

func (e *Encoder) parseConn(f [][]byte) error {
	r := &e.rec
	r.format = formatConn
	if err := e.need(f, 11, "tls_verify_status"); err != nil {
		return err
	}
	var err error
	if err := e.parseTime("time", f[0], &r.time); err != nil {
		return err
	}
	r.ts = f[0]
	if r.clientIP = opt(f[1]); r.clientIP != nil && !isIP(r.clientIP) {
		return fieldError(r.format, "client_ip", r.clientIP, "not an IP address")
	}
	if r.clientPort = opt(f[2]); r.clientPort != nil && !isPort(r.clientPort) {
		return fieldError(r.format, "client_port", r.clientPort, "bad port")
	}
	if r.listenerPort = opt(f[3]); r.listenerPort != nil && !isPort(r.listenerPort) {
		return fieldError(r.format, "listener_port", r.listenerPort, "bad port")
	}
	if r.clientPort != nil {
		r.clientPort = trimZeros(r.clientPort)
	}
	if r.listenerPort != nil {
		r.listenerPort = trimZeros(r.listenerPort)
	}
	r.sslProto = field(f, 4)
	r.tlsVersion, r.tlsProtocol = tlsVersion(r.sslProto)
	r.cipher = field(f, 5)
	if r.hsLatency, err = e.number("tls_handshake_latency", f[6], true); err != nil {
		return err
	}
	r.certSubject = field(f, 7)
	if v := field(f, 8); v != nil {
		// NotBefore=2023-08-16T20:24:41Z;NotAfter=2024-08-15T20:24:41Z
		for part := range bytes.SplitSeq(v, []byte(";")) {
			k, val, _ := bytes.Cut(part, []byte("="))
			if _, ok := parseTime(val); !ok {
				return fieldError(r.format, "leaf_client_cert_validity", v, "want NotBefore=<time>;NotAfter=<time>")
			}
			switch string(k) {
			case "NotBefore":
				r.notBefore = val
			case "NotAfter":
				r.notAfter = val
			}
		}
	}
	r.serialNum = field(f, 9)
	r.verifyStatus = field(f, 10)
	r.connTrace = field(f, 11)
	return nil
}

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

func isPort(b []byte) bool {
	return isDigits(b) && len(b) <= 5 && atoi(b) <= 65535
}

// isIP accepts dotted-quad IPv4 and the characters of IPv6, so that Elasticsearch's ip
// fields never reject a document (and lose it) for a malformed address.
func isIP(b []byte) bool {
	if len(b) == 0 || len(b) > 45 {
		return false
	}
	if bytes.IndexByte(b, ':') >= 0 {
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
	parts, val, digits := 0, 0, 0
	for _, c := range b {
		if c == '.' {
			if digits == 0 {
				return false
			}
			parts++
			val, digits = 0, 0
			continue
		}
		if c < '0' || c > '9' || digits == 3 {
			return false
		}
		val = val*10 + int(c-'0')
		digits++
		if val > 255 {
			return false
		}
	}
	return parts == 3 && digits > 0
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
