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
	extension                                   []byte // of the path's last segment
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
	verifyStatus, tlsErrorCode                  []byte // Failed:<code> split in two
	time                                        int64
}
