package elblog

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

// record holds a parsed line as sub-slices of it; nil means absent. The fields that only
// one format's parser sets are kept apart, so that reset clears only what the line
// before may have set: the whole record is ~1.8 KB, and clearing it was ~4% of a line.
type record struct {
	baseRecord
	httpRecord // Classic ELB and ALB
	albRecord
	nlbRecord
	connRecord
}

// baseRecord holds the fields more than one format's parser sets.
type baseRecord struct {
	format                                      format
	typ, ts, elb, listener                      []byte
	clientIP, clientPort, backendIP, backendPrt []byte
	recv, sent                                  []byte
	cipher, sslProto                            []byte
	tlsVersion, tlsProtocol                     string
	domainName, certArn, connTrace              []byte
	time                                        int64
}

// httpRecord is set by parseHTTPCommon (Classic ELB and ALB) alone.
type httpRecord struct {
	rpt, bpt, rspt                              []byte // processing times, seconds
	status, backendStatus                       []byte
	statusN                                     int
	hasRequest                                  bool
	method, url, proto                          []byte
	scheme, domain, port, path, query, fragment []byte
	extension                                   []byte // of the path's last segment
	userAgent                                   []byte
}

// albRecord is set by parseALB alone.
type albRecord struct {
	tgArn, traceID, priority, reqCreation []byte
	actions, redirect, errReason          []byte
	targetList, targetStatusList          []byte
	class, classReason                    []byte
	tHost, tURI, tStatus                  []byte
}

// nlbRecord is set by parseNLB alone.
type nlbRecord struct {
	version                                   []byte
	connTime, tlsHandshake, alert, certSerial []byte
	namedGroup, alpnFE, alpnBE, alpnList      []byte
	tlsCreated                                []byte
}

// connRecord is set by parseConn alone.
type connRecord struct {
	listenerPort, hsLatency                     []byte
	certSubject, notBefore, notAfter, serialNum []byte
	verifyStatus, tlsErrorCode                  []byte // Failed:<code> split in two
}

// reset clears what the last line's parser may have set (its format names the parser:
// each sets format first, and a line whose first field named none set nothing).
func (r *record) reset() {
	switch r.format {
	case formatClassic:
		r.httpRecord = httpRecord{}
	case formatALB:
		r.httpRecord = httpRecord{}
		r.albRecord = albRecord{}
	case formatNLB:
		r.nlbRecord = nlbRecord{}
	case formatConn:
		r.connRecord = connRecord{}
	}
	r.baseRecord = baseRecord{}
}
