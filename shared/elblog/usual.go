package elblog

// The usual line of a format, written as what it is: a fixed run of constants and
// values. When every field such a line has is present and the values copied as they
// are need no escaping, the keys and punctuation between two values are always the
// same, so they are one
// constant (one or two putK) instead of a member's key, its closing quote or brace and
// the mark/shut of its object, each under its own nil check. The general writers of
// members.go write every other line, and the two are held to the same bytes by
// TestDirectWriterMatchesOracle (every generated line, and each with every field in
// turn absent, which takes it off this path) and FuzzDirectWriter.

// connUsual reports whether a connection log line is the usual one: nothing to escape,
// every field present but the client certificate's four, which are all there (mutual
// TLS) or all absent, and the TLS error code (only a failed verification has one).
func (r *record) connUsual(plain bool) bool {
	cert := r.certSubject != nil
	return plain && r.clientIP != nil && r.clientPort != nil && r.listenerPort != nil &&
		r.cipher != nil && r.tlsVersion != "" && r.hsLatency != nil && r.verifyStatus != nil &&
		r.connTrace != nil &&
		(r.notBefore != nil) == cert && (r.notAfter != nil) == cert && (r.serialNum != nil) == cert
}

// connBody writes a usual connection log line's document from source to its end: what
// source, client, destination, tls and aws write for it.
func (e *Encoder) connBody(b []byte) []byte {
	r := &e.rec
	ip, port, v, p := r.clientIP, r.clientPort, r.tlsVersion, r.tlsProtocol
	cert := r.certSubject != nil
	b = put(putK(b, `,"source":{"address":"`), ip)
	b = put(putK(b, `","ip":"`), ip)
	b = put(putK(b, `","port":`), port)
	b = put(putK(b, `},"client":{"address":"`), ip)
	b = put(putK(b, `","ip":"`), ip)
	b = put(putK(b, `","port":`), port)
	b = put(putK(b, `},"destination":{"port":`), r.listenerPort)
	b = put(putK(b, `},"tls":{"cipher":"`), r.cipher)
	b = append(putK(b, `","version":"`), v[0], v[1], v[2]) // three bytes, as in tls
	b = append(putK(b, `","version_protocol":"`), p[0], p[1], p[2])
	if cert {
		b = putLong(putK(putK(b, `","client":{"x509":`), `{"subject":{"distinguished_name":"`), r.certSubject)
		b = put(putK(b, `"},"serial_number":"`), r.serialNum)
		b = put(putK(b, `","not_before":"`), r.notBefore)
		b = put(putK(b, `","not_after":"`), r.notAfter)
		b = putK(b, `"}}`)
	} else {
		b = append(b, '"')
	}
	b = put(putK(b, `},"aws":{"elb":{"listener":"`), r.listenerPort)
	b = put(putK(b, `","protocol":"tcp","ssl_cipher":"`), r.cipher)
	b = put(putK(b, `","ssl_protocol":"`), r.sslProto)
	b = putLong(putK(b, `","connection_trace_id":"`), r.connTrace)
	b = put(putK(b, `","tls_handshake_latency":`), r.hsLatency)
	if cert {
		b = putLong(putK(b, `,"leaf_client_cert_subject":"`), r.certSubject)
		b = put(putK(putK(b, `","leaf_client_cert_`), `not_before":"`), r.notBefore)
		b = put(putK(b, `","leaf_client_cert_not_after":"`), r.notAfter)
		b = put(putK(putK(b, `","leaf_client_cert_`), `serial_number":"`), r.serialNum)
		b = append(b, '"')
	}
	b = put(putK(b, `,"tls_verify_status":"`), r.verifyStatus)
	if c := r.tlsErrorCode; c != nil {
		b = put(putK(b, `","tls_error_code":"`), c)
	}
	b = append(putK(b, `"},`), e.s3...)
	return putK(b, `}}`)
}

// requestUsual reports whether a Classic ELB or ALB line is the usual one: an HTTP
// request, nothing to escape but in the user agent (a sixth of them quote something,
// \"), every field of source, http, user_agent and the head of aws.elb present, and TLS
// either logged whole (cipher, a protocol tlsVersion knows) or not at all.
func (e *Encoder) requestUsual() bool {
	r := &e.rec
	tls := r.cipher != nil
	return r.hasRequest && r.clientIP != nil && r.clientPort != nil &&
		r.method != nil && r.recv != nil && r.status != nil && r.sent != nil && r.proto != nil &&
		r.userAgent != nil && r.elb != nil && r.rpt != nil && r.bpt != nil && r.rspt != nil &&
		r.backendIP != nil && r.backendPrt != nil && r.backendStatus != nil &&
		(r.sslProto != nil) == tls && (r.tlsVersion != "") == tls &&
		(e.plain || e.dirtyWithin(r.userAgent))
}

// requestBody writes a usual Classic ELB or ALB line's document from source to its end:
// what source, destination, http, url, user_agent, tls, trace and aws write for it. The
// URL's parts and ALB's own fields vary from line to line, and are written by url and
// albFields.
func (e *Encoder) requestBody(b []byte) []byte {
	r := &e.rec
	alb := r.format == formatALB
	b = put(putK(b, `,"source":{"address":"`), r.clientIP)
	b = put(putK(b, `","ip":"`), r.clientIP)
	b = put(putK(b, `","port":`), r.clientPort)
	b = append(b, '}')
	if v := r.domainName; v != nil {
		b = append(putLong(putK(b, `,"destination":{"domain":"`), v), '"', '}')
	}
	b = put(putK(b, `,"http":{"request":{"method":"`), r.method)
	b = put(putK(b, `","body":{"bytes":`), r.recv)
	b = put(putK(b, `}},"response":{"status_code":`), r.status)
	b = put(putK(b, `,"body":{"bytes":`), r.sent)
	b = put(putK(b, `}},"version":"`), r.proto)
	b = putK(b, `"}`)
	b = e.url(b)
	b = append(e.str(putK(b, `,"user_agent":{"original":"`), r.userAgent), '}')
	if v, p := r.tlsVersion, r.tlsProtocol; v != "" {
		b = putLong(putK(b, `,"tls":{"cipher":"`), r.cipher)
		b = append(putK(b, `","version":"`), v[0], v[1], v[2]) // three bytes, as in tls
		b = append(putK(b, `","version_protocol":"`), p[0], p[1], p[2], '"', '}')
	}
	if v := r.traceID; v != nil {
		b = putK(putLong(putK(b, `,"trace":{"id":"`), v), `"}`)
	}
	b = putLong(putK(b, `,"aws":{"elb":{"name":"`), r.elb)
	if alb {
		b = put(putK(b, `","type":"`), r.typ)
	}
	b = put(putK(putK(b, `","protocol":"http",`), `"request_processing_time":{"sec":`), r.rpt)
	b = put(putK(b, `},"backend_processing_time":{"sec":`), r.bpt)
	b = put(putK(b, `},"response_processing_time":{"sec":`), r.rspt)
	b = put(putK(b, `},"backend":{"ip":"`), r.backendIP)
	b = put(putK(b, `","port":`), r.backendPrt)
	b = put(putK(b, `,"http":{"response":{"status_code":`), r.backendStatus)
	b = putK(b, `}}}`)
	if r.tlsVersion != "" {
		b = putLong(putK(b, `,"ssl_cipher":"`), r.cipher)
		b = append(put(putK(b, `","ssl_protocol":"`), r.sslProto), '"')
	}
	if alb {
		b = e.albFields(b)
	}
	b = append(putK(b, `},`), e.s3...)
	return putK(b, `}}`)
}

// nlbUsual reports whether an NLB line is the usual one: the fields of source,
// destination and the head of aws.elb present, the strings among them with nothing to
// escape (an NLB line is often not plain: its ALPN list is quoted names).
func (e *Encoder) nlbUsual() bool {
	r := &e.rec
	return r.clientIP != nil && r.clientPort != nil && r.recv != nil && r.sent != nil &&
		r.elb != nil && r.version != nil && r.listener != nil && r.backendIP != nil &&
		r.backendPrt != nil && e.clean(r.elb) && e.clean(r.version) && e.clean(r.listener)
}

// nlbBody writes a usual NLB line's document from source to its end: what source,
// destination, tls and aws write for it, the optional members under their own checks.
func (e *Encoder) nlbBody(b []byte) []byte {
	r := &e.rec
	b = put(putK(b, `,"source":{"address":"`), r.clientIP)
	b = put(putK(b, `","ip":"`), r.clientIP)
	b = put(putK(b, `","port":`), r.clientPort)
	b = put(putK(b, `,"bytes":`), r.recv)
	if v := r.domainName; v != nil {
		b = putK(e.str(putK(b, `},"destination":{"domain":"`), v), `,"bytes":`)
	} else {
		b = putK(b, `},"destination":{"bytes":`)
	}
	b = append(put(b, r.sent), '}')
	if v, p := r.tlsVersion, r.tlsProtocol; r.cipher != nil && v != "" { // what tls writes for them
		b = e.str(putK(b, `,"tls":{"cipher":"`), r.cipher)
		b = append(putK(b, `,"version":"`), v[0], v[1], v[2])
		b = append(putK(b, `","version_protocol":"`), p[0], p[1], p[2], '"', '}')
	} else {
		b = e.tls(b)
	}
	b = putLong(putK(b, `,"aws":{"elb":{"name":"`), r.elb)
	b = put(putK(b, `","type":"`), r.typ)
	b = put(putK(b, `","log_version":"`), r.version)
	b = put(putK(b, `","listener":"`), r.listener)
	b = put(putK(b, `","protocol":"tcp","backend":{"ip":"`), r.backendIP)
	b = append(put(putK(b, `","port":`), r.backendPrt), '}')
	if v := r.cipher; v != nil {
		b = e.str(putK(b, `,"ssl_cipher":"`), v)
	}
	if v := r.sslProto; v != nil {
		b = e.str(putK(b, `,"ssl_protocol":"`), v)
	}
	if v := r.namedGroup; v != nil {
		b = e.str(putK(b, `,"ssl_named_group":"`), v)
		b = e.str(putK(b, `,"tls_named_group":"`), v)
	}
	b = e.nlbFields(b)
	b = append(putK(b, `},`), e.s3...)
	return putK(b, `}}`)
}
