package elblog

import (
	"bytes"
	"strconv"
)

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
	if r.ts != nil {
		w.key(`"end":`)
		appendTime(w, r.ts)
	}
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

// appendDoc writes the document of a parsed line, one ECS object after another, each by
// its own writer below. Objects whose fields are all absent are left out.
func (e *Encoder) appendDoc(dst, line []byte, offset int64) []byte {
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
		if e.albUsual() {
			w.b = e.albTail(w.b)
			return w.finish()
		}
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
func (e *Encoder) head(dst []byte, offset int64) {
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
func (e *Encoder) event(line []byte) {
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
		appendTime(w, r.reqCreation)
	case r.tlsCreated != nil:
		w.key(`"start":`)
		appendTime(w, r.tlsCreated)
	}
	w.key(`"end":`) // the integration sets event.end = @timestamp on every document
	appendTime(w, r.ts)
	if e.src.IncludeOriginal {
		w.key(`"original":`)
		w.b = appendString(w.b, line) // the line's own quotes always need escaping
	}
	w.end()
}

func (e *Encoder) source() {
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
func (e *Encoder) client() {
	r := &e.rec
	w := &e.w
	w.obj(`"client":`)
	w.safe(`"address":`, r.clientIP)
	w.safe(`"ip":`, r.clientIP)
	w.num(`"port":`, r.clientPort)
	w.end()
}

func (e *Encoder) destination() {
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

func (e *Encoder) http() {
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

func (e *Encoder) url() {
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

func (e *Encoder) tls() {
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
func (e *Encoder) aws() {
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

func (e *Encoder) nlbFields() {
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
		appendTime(w, r.tlsCreated)
	}
}

func (e *Encoder) connFields() {
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
