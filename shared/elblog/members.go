package elblog

import (
	"bytes"
	"slices"
)

// The members of a parsed line's document, object by object. Every key is a constant
// copied by putK (inlined, so its bytes are stores of immediates) and every value by
// put or str; a member that may be absent is written under its own nil check. Keys
// and values are written at the call site rather than by a helper taking both: such a
// helper is too large to be inlined, and a key that is not a constant where it is
// copied costs a memmove call again.

// constRoom bounds the bytes of a document that are neither values nor the per-object
// parts: keys and punctuation (ALB's, the most, are ~1,500 bytes).
const constRoom = 2048

// appendDoc writes the document of a parsed line, one ECS object after another.
func (e *Encoder) appendDoc(dst, line []byte, offset int64) []byte {
	r := &e.rec
	// Room for the whole document, so that put's and putK's windows fit: no value is
	// written more than four times (the connection log's client IP), and escaping,
	// which may need more, appends.
	b := slices.Grow(dst, e.room+4*len(line))
	// The offset is in the id and in log.offset: formatted once.
	off := formatOffset(&e.offset, offset)
	b = e.head(b, off)
	b = e.event(b, line)
	b = e.cloudLog(b, off)
	switch {
	case r.format == formatConn && r.connUsual(e.plain):
		return e.connBody(b)
	case r.format == formatNLB && e.nlbUsual():
		return e.nlbBody(b)
	case r.hasRequest && e.requestUsual(): // Classic ELB and ALB
		return e.requestBody(b)
	}
	b = e.source(b)
	if r.format == formatConn {
		b = e.client(b)
	}
	b = e.destination(b)
	if r.hasRequest {
		b = e.http(b)
		b = e.url(b)
		if v := r.userAgent; v != nil {
			b = append(e.str(putK(b, `,"user_agent":{"original":"`), v), '}')
		}
	}
	b = e.tls(b)
	if v := r.traceID; v != nil {
		b = append(e.str(putK(b, `,"trace":{"id":"`), v), '}')
	}
	b = e.aws(b)
	return append(b, '}')
}

// putTime appends a validated log time as RFC 3339 UTC, without quotes; NLB times have no "Z".
func putTime(b, ts []byte) []byte {
	b = put(b, ts)
	if ts[len(ts)-1] != 'Z' {
		b = append(b, 'Z')
	}
	return b
}

// head writes @timestamp, @metadata and event up to its category, and leaves event open.
func (e *Encoder) head(b, off []byte) []byte {
	r := &e.rec
	b = putTime(putK(b, `{"@timestamp":"`), r.ts)
	b = put(append(b, e.idHead...), off)
	switch {
	case r.format == formatConn:
		return putK(b, `"},"event":{"kind":"event","module":"aws","dataset":"aws.elb_connection_logs","category":["network"]`)
	case r.hasRequest:
		return putK(b, `"},"event":{"kind":"event","module":"aws","dataset":"aws.elb_logs","category":["web"]`)
	}
	return putK(b, `"},"event":{"kind":"event","module":"aws","dataset":"aws.elb_logs","category":["network"]`)
}

// event writes the rest of the event object opened by head, and closes it.
func (e *Encoder) event(b, line []byte) []byte {
	r := &e.rec
	switch {
	case r.status != nil && r.statusN < 400:
		b = putK(b, `,"outcome":"success"`)
	case r.status != nil:
		b = putK(b, `,"outcome":"failure"`)
	case r.verifyStatus != nil && bytes.Equal(r.verifyStatus, []byte("Success")):
		b = putK(b, `,"outcome":"success"`)
	case r.verifyStatus != nil && bytes.HasPrefix(r.verifyStatus, []byte("Failed")):
		b = putK(b, `,"outcome":"failure"`)
	}
	start := r.reqCreation
	if start == nil {
		start = r.tlsCreated
	}
	// The integration sets event.end = @timestamp on every document.
	if start != nil {
		b = putK(putTime(putK(b, `,"start":"`), start), `","end":"`)
	} else {
		b = putK(b, `,"end":"`)
	}
	b = append(putTime(b, r.ts), '"')
	if e.src.IncludeOriginal {
		b = appendString(putK(b, `,"original":`), line) // the line's own quotes always need escaping
	}
	return append(b, '}')
}

func (e *Encoder) source(b []byte) []byte {
	r := &e.rec
	b, m := open(b, `,"source":`)
	b = address(b, r.clientIP, r.clientPort)
	if v := r.recv; v != nil && !r.hasRequest {
		b = put(putK(b, `,"bytes":`), v)
	}
	return shut(b, m)
}

// client is where the integration puts a connection log's client_ip and client_port
// (source.* carries them too, as on every other format).
func (e *Encoder) client(b []byte) []byte {
	r := &e.rec
	b, m := open(b, `,"client":`)
	b = address(b, r.clientIP, r.clientPort)
	return shut(b, m)
}

// address writes source's and client's address, ip and port; ip was validated as an IP
// address (nothing to escape) and port as digits.
func address(b, ip, port []byte) []byte {
	if ip != nil {
		b = put(putK(b, `,"address":"`), ip)
		b = append(put(putK(b, `","ip":"`), ip), '"')
	}
	if port != nil {
		b = put(putK(b, `,"port":`), port)
	}
	return b
}

func (e *Encoder) destination(b []byte) []byte {
	r := &e.rec
	b, m := open(b, `,"destination":`)
	if v := r.domainName; v != nil {
		b = e.str(putK(b, `,"domain":"`), v)
	}
	if v := r.listenerPort; v != nil {
		b = put(putK(b, `,"port":`), v)
	}
	if v := r.sent; v != nil && !r.hasRequest {
		b = put(putK(b, `,"bytes":`), v)
	}
	return shut(b, m)
}

func (e *Encoder) http(b []byte) []byte {
	r := &e.rec
	b, h := open(b, `,"http":`)
	b, m := open(b, `,"request":`)
	if v := r.method; v != nil {
		b = e.str(putK(b, `,"method":"`), v)
	}
	if v := r.recv; v != nil {
		b = append(put(putK(b, `,"body":{"bytes":`), v), '}')
	}
	b = shut(b, m)
	b, m = open(b, `,"response":`)
	if v := r.status; v != nil {
		b = put(putK(b, `,"status_code":`), v)
	}
	if v := r.sent; v != nil {
		b = append(put(putK(b, `,"body":{"bytes":`), v), '}')
	}
	b = shut(b, m)
	if v := r.proto; v != nil {
		b = e.str(putK(b, `,"version":"`), v)
	}
	return shut(b, h)
}

func (e *Encoder) url(b []byte) []byte {
	r := &e.rec
	if r.url == nil {
		return b // splitURL found no parts either
	}
	b = e.str(putK(b, `,"url":{"original":"`), r.url) // never empty: no mark/shut
	if v := r.scheme; v != nil {
		b = e.str(putK(b, `,"scheme":"`), v)
	}
	if v := r.domain; v != nil {
		b = e.str(putK(b, `,"domain":"`), v)
	}
	if v := r.port; v != nil {
		b = put(putK(b, `,"port":`), v)
	}
	if v := r.path; v != nil {
		b = e.str(putK(b, `,"path":"`), v)
	}
	if v := r.extension; v != nil {
		b = e.str(putK(b, `,"extension":"`), v)
	}
	if v := r.query; v != nil {
		b = e.str(putK(b, `,"query":"`), v)
	}
	if v := r.fragment; v != nil {
		b = e.str(putK(b, `,"fragment":"`), v)
	}
	return append(b, '}')
}

func (e *Encoder) tls(b []byte) []byte {
	r := &e.rec
	b, m := open(b, `,"tls":`)
	if v := r.cipher; v != nil {
		b = e.str(putK(b, `,"cipher":"`), v)
	}
	if v, p := r.tlsVersion, r.tlsProtocol; v != "" {
		// Both are three bytes (tlsVersion's constants): appended as three, not by memmove.
		b = append(putK(b, `,"version":"`), v[0], v[1], v[2])
		b = append(putK(b, `","version_protocol":"`), p[0], p[1], p[2], '"')
	}
	if r.format == formatConn {
		var c, x mark // declared here: b, c := open(…) in this block would shadow b
		b, c = open(b, `,"client":`)
		b, x = open(b, `,"x509":`)
		if v := r.certSubject; v != nil {
			b = append(e.str(putK(b, `,"subject":{"distinguished_name":"`), v), '}')
		}
		if v := r.serialNum; v != nil {
			b = e.str(putK(b, `,"serial_number":"`), v)
		}
		if v := r.notBefore; v != nil {
			b = e.str(putK(b, `,"not_before":"`), v)
		}
		if v := r.notAfter; v != nil {
			b = e.str(putK(b, `,"not_after":"`), v)
		}
		b = shut(b, x)
		b = shut(b, c)
	}
	return shut(b, m)
}

// aws writes aws.elb (the fields every format shares, then the format's own) and aws.s3.
func (e *Encoder) aws(b []byte) []byte {
	r := &e.rec
	b, elb := open(b, `,"aws":{"elb":`)
	if v := r.elb; v != nil {
		b = e.str(putK(b, `,"name":"`), v)
	}
	if v := r.typ; v != nil { // a type word the parser matched: nothing to escape
		b = append(put(putK(b, `,"type":"`), v), '"')
	}
	if v := r.version; v != nil {
		b = e.str(putK(b, `,"log_version":"`), v)
	}
	if v := r.listener; v != nil {
		b = e.str(putK(b, `,"listener":"`), v)
	}
	// "http or tcp", as the integration documents it and its dashboards group by it.
	if r.hasRequest {
		b = putK(b, `,"protocol":"http"`)
	} else {
		b = putK(b, `,"protocol":"tcp"`)
	}
	if v := r.rpt; v != nil {
		b = append(put(putK(b, `,"request_processing_time":{"sec":`), v), '}')
	}
	if v := r.bpt; v != nil {
		b = append(put(putK(b, `,"backend_processing_time":{"sec":`), v), '}')
	}
	if v := r.rspt; v != nil {
		b = append(put(putK(b, `,"response_processing_time":{"sec":`), v), '}')
	}
	b, be := open(b, `,"backend":`)
	if v := r.backendIP; v != nil {
		b = append(put(putK(b, `,"ip":"`), v), '"')
	}
	if v := r.backendPrt; v != nil {
		b = put(putK(b, `,"port":`), v)
	}
	if v := r.backendStatus; v != nil {
		b = putK(put(putK(b, `,"http":{"response":{"status_code":`), v), "}}")
	}
	b = shut(b, be)
	if v := r.cipher; v != nil {
		b = e.str(putK(b, `,"ssl_cipher":"`), v)
	}
	if v := r.sslProto; v != nil {
		b = e.str(putK(b, `,"ssl_protocol":"`), v)
	}
	if v := r.namedGroup; v != nil {
		b = e.str(putK(b, `,"ssl_named_group":"`), v) // the name the integration's pipeline writes
		b = e.str(putK(b, `,"tls_named_group":"`), v) // the name its fields.yml maps
	}
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
	if v := r.connTime; v != nil {
		b = append(put(putK(b, `,"connection_time":{"ms":`), v), '}')
	}
	if v := r.tlsHandshake; v != nil {
		b = append(put(putK(b, `,"tls_handshake_time":{"ms":`), v), '}')
	}
	if v := r.alert; v != nil {
		b = e.str(putK(b, `,"incoming_tls_alert":"`), v)
	}
	if v := r.alpnFE; v != nil {
		b = e.str(putK(b, `,"alpn_fe_protocol":"`), v)
	}
	if v := r.alpnBE; v != nil {
		b = e.str(putK(b, `,"alpn_be_protocol":"`), v)
	}
	if v := r.alpnList; v != nil {
		b = e.quotedList(putK(b, `,"alpn_client_preference_list":[`), v)
	}
	if v := r.tlsCreated; v != nil {
		b = append(putTime(putK(b, `,"tls_connection_creation_time":"`), v), '"')
	}
	return b
}

// chosenCert is ALB's and NLB's chosen_cert object.
func (e *Encoder) chosenCert(b []byte) []byte {
	r := &e.rec
	if r.certArn != nil && r.certSerial == nil { // ALB's always, most of NLB's: no mark/shut
		return append(e.str(putK(b, `,"chosen_cert":{"arn":"`), r.certArn), '}')
	}
	b, m := open(b, `,"chosen_cert":`)
	if v := r.certArn; v != nil {
		b = e.str(putK(b, `,"arn":"`), v)
	}
	if v := r.certSerial; v != nil {
		b = e.str(putK(b, `,"serial":"`), v)
	}
	return shut(b, m)
}

func (e *Encoder) connFields(b []byte) []byte {
	r := &e.rec
	if v := r.connTrace; v != nil {
		b = e.str(putK(b, `,"connection_trace_id":"`), v)
	}
	if v := r.hsLatency; v != nil {
		b = put(putK(b, `,"tls_handshake_latency":`), v)
	}
	if v := r.certSubject; v != nil {
		b = e.str(putK(b, `,"leaf_client_cert_subject":"`), v)
	}
	if v := r.notBefore; v != nil {
		b = e.str(putK(b, `,"leaf_client_cert_not_before":"`), v)
	}
	if v := r.notAfter; v != nil {
		b = e.str(putK(b, `,"leaf_client_cert_not_after":"`), v)
	}
	if v := r.serialNum; v != nil {
		b = e.str(putK(b, `,"leaf_client_cert_serial_number":"`), v)
	}
	if v := r.verifyStatus; v != nil {
		b = e.str(putK(b, `,"tls_verify_status":"`), v)
	}
	if v := r.tlsErrorCode; v != nil {
		b = e.str(putK(b, `,"tls_error_code":"`), v)
	}
	return b
}

func (e *Encoder) albFields(b []byte) []byte {
	r := &e.rec
	if v := r.tgArn; v != nil {
		b = append(e.str(putK(b, `,"target_group":{"arn":"`), v), '}')
	}
	if v := r.traceID; v != nil {
		b = e.str(putK(b, `,"trace_id":"`), v)
	}
	b = e.chosenCert(b)
	if v := r.priority; v != nil {
		b = put(putK(b, `,"matched_rule_priority":`), v)
	}
	if v := r.actions; v != nil {
		b = e.list(putK(b, `,"action_executed":[`), v, ',', false)
	}
	if v := r.redirect; v != nil {
		b = e.str(putK(b, `,"redirect_url":"`), v)
	}
	if v := r.errReason; v != nil {
		b = append(e.str(putK(b, `,"error":{"reason":"`), v), '}')
	}
	if v := r.targetList; v != nil {
		b = e.list(putK(b, `,"target_port":[`), v, ' ', false)
	}
	if v := r.targetStatusList; v != nil {
		b = e.list(putK(b, `,"target_status_code":[`), v, ' ', false)
	}
	if v := r.class; v != nil {
		b = e.str(putK(b, `,"classification":"`), v)
	}
	if v := r.classReason; v != nil {
		b = e.str(putK(b, `,"classification_reason":"`), v)
	}
	if v := r.connTrace; v != nil {
		b = e.str(putK(b, `,"connection_trace_id":"`), v)
	}
	if v := r.tHost; v != nil {
		b = e.str(putK(b, `,"transformed_host":"`), v)
	}
	if v := r.tURI; v != nil {
		b = e.str(putK(b, `,"transformed_uri":"`), v)
	}
	if v := r.tStatus; v != nil {
		b = e.str(putK(b, `,"request_transform_status":"`), v)
	}
	return b
}
