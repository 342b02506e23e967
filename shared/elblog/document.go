package elblog

import (
	"bytes"
	"strconv"
)

// Documents are written straight into the caller's buffer, member after member, with
// no writer state: every member is appended with its leading comma, and an object that
// may turn out empty is bracketed by mark/shut, which turn the first member's comma into
// the object's '{' or take the object back out if nothing was written in it. That costs
// one comparison per object instead of a writer's bookkeeping per member (which cost as
// much as the copying). The member order is the one oldwriter_test.go's old writer had;
// TestDirectWriterMatchesOracle and FuzzDirectWriter hold the two to the same bytes.

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

// mark remembers where an object member began (start) and where its members begin (body).
type mark struct{ start, body int }

// open appends k (`,"name":`) and marks the object that follows it.
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
	off := strconv.AppendInt(e.offset[:0], offset, 10)
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
	b = append(b, off...)
	return append(b, '}')
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

// s appends a string member if v is present; k is `,"name":"` (the value's opening quote
// included). v is escaped unless the whole line was found to need none.
func (e *Encoder) s(b []byte, k string, v []byte) []byte {
	if v == nil {
		return b
	}
	// Small enough to be inlined, so that k is a constant there and its copy is a few
	// moves rather than a call; the value's copy is the call.
	return e.value(append(b, k...), v)
}

// value appends v, escaped unless the line needed none, and the closing quote. It is
// kept out of line so that s stays within the inliner's budget.
//
//go:noinline
func (e *Encoder) value(b, v []byte) []byte {
	if e.plain {
		b = append(b, v...)
	} else {
		b = appendEscaped(b, v)
	}
	return append(b, '"')
}

// sIn is s for a member of one-member objects: k opens them (`,"trace":{"id":"`) and
// closers ends them.
func (e *Encoder) sIn(b []byte, k string, v []byte, closers string) []byte {
	if v == nil {
		return b
	}
	return append(e.s(b, k, v), closers...)
}

// safe appends a string member the parser validated as needing no escaping (IPs, type
// words); k is `,"name":"`.
func safe(b []byte, k string, v []byte) []byte {
	if v == nil {
		return b
	}
	b = append(b, k...)
	b = append(b, v...)
	return append(b, '"')
}

// n appends a member whose value the parser validated as a JSON number; k is `,"name":`.
func n(b []byte, k string, v []byte) []byte {
	if v == nil {
		return b
	}
	b = append(b, k...)
	return append(b, v...)
}

// nIn is n in one-member objects: k opens them, closers ends them.
func nIn(b []byte, k string, v []byte, closers string) []byte {
	if v == nil {
		return b
	}
	b = append(b, k...)
	b = append(b, v...)
	return append(b, closers...)
}

// list appends v split on sep as an array of strings (k is `,"name":[`); trimQuotes drops
// the quotes of NLB's "h2","http/1.1" items.
func (e *Encoder) list(b []byte, k string, v []byte, sep byte, trimQuotes bool) []byte {
	if v == nil {
		return b
	}
	b = append(b, k...)
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
		b = append(b, '"')
		if e.plain {
			b = append(b, item...)
		} else {
			b = appendEscaped(b, item)
		}
		b = append(b, '"')
		if j < 0 {
			break
		}
		v = v[j+1:]
	}
	return append(b, ']')
}

// appendDoc writes the document of a parsed line, one ECS object after another.
func (e *Encoder) appendDoc(dst, line []byte, offset int64) []byte {
	r := &e.rec
	// The offset is in the id and in log.offset: formatted once.
	off := strconv.AppendInt(e.offset[:0], offset, 10)
	b := e.head(dst, off)
	b = e.event(b, line)
	b = e.cloudLog(b, off)
	b = e.source(b)
	if r.format == formatConn {
		b = e.client(b)
	}
	b = e.destination(b)
	if r.hasRequest {
		b = e.http(b)
		b = e.url(b)
		b = e.sIn(b, `,"user_agent":{"original":"`, r.userAgent, "}")
	}
	b = e.tls(b)
	b = e.sIn(b, `,"trace":{"id":"`, r.traceID, "}")
	b = e.aws(b)
	return append(b, '}')
}

// head writes @timestamp, @metadata and event up to its category, and leaves event open.
func (e *Encoder) head(dst, off []byte) []byte {
	r := &e.rec
	b := append(dst, `{"@timestamp":"`...)
	b = append(b, r.ts...)
	if r.ts[len(r.ts)-1] != 'Z' {
		b = append(b, 'Z')
	}
	b = append(b, `","@metadata":{"_id":"`...)
	b = append(b, e.idPrefix...)
	b = append(b, off...)
	if r.format == formatConn {
		b = append(b, `"},"event":{"kind":"event","module":"aws","dataset":"aws.elb_connection_logs","category":`...)
	} else {
		b = append(b, `"},"event":{"kind":"event","module":"aws","dataset":"aws.elb_logs","category":`...)
	}
	if r.hasRequest {
		return append(b, `["web"]`...)
	}
	return append(b, `["network"]`...)
}

// event writes the rest of the event object opened by head, and closes it.
func (e *Encoder) event(b, line []byte) []byte {
	r := &e.rec
	switch {
	case r.status != nil && r.statusN < 400:
		b = append(b, `,"outcome":"success"`...)
	case r.status != nil:
		b = append(b, `,"outcome":"failure"`...)
	case r.verifyStatus != nil && bytes.Equal(r.verifyStatus, []byte("Success")):
		b = append(b, `,"outcome":"success"`...)
	case r.verifyStatus != nil && bytes.HasPrefix(r.verifyStatus, []byte("Failed")):
		b = append(b, `,"outcome":"failure"`...)
	}
	switch {
	case r.reqCreation != nil:
		b = append(b, `,"start":`...)
		b = appendTime(b, r.reqCreation)
	case r.tlsCreated != nil:
		b = append(b, `,"start":`...)
		b = appendTime(b, r.tlsCreated)
	}
	b = append(b, `,"end":`...) // the integration sets event.end = @timestamp on every document
	b = appendTime(b, r.ts)
	if e.src.IncludeOriginal {
		b = append(b, `,"original":`...)
		b = appendString(b, line) // the line's own quotes always need escaping
	}
	return append(b, '}')
}

func (e *Encoder) source(b []byte) []byte {
	r := &e.rec
	if r.clientIP != nil && r.clientPort != nil {
		// The usual case, written in one go.
		b = append(b, `,"source":{"address":"`...)
		b = append(b, r.clientIP...)
		b = append(b, `","ip":"`...)
		b = append(b, r.clientIP...)
		b = append(b, `","port":`...)
		b = append(b, r.clientPort...)
		if !r.hasRequest && r.recv != nil {
			b = append(b, `,"bytes":`...)
			b = append(b, r.recv...)
		}
		return append(b, '}')
	}
	b, m := open(b, `,"source":`)
	b = safe(b, `,"address":"`, r.clientIP)
	b = safe(b, `,"ip":"`, r.clientIP)
	b = n(b, `,"port":`, r.clientPort)
	if !r.hasRequest {
		b = n(b, `,"bytes":`, r.recv)
	}
	return shut(b, m)
}

// client is where the integration puts a connection log's client_ip and client_port
// (source.* carries them too, as on every other format).
func (e *Encoder) client(b []byte) []byte {
	r := &e.rec
	b, m := open(b, `,"client":`)
	b = safe(b, `,"address":"`, r.clientIP)
	b = safe(b, `,"ip":"`, r.clientIP)
	b = n(b, `,"port":`, r.clientPort)
	return shut(b, m)
}

func (e *Encoder) destination(b []byte) []byte {
	r := &e.rec
	b, m := open(b, `,"destination":`)
	b = e.s(b, `,"domain":"`, r.domainName)
	b = n(b, `,"port":`, r.listenerPort)
	if !r.hasRequest {
		b = n(b, `,"bytes":`, r.sent)
	}
	return shut(b, m)
}

func (e *Encoder) http(b []byte) []byte {
	r := &e.rec
	if r.method != nil && r.recv != nil && r.status != nil && r.sent != nil && r.proto != nil {
		// The usual case, written in one go.
		b = e.s(b, `,"http":{"request":{"method":"`, r.method)
		b = append(b, `,"body":{"bytes":`...)
		b = append(b, r.recv...)
		b = append(b, `}},"response":{"status_code":`...)
		b = append(b, r.status...)
		b = append(b, `,"body":{"bytes":`...)
		b = append(b, r.sent...)
		b = e.s(b, `}},"version":"`, r.proto)
		return append(b, '}')
	}
	b, h := open(b, `,"http":`)
	b, m := open(b, `,"request":`)
	b = e.s(b, `,"method":"`, r.method)
	b = nIn(b, `,"body":{"bytes":`, r.recv, "}")
	b = shut(b, m)
	b, m = open(b, `,"response":`)
	b = n(b, `,"status_code":`, r.status)
	b = nIn(b, `,"body":{"bytes":`, r.sent, "}")
	b = shut(b, m)
	b = e.s(b, `,"version":"`, r.proto)
	return shut(b, h)
}

func (e *Encoder) url(b []byte) []byte {
	r := &e.rec
	b, m := open(b, `,"url":`)
	b = e.s(b, `,"original":"`, r.url)
	b = e.s(b, `,"scheme":"`, r.scheme)
	b = e.s(b, `,"domain":"`, r.domain)
	b = n(b, `,"port":`, r.port)
	b = e.s(b, `,"path":"`, r.path)
	b = e.s(b, `,"extension":"`, r.extension)
	b = e.s(b, `,"query":"`, r.query)
	b = e.s(b, `,"fragment":"`, r.fragment)
	return shut(b, m)
}

func (e *Encoder) tls(b []byte) []byte {
	r := &e.rec
	b, m := open(b, `,"tls":`)
	b = e.s(b, `,"cipher":"`, r.cipher)
	if r.tlsVersion != "" {
		b = append(b, `,"version":"`...)
		b = append(b, r.tlsVersion...)
		b = append(b, `","version_protocol":"`...)
		b = append(b, r.tlsProtocol...)
		b = append(b, '"')
	}
	if r.format == formatConn {
		var c, x mark // declared here: b, c := open(…) in this block would shadow b
		b, c = open(b, `,"client":`)
		b, x = open(b, `,"x509":`)
		b = e.sIn(b, `,"subject":{"distinguished_name":"`, r.certSubject, "}")
		b = e.s(b, `,"serial_number":"`, r.serialNum)
		b = e.s(b, `,"not_before":"`, r.notBefore)
		b = e.s(b, `,"not_after":"`, r.notAfter)
		b = shut(b, x)
		b = shut(b, c)
	}
	return shut(b, m)
}

// aws writes aws.elb (the fields every format shares, then the format's own) and aws.s3.
func (e *Encoder) aws(b []byte) []byte {
	r := &e.rec
	b, elb := open(b, `,"aws":{"elb":`)
	b = e.s(b, `,"name":"`, r.elb)
	b = safe(b, `,"type":"`, r.typ)
	b = e.s(b, `,"log_version":"`, r.version)
	b = e.s(b, `,"listener":"`, r.listener)
	// "http or tcp", as the integration documents it and its dashboards group by it.
	if r.hasRequest {
		b = append(b, `,"protocol":"http"`...)
	} else {
		b = append(b, `,"protocol":"tcp"`...)
	}
	b = nIn(b, `,"request_processing_time":{"sec":`, r.rpt, "}")
	b = nIn(b, `,"backend_processing_time":{"sec":`, r.bpt, "}")
	b = nIn(b, `,"response_processing_time":{"sec":`, r.rspt, "}")
	b, be := open(b, `,"backend":`)
	b = safe(b, `,"ip":"`, r.backendIP)
	b = n(b, `,"port":`, r.backendPrt)
	b = nIn(b, `,"http":{"response":{"status_code":`, r.backendStatus, "}}")
	b = shut(b, be)
	b = e.s(b, `,"ssl_cipher":"`, r.cipher)
	b = e.s(b, `,"ssl_protocol":"`, r.sslProto)
	b = e.s(b, `,"ssl_named_group":"`, r.namedGroup) // the name the integration's pipeline writes
	b = e.s(b, `,"tls_named_group":"`, r.namedGroup) // the name its fields.yml maps
	switch r.format {
	case formatALB:
		b = e.albFields(b)
	case formatNLB:
		b = e.nlbFields(b)
	case formatConn:
		b = e.connFields(b)
	}
	b = shut(b, elb)
	b = append(b, ',')
	b = append(b, e.s3...)
	return append(b, '}')
}

func (e *Encoder) nlbFields(b []byte) []byte {
	r := &e.rec
	b = e.chosenCert(b)
	b = nIn(b, `,"connection_time":{"ms":`, r.connTime, "}")
	b = nIn(b, `,"tls_handshake_time":{"ms":`, r.tlsHandshake, "}")
	b = e.s(b, `,"incoming_tls_alert":"`, r.alert)
	b = e.s(b, `,"alpn_fe_protocol":"`, r.alpnFE)
	b = e.s(b, `,"alpn_be_protocol":"`, r.alpnBE)
	b = e.list(b, `,"alpn_client_preference_list":[`, r.alpnList, ',', true)
	if r.tlsCreated != nil {
		b = append(b, `,"tls_connection_creation_time":`...)
		b = appendTime(b, r.tlsCreated)
	}
	return b
}

// chosenCert is ALB's and NLB's chosen_cert object.
func (e *Encoder) chosenCert(b []byte) []byte {
	r := &e.rec
	b, m := open(b, `,"chosen_cert":`)
	b = e.s(b, `,"arn":"`, r.certArn)
	b = e.s(b, `,"serial":"`, r.certSerial)
	return shut(b, m)
}

func (e *Encoder) connFields(b []byte) []byte {
	r := &e.rec
	b = e.s(b, `,"connection_trace_id":"`, r.connTrace)
	b = n(b, `,"tls_handshake_latency":`, r.hsLatency)
	b = e.s(b, `,"leaf_client_cert_subject":"`, r.certSubject)
	b = e.s(b, `,"leaf_client_cert_not_before":"`, r.notBefore)
	b = e.s(b, `,"leaf_client_cert_not_after":"`, r.notAfter)
	b = e.s(b, `,"leaf_client_cert_serial_number":"`, r.serialNum)
	b = e.s(b, `,"tls_verify_status":"`, r.verifyStatus)
	return e.s(b, `,"tls_error_code":"`, r.tlsErrorCode)
}

func (e *Encoder) albFields(b []byte) []byte {
	r := &e.rec
	b = e.sIn(b, `,"target_group":{"arn":"`, r.tgArn, "}")
	b = e.s(b, `,"trace_id":"`, r.traceID)
	b = e.chosenCert(b)
	b = n(b, `,"matched_rule_priority":`, r.priority)
	b = e.list(b, `,"action_executed":[`, r.actions, ',', false)
	b = e.s(b, `,"redirect_url":"`, r.redirect)
	b = e.sIn(b, `,"error":{"reason":"`, r.errReason, "}")
	b = e.list(b, `,"target_port":[`, r.targetList, ' ', false)
	b = e.list(b, `,"target_status_code":[`, r.targetStatusList, ' ', false)
	b = e.s(b, `,"classification":"`, r.class)
	b = e.s(b, `,"classification_reason":"`, r.classReason)
	b = e.s(b, `,"connection_trace_id":"`, r.connTrace)
	b = e.s(b, `,"transformed_host":"`, r.tHost)
	b = e.s(b, `,"transformed_uri":"`, r.tURI)
	return e.s(b, `,"request_transform_status":"`, r.tStatus)
}
