package elblog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

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
	n, dirty, err := tokenize(line, &e.fields)
	if err != nil {
		return err
	}
	e.plain, e.dirty, e.lineCap = dirty.empty(), dirty, cap(line)
	if n == 0 {
		return errEmpty
	}
	f := &e.fields
	switch first := f.get(0); {
	case isALBType(first):
		return e.parseALB(f)
	case string(first) == "tls":
		return e.parseNLB(f)
	case len(first) > 0 && first[0] >= '0' && first[0] <= '9':
		if f.n > 2 && isDigits(f.get(2)) {
			return e.parseConn(f)
		}
		return e.parseClassic(f)
	}
	return fmt.Errorf("not an ELB log line: first field %q is neither an ALB/NLB type nor a timestamp", clip(f.get(0)))
}

func isALBType(b []byte) bool {
	switch string(b) {
	case "http", "https", "h2", "grpcs", "ws", "wss":
		return true
	}
	return false
}

// opt returns nil for "-" and for an empty field.
func opt(b []byte) []byte {
	if len(b) == 0 || (len(b) == 1 && b[0] == '-') {
		return nil
	}
	return b
}

func field(f *fields, i int) []byte {
	return opt(f.get(i))
}

func (e *Encoder) need(f *fields, min int, what string) error {
	if f.n < min {
		return fmt.Errorf("%s line has %d fields, want at least %d (through %s)", e.rec.format, f.n, min, what)
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
	// Most are IPv4: read the address forward to its colon, and the port is the rest.
	if n, ok := ipv4Prefix(v); ok && n < len(v) && v[n] == ':' && isPort(v[n+1:]) {
		return v[:n], trimZeros(v[n+1:]), nil
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
	if len(v) == 8 && isMicros(binary.LittleEndian.Uint64(v)) {
		return v, nil // the usual processing time: three a Classic ELB or ALB line
	}
	v = opt(v)
	if v == nil || (minusOne && string(v) == "-1") {
		return nil, nil
	}
	if (v[0] != '0' || len(v) == 1) && isDigits(v) {
		return v, nil // an integer (NLB's times in milliseconds)
	}
	if !isJSONNumber(v) {
		return nil, fieldError(e.rec.format, name, v, "not a number")
	}
	return v, nil
}

// count is integer for byte counts, which Classic ELB logs as -1 when no backend
// answered: absent, like "-".
func (e *Encoder) count(name string, v []byte) ([]byte, error) {
	if string(v) == "-1" {
		return nil, nil
	}
	return e.integer(name, v)
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

func (e *Encoder) parseClassic(f *fields) error {
	r := &e.rec
	r.format = formatClassic
	if err := e.need(f, 12, "request"); err != nil {
		return err
	}
	return e.parseHTTPCommon(f, 0)
}

func (e *Encoder) parseALB(f *fields) error {
	r := &e.rec
	r.format = formatALB
	if err := e.need(f, 13, "request"); err != nil {
		return err
	}
	r.typ = f.get(0)
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

// parseHTTPCommon parses the fields Classic ELB and ALB share, starting at f.get(base) (the time).
func (e *Encoder) parseHTTPCommon(f *fields, base int) error {
	r := &e.rec
	var err error
	if err := e.parseTime("time", f.get(base), &r.time); err != nil {
		return err
	}
	r.ts = f.get(base)
	r.elb = field(f, base+1)
	if r.clientIP, r.clientPort, err = e.hostPort("client:port", f.get(base+2)); err != nil {
		return err
	}
	if r.backendIP, r.backendPrt, err = e.hostPort("backend:port", f.get(base+3)); err != nil {
		return err
	}
	if r.rpt, err = e.number("request_processing_time", f.get(base+4), true); err != nil {
		return err
	}
	if r.bpt, err = e.number("backend_processing_time", f.get(base+5), true); err != nil {
		return err
	}
	if r.rspt, err = e.number("response_processing_time", f.get(base+6), true); err != nil {
		return err
	}
	if r.status, err = e.integer("elb_status_code", f.get(base+7)); err != nil {
		return err
	}
	if r.status != nil {
		r.statusN = atoi(r.status)
	}
	if r.backendStatus, err = e.integer("backend_status_code", f.get(base+8)); err != nil {
		return err
	}
	if r.recv, err = e.count("received_bytes", f.get(base+9)); err != nil {
		return err
	}
	if r.sent, err = e.count("sent_bytes", f.get(base+10)); err != nil {
		return err
	}
	if err := e.request(f.get(base + 11)); err != nil {
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
	if len(u) >= 8 { // the usual schemes as one word each
		switch w := binary.LittleEndian.Uint64(u); {
		case w == httpsWord:
			n = len("https")
		case w&(1<<56-1) == httpWord:
			n = len("http")
		}
	}
	for n < len(u) && schemeBytes[u[n]] {
		n++
	}
	if n > 0 && len(u) >= n+3 && u[n] == ':' && u[n+1] == '/' && u[n+2] == '/' {
		r.scheme = u[:n]
		rest = u[n+3:]
		// One pass over the authority: where it ends, and its last '@', ':' and ']'.
		// A table lookup skips the other bytes: a switch per byte mispredicted.
		end, at, colon, bracket := len(rest), -1, -1, -1
	authority:
		for k, c := range rest {
			if !authorityBytes[c] {
				continue
			}
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
		r.extension = extension(rest)
	}
}

// extension is what follows the last '.' of a path's last segment (nil if none), as
// the integration's uri_parts processor sets url.extension.
func extension(path []byte) []byte {
	for i := len(path) - 1; i >= 0; i-- {
		switch path[i] {
		case '.':
			if i+1 == len(path) {
				return nil
			}
			return path[i+1:]
		case '/':
			return nil
		}
	}
	return nil
}

func isSchemeByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
}

// httpsWord and httpWord are "https://" and "http://" as splitURL loads them, little
// endian (TestSchemeWords).
const (
	httpsWord = 0x2f2f3a7370747468
	httpWord  = 0x002f2f3a70747468
)

// schemeBytes[c] is isSchemeByte(c); authorityBytes marks the bytes splitURL looks for
// in an authority.
var schemeBytes, authorityBytes = func() (s, a [256]bool) {
	for c := range 256 {
		s[c] = isSchemeByte(byte(c))
	}
	for _, c := range "/?#@:]" {
		a[c] = true
	}
	return s, a
}()

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

func (e *Encoder) parseNLB(f *fields) error {
	r := &e.rec
	r.format = formatNLB
	if err := e.need(f, 11, "sent_bytes"); err != nil {
		return err
	}
	var err error
	r.typ = f.get(0)
	r.version = field(f, 1)
	if err := e.parseTime("time", f.get(2), &r.time); err != nil {
		return err
	}
	r.ts = f.get(2)
	r.elb = field(f, 3)
	r.listener = field(f, 4)
	if r.clientIP, r.clientPort, err = e.hostPort("client:port", f.get(5)); err != nil {
		return err
	}
	if r.backendIP, r.backendPrt, err = e.hostPort("destination:port", f.get(6)); err != nil {
		return err
	}
	if r.connTime, err = e.number("connection_time", f.get(7), true); err != nil {
		return err
	}
	if r.tlsHandshake, err = e.number("tls_handshake_time", f.get(8), true); err != nil {
		return err
	}
	if r.recv, err = e.count("received_bytes", f.get(9)); err != nil {
		return err
	}
	if r.sent, err = e.count("sent_bytes", f.get(10)); err != nil {
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
		r.domainName = d
		if bytes.IndexByte(d, '%') >= 0 { // most names need no decoding, nor a copy
			e.scratch = percentDecode(e.scratch[:0], d)
			r.domainName = e.scratch
			if !plainText(e.scratch) {
				// The name needs escaping, and is not in the line, so the line's dirty
				// span cannot say so (nor would its offset there mean anything): every
				// value is escaped.
				e.plain, e.dirty = false, everySpan
			}
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

func (e *Encoder) parseConn(f *fields) error {
	r := &e.rec
	r.format = formatConn
	if err := e.need(f, 11, "tls_verify_status"); err != nil {
		return err
	}
	var err error
	if err := e.parseTime("time", f.get(0), &r.time); err != nil {
		return err
	}
	r.ts = f.get(0)
	if r.clientIP = opt(f.get(1)); r.clientIP != nil && !isIP(r.clientIP) {
		return fieldError(r.format, "client_ip", r.clientIP, "not an IP address")
	}
	if r.clientPort = opt(f.get(2)); r.clientPort != nil && !isPort(r.clientPort) {
		return fieldError(r.format, "client_port", r.clientPort, "bad port")
	}
	if r.listenerPort = opt(f.get(3)); r.listenerPort != nil && !isPort(r.listenerPort) {
		return fieldError(r.format, "listener_port", r.listenerPort, "bad port")
	}
	if r.clientPort != nil {
		r.clientPort = trimZeros(r.clientPort)
	}
	if r.listenerPort != nil {
		r.listenerPort = trimZeros(r.listenerPort)
		r.listener = r.listenerPort // the integration's aws.elb.listener: the port, as a keyword
	}
	r.sslProto = field(f, 4)
	r.tlsVersion, r.tlsProtocol = tlsVersion(r.sslProto)
	r.cipher = field(f, 5)
	if r.hsLatency, err = e.number("tls_handshake_latency", f.get(6), true); err != nil {
		return err
	}
	r.certSubject = field(f, 7)
	if v := field(f, 8); v != nil {
		var ok bool
		if r.notBefore, r.notAfter, ok = certValidity(v, &e.times); !ok {
			return fieldError(r.format, "leaf_client_cert_validity", v, "want NotBefore=<time>;NotAfter=<time>")
		}
	}
	r.serialNum = field(f, 9)
	// Success, or Failed:<code>: the integration keeps the two apart.
	if r.verifyStatus = field(f, 10); r.verifyStatus != nil {
		if i := bytes.IndexByte(r.verifyStatus, ':'); i >= 0 {
			r.verifyStatus, r.tlsErrorCode = opt(r.verifyStatus[:i]), opt(r.verifyStatus[i+1:])
		}
	}
	r.connTrace = field(f, 11)
	return nil
}

// certValidity splits NotBefore=2023-08-16T20:24:41Z;NotAfter=2024-08-15T20:24:41Z: each
// ;-separated part must be key=time, and the two keys' times are returned. Split by hand:
// bytes.SplitSeq and Cut cost more than the rest of the field's parsing.
func certValidity(v []byte, times *timeCache) (notBefore, notAfter []byte, ok bool) {
	for rest := v; ; {
		part := rest
		semi := bytes.IndexByte(rest, ';')
		if semi >= 0 {
			part = rest[:semi]
		}
		k, val := part, []byte(nil)
		if eq := bytes.IndexByte(part, '='); eq >= 0 {
			k, val = part[:eq], part[eq+1:]
		}
		if _, ok := times.parse(val); !ok {
			return nil, nil, false
		}
		switch string(k) {
		case "NotBefore":
			notBefore = val
		case "NotAfter":
			notAfter = val
		}
		if semi < 0 {
			return notBefore, notAfter, true
		}
		rest = rest[semi+1:]
	}
}
