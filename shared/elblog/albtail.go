package elblog

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
	b = qs(b, `,"extension":"`, r.extension)
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
