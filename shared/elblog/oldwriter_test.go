package elblog

// The document writer logferry used before the direct writer of document.go: objects
// opened lazily by a writer with state, member by member. It is kept here, unchanged but
// for names, as the oracle TestDirectWriterMatchesOracle and FuzzDirectWriter check the
// direct writer against: the same record must give the same bytes.

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// oracle is an Encoder whose documents are written the old way.
type oracle struct {
	*Encoder
	w oldWriter
}

// maxDepth bounds object nesting in a document (aws.elb.backend.http.response is the deepest).
const maxDepth = 8

// writer appends one JSON document to b. Objects are opened lazily, on their first
// member, so an object whose fields are all absent is omitted without look-ahead.
type oldWriter struct {
	b      []byte
	depth  int              // current level; 0 is the document itself
	opened int              // deepest level whose "{" has been written
	comma  bool             // the next member needs a separator
	keys   [maxDepth]string // keys (pre-quoted) of the levels not yet opened
	// plain is set when every string written by str, strIn and list is known to need
	// no escaping (the whole line was checked at once), so they are copied as they are.
	plain bool
}

func (w *oldWriter) begin(dst []byte) {
	w.b = append(dst, '{')
	w.depth, w.opened, w.comma = 0, 0, false
}

func (w *oldWriter) finish() []byte {
	w.b = append(w.b, '}')
	return w.b
}

// obj starts a nested object; it only reaches the output if a member is written.
func (w *oldWriter) obj(key string) {
	w.depth++
	w.keys[w.depth] = key
}

func (w *oldWriter) end() {
	if w.opened == w.depth {
		w.b = append(w.b, '}')
		w.opened--
		w.comma = true
	}
	w.depth--
}

// key writes the pending object openings, the separator and k. Keys are passed
// pre-quoted (`"name":`) so that writing one is a single copy.
func (w *oldWriter) key(k string) {
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
func (w *oldWriter) open() {
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
func (w *oldWriter) rawMember(frag []byte) {
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
func (w *oldWriter) str(k string, v []byte) {
	if v == nil {
		return
	}
	w.key(k)
	w.string(v)
}

func (w *oldWriter) string(v []byte) {
	if w.plain {
		w.b = append(w.b, '"')
		w.b = append(w.b, v...)
		w.b = append(w.b, '"')
		return
	}
	w.b = oldAppendString(w.b, v)
}

// strIn writes a string member nested in single-member objects: k opens them (as in
// `"user_agent":{"original":`) and closers ends them; one call instead of obj/str/end.
func (w *oldWriter) strIn(k string, v []byte, closers string) {
	if v == nil {
		return
	}
	w.key(k)
	w.string(v)
	w.b = append(w.b, closers...)
}

// numIn is strIn for a validated number.
func (w *oldWriter) numIn(k string, v []byte, closers string) {
	if v == nil {
		return
	}
	w.key(k)
	w.b = append(w.b, v...)
	w.b = append(w.b, closers...)
}

// safe writes a string member the parser validated as needing no escaping (IPs, type
// words); nil writes nothing.
func (w *oldWriter) safe(k string, v []byte) {
	if v == nil {
		return
	}
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, v...)
	w.b = append(w.b, '"')
}

func (w *oldWriter) strConst(k, v string) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, v...)
	w.b = append(w.b, '"')
}

// num writes a member whose value the parser validated as a JSON number.
func (w *oldWriter) num(k string, v []byte) {
	if v == nil {
		return
	}
	w.key(k)
	w.b = append(w.b, v...)
}

// list writes v split on sep as an array of strings; nil writes nothing.
func (w *oldWriter) list(k string, v []byte, sep byte, trimQuotes bool) {
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

// Append appends one complete JSON document (no trailing newline) for line at offset.
// A line that does not parse still yields a document (event.original, error.message,
// tags:["_elb_parse_failure"]) and res.Err says why.
func (e *oracle) Append(dst, line []byte, offset int64) (out []byte, res Result) {
	e.rec = record{}
	err := e.parse(line)
	e.w.plain = e.plain
	if err != nil {
		return e.appendFailure(dst, line, offset, err)
	}
	return e.appendDoc(dst, line, offset), Result{Time: e.rec.time}
}

// AppendFailure appends the failure document for a line that could not be read whole
// (for example a *lines.LineTooLongError): line is what was read of it.
func (e *oracle) AppendFailure(dst, line []byte, offset int64, err error) (out []byte, res Result) {
	e.rec = record{}
	e.w.plain = e.plain
	return e.appendFailure(dst, line, offset, err)
}

func (e *oracle) appendFailure(dst, line []byte, offset int64, err error) ([]byte, Result) {
	r := &e.rec
	w := &e.w
	w.begin(dst)
	w.plain = false
	if r.ts != nil { // the time parsed before something else broke
		e.timestamp(r.ts)
	}
	e.common(offset, oldDatasetFor(r.format))
	if r.ts != nil {
		w.key(`"end":`)
		oldAppendTime(w, r.ts)
	}
	w.str(`"original":`, line)
	w.end()
	e.cloudLog(offset)
	w.obj(`"aws":`)
	w.rawMember(e.s3)
	w.end()
	w.obj(`"error":`)
	w.key(`"message":`)
	w.b = oldAppendString(w.b, []byte(err.Error()))
	w.end()
	w.key(`"tags":`)
	w.b = append(w.b, `["_elb_parse_failure"]`...)
	return w.finish(), Result{Time: r.time, Err: err}
}

// cloudLog writes the precomputed cloud and log objects at the top level.
func (e *oracle) cloudLog(offset int64) {
	w := &e.w
	w.rawMember(e.cloudLogHead)
	w.b = strconv.AppendInt(w.b, offset, 10)
	w.b = append(w.b, '}')
}

func oldDatasetFor(f format) string {
	if f == formatConn {
		return "aws.elb_connection_logs"
	}
	return "aws.elb_logs"
}

func (e *oracle) timestamp(ts []byte) {
	w := &e.w
	w.key(`"@timestamp":`)
	oldAppendTime(w, ts)
}

// appendTime writes a validated log time as an RFC 3339 UTC string; NLB times have no "Z".
func oldAppendTime(w *oldWriter, ts []byte) {
	w.b = append(w.b, '"')
	w.b = append(w.b, ts...)
	if ts[len(ts)-1] != 'Z' {
		w.b = append(w.b, 'Z')
	}
	w.b = append(w.b, '"')
}

// common writes @timestamp's neighbours: @metadata._id and the opening of event
// (left open for the caller's own event fields).
func (e *oracle) common(offset int64, dataset string) {
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

// appendDoc writes the document of a parsed line, one ECS object after another, each by
// its own writer below. Objects whose fields are all absent are left out.
func (e *oracle) appendDoc(dst, line []byte, offset int64) []byte {
	r := &e.rec
	w := &e.w
	e.head(dst, offset)
	e.event(line)
	e.cloudLog(offset)
	e.source()
	if r.format == formatConn {
		e.client()
	}
	e.destination()
	if r.hasRequest {
		e.http()
		e.url()
		w.strIn(`"user_agent":{"original":`, r.userAgent, "}")
	}
	e.tls()
	w.strIn(`"trace":{"id":`, r.traceID, "}")
	e.aws()
	return w.finish()
}

// head writes @timestamp, @metadata and event up to its category, and leaves event open.
// It is fixed but for a few values, so it is written directly rather than member by member.
func (e *oracle) head(dst []byte, offset int64) {
	r := &e.rec
	w := &e.w
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
}

// event writes the rest of the event object opened by head, and closes it.
func (e *oracle) event(line []byte) {
	r := &e.rec
	w := &e.w
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
	switch {
	case r.reqCreation != nil:
		w.key(`"start":`)
		oldAppendTime(w, r.reqCreation)
	case r.tlsCreated != nil:
		w.key(`"start":`)
		oldAppendTime(w, r.tlsCreated)
	}
	w.key(`"end":`) // the integration sets event.end = @timestamp on every document
	oldAppendTime(w, r.ts)
	if e.src.IncludeOriginal {
		w.key(`"original":`)
		w.b = oldAppendString(w.b, line) // the line's own quotes always need escaping
	}
	w.end()
}

func (e *oracle) source() {
	r := &e.rec
	w := &e.w
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
		return
	}
	w.obj(`"source":`)
	w.safe(`"address":`, r.clientIP)
	w.safe(`"ip":`, r.clientIP)
	w.num(`"port":`, r.clientPort)
	if !r.hasRequest {
		w.num(`"bytes":`, r.recv)
	}
	w.end()
}

// client is where the integration puts a connection log's client_ip and client_port
// (source.* carries them too, as on every other format).
func (e *oracle) client() {
	r := &e.rec
	w := &e.w
	w.obj(`"client":`)
	w.safe(`"address":`, r.clientIP)
	w.safe(`"ip":`, r.clientIP)
	w.num(`"port":`, r.clientPort)
	w.end()
}

func (e *oracle) destination() {
	r := &e.rec
	w := &e.w
	w.obj(`"destination":`)
	w.str(`"domain":`, r.domainName)
	w.num(`"port":`, r.listenerPort)
	if !r.hasRequest {
		w.num(`"bytes":`, r.sent)
	}
	w.end()
}

func (e *oracle) http() {
	r := &e.rec
	w := &e.w
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
		return
	}
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

func (e *oracle) url() {
	r := &e.rec
	w := &e.w
	w.obj(`"url":`)
	w.str(`"original":`, r.url)
	w.str(`"scheme":`, r.scheme)
	w.str(`"domain":`, r.domain)
	w.num(`"port":`, r.port)
	w.str(`"path":`, r.path)
	w.str(`"extension":`, r.extension)
	w.str(`"query":`, r.query)
	w.str(`"fragment":`, r.fragment)
	w.end()
}

func (e *oracle) tls() {
	r := &e.rec
	w := &e.w
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
}

// aws writes aws.elb (the fields every format shares, then the format's own) and aws.s3.
func (e *oracle) aws() {
	r := &e.rec
	w := &e.w
	w.obj(`"aws":`)
	w.obj(`"elb":`)
	w.str(`"name":`, r.elb)
	w.safe(`"type":`, r.typ)
	w.str(`"log_version":`, r.version)
	w.str(`"listener":`, r.listener)
	// "http or tcp", as the integration documents it and its dashboards group by it.
	if r.hasRequest {
		w.strConst(`"protocol":`, "http")
	} else {
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
	w.str(`"ssl_named_group":`, r.namedGroup) // the name the integration's pipeline writes
	w.str(`"tls_named_group":`, r.namedGroup) // the name its fields.yml maps
	switch r.format {
	case formatALB:
		e.albFields()
	case formatNLB:
		e.nlbFields()
	case formatConn:
		e.connFields()
	}
	w.end()
	w.rawMember(e.s3)
	w.end()
}

func (e *oracle) nlbFields() {
	r := &e.rec
	w := &e.w
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
	if r.tlsCreated != nil {
		w.key(`"tls_connection_creation_time":`)
		oldAppendTime(w, r.tlsCreated)
	}
}

func (e *oracle) connFields() {
	r := &e.rec
	w := &e.w
	w.str(`"connection_trace_id":`, r.connTrace)
	w.num(`"tls_handshake_latency":`, r.hsLatency)
	w.str(`"leaf_client_cert_subject":`, r.certSubject)
	w.str(`"leaf_client_cert_not_before":`, r.notBefore)
	w.str(`"leaf_client_cert_not_after":`, r.notAfter)
	w.str(`"leaf_client_cert_serial_number":`, r.serialNum)
	w.str(`"tls_verify_status":`, r.verifyStatus)
	w.str(`"tls_error_code":`, r.tlsErrorCode)
}

func (e *oracle) albFields() {
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

// oldAppendString appends s as a quoted JSON string. Invalid UTF-8 becomes U+FFFD so the
// document is always valid JSON (Elasticsearch rejects documents with broken UTF-8).
func oldAppendString(dst, s []byte) []byte {
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
