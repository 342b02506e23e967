// Package loggen generates realistic, deterministic (seeded) ELB log lines of each
// format, for big fixtures and benchmarks: the same seed always yields the same lines.
package loggen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Formats lists the formats New accepts.
var Formats = []string{"alb", "classic", "nlb", "conn"}

// Generator produces lines of one format. It is not safe for concurrent use.
type Generator struct {
	format string
	rng    *rand.Rand
	now    int64 // Unix microseconds of the next line
}

// New returns a generator for format ("alb", "classic", "nlb" or "conn").
func New(format string, seed uint64) (*Generator, error) {
	switch format {
	case "alb", "classic", "nlb", "conn":
	default:
		return nil, fmt.Errorf("loggen: unknown format %q (want alb, classic, nlb or conn)", format)
	}
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	return &Generator{format: format, rng: rand.New(rand.NewPCG(seed, 0x10fe11)), now: start}, nil
}

// StartAt sets the time of the next line to t (lines then advance about 1 ms each), so
// fixtures can be laid out by day and hour as AWS writes them. Default: 2024-05-01 00:00 UTC.
func (g *Generator) StartAt(t time.Time) { g.now = t.UnixMicro() }

// Append appends one line (without "\n") to dst.
func (g *Generator) Append(dst []byte) []byte {
	g.now += int64(g.rng.IntN(2000)) // ~1000 lines per second
	if g.rng.IntN(200) == 0 {
		g.now += int64(g.rng.IntN(90_000_000)) // a quiet spell of up to 90 s
	}
	switch g.format {
	case "alb":
		return g.alb(dst)
	case "classic":
		return g.classic(dst)
	case "nlb":
		return g.nlb(dst)
	}
	return g.conn(dst)
}

// The vocabularies below mix what AWS writes day to day: URLs with %-escapes, spaces
// (logged as sent, classified SpaceInUri) and escaped quotes; user agents with quotes and
// UTF-8; IPv6 clients; every ALB action and error field; NLB lines with and without ALPN.
// A share of lines therefore needs JSON escaping, and lines are only roughly in time
// order, as in real logs, so neither of the parser's fast paths is taken every time.
var (
	paths = []string{"/", "/index.html", "/api/v1/orders", "/api/v1/orders/8123", "/api/v1/users/me",
		"/static/js/app.3f9a1c.js", "/static/css/site.css", "/images/logo.png", "/health", "/login",
		"/search", "/api/v2/cart/items", "/favicon.ico", "/robots.txt", "/products/blue-widget",
		"/products/caf%C3%A9-cr%C3%A8me", "/files/annual%20report%202024.pdf", "/wp-login.php", "/.env",
		"/api/v1/search/%22quoted%22", "/img/summer sale.jpg", `/track?e=\"click\"`}
	queries = []string{"", "", "", "", "q=widgets&page=2", "utm_source=newsletter&utm_medium=email", "id=42", "sort=price%20desc",
		"q=%E6%97%A5%E6%9C%AC", "redirect=https%3A%2F%2Fevil.example%2F", "q=a b", `name=\"x\"`, "x=" + strings.Repeat("A", 300)}
	agents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
		"curl/8.5.0", "ELB-HealthChecker/2.0", "python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/2.0", "-",
		`Mozilla/5.0 (compatible; \"SiteScanner\"/1.2; +https://scanner.example)`,
		"Dalvik/2.1.0 (Linux; U; Android 13; Redmi Note 12 Build/TKQ1) Über-App/3.1 (München)",
		"grpc-go/1.66.0"}
	methods  = []string{"GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"}
	statuses = []int{200, 200, 200, 200, 200, 200, 200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 404, 460, 500, 502, 503, 504}
	ciphers  = []string{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "TLS_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_AES_256_GCM_SHA384"}
	protos   = []string{"TLSv1.2", "TLSv1.2", "TLSv1.3", "TLSv1.3"}
	hosts    = []string{"www.example.com", "api.example.com", "shop.example.com"}
	// ALB error_reason values by what failed.
	targetErrors = []string{"TargetConnectionError", "TargetResponseError", "TargetTimeout", "LambdaInvalidResponse", "LambdaUnhandled"}
	authErrors   = []string{"AuthInvalidCookie", "AuthInvalidIdToken", "AuthTokenEpRequestFailed", "AuthMissingAWSALBAuthNonce"}
	classReasons = []string{"SpaceInUri", "BadContentLength", "UndefinedContentLengthSemantics", "NonCompliantHeader", "GetHeadZeroContentLength"}
	verifyFails  = []string{"Failed:ClientCertUntrusted", "Failed:UnmatchedTrustStore", "Failed:ClientCertNotYetValid", "Failed:ClientCertExpired", "Failed:ClientCertRevoked"}
	namedGroups  = []string{"x25519", "secp256r1", "x25519", "-"}
)

func (g *Generator) pick(s []string) string { return s[g.rng.IntN(len(s))] }

func (g *Generator) time(dst []byte, zone bool, fraction bool) []byte {
	t := time.UnixMicro(g.now).UTC()
	if g.rng.IntN(10) == 0 { // lines are written as requests end: only roughly in order
		t = t.Add(-time.Duration(g.rng.IntN(3_000_000)) * time.Microsecond)
	}
	if fraction {
		dst = t.AppendFormat(dst, "2006-01-02T15:04:05.000000")
	} else {
		dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	}
	if zone {
		dst = append(dst, 'Z')
	}
	return dst
}

func (g *Generator) ip(dst []byte) []byte {
	if g.rng.IntN(7) == 0 {
		dst = append(dst, "2001:db8:"...)
		dst = strconv.AppendUint(dst, uint64(g.rng.IntN(0xffff)), 16)
		dst = append(dst, "::"...)
		return strconv.AppendUint(dst, uint64(g.rng.IntN(0xffff)), 16)
	}
	for i := range 4 {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = strconv.AppendInt(dst, int64(1+g.rng.IntN(254)), 10)
	}
	return dst
}

func (g *Generator) hostPort(dst []byte) []byte {
	dst = g.ip(dst)
	dst = append(dst, ':')
	return strconv.AppendInt(dst, int64(1024+g.rng.IntN(64000)), 10)
}

func (g *Generator) target(dst []byte) []byte {
	dst = append(dst, "172.31."...)
	dst = strconv.AppendInt(dst, int64(g.rng.IntN(16)), 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, int64(2+g.rng.IntN(250)), 10)
	return append(dst, ":8080"...)
}

func (g *Generator) secs(dst []byte, digits int) []byte {
	v := g.rng.ExpFloat64() * 0.02
	return strconv.AppendFloat(dst, v, 'f', digits, 64)
}

func (g *Generator) url(dst []byte, scheme, port string) []byte {
	dst = append(dst, scheme...)
	dst = append(dst, "://"...)
	dst = append(dst, g.pick(hosts)...)
	dst = append(dst, ':')
	dst = append(dst, port...)
	dst = append(dst, g.pick(paths)...)
	if q := g.pick(queries); q != "" {
		dst = append(dst, '?')
		dst = append(dst, q...)
	}
	return dst
}

func (g *Generator) hex(dst []byte, n int) []byte {
	for range n {
		dst = append(dst, "0123456789abcdef"[g.rng.IntN(16)])
	}
	return dst
}

// albKind is what happened to an ALB request, which decides the fields around it.
type albKind int

const (
	albForward       albKind = iota // forwarded to a target (maybe after waf, authenticate, rewrite)
	albRedirect                     // redirect action, no target
	albFixed                        // fixed-response action (or a WAF block), no target
	albAuthFailed                   // authenticate action failed
	albTargetFailed                 // target or Lambda failed: error_reason set, maybe retried
	albNotDispatched                // rejected before any action (-1 priority, "-" actions)
)

func (g *Generator) albKind() albKind {
	switch n := g.rng.IntN(100); {
	case n < 78:
		return albForward
	case n < 84:
		return albRedirect
	case n < 89:
		return albFixed
	case n < 92:
		return albAuthFailed
	case n < 97:
		return albTargetFailed
	}
	return albNotDispatched
}

func (g *Generator) alb(dst []byte) []byte {
	typ := "https"
	switch n := g.rng.IntN(100); {
	case n < 10:
		typ = "http"
	case n < 35:
		typ = "h2"
	case n < 38:
		typ = "grpcs"
	case n < 41:
		typ = "ws"
	case n < 45:
		typ = "wss"
	}
	kind := g.albKind()
	status := statuses[g.rng.IntN(len(statuses))]
	switch kind {
	case albRedirect:
		status = 301 + g.rng.IntN(2)
	case albFixed:
		status = []int{200, 403, 404, 503}[g.rng.IntN(4)]
	case albAuthFailed:
		status = 401
	case albTargetFailed:
		status = []int{502, 503, 504}[g.rng.IntN(3)]
	case albNotDispatched:
		status = []int{400, 400, 408, 460, 463}[g.rng.IntN(5)]
	}
	if typ == "ws" || typ == "wss" {
		if kind == albForward {
			status = 101
		}
	}
	noTarget := kind != albForward && kind != albTargetFailed
	dst = append(dst, typ...)
	dst = append(dst, ' ')
	dst = g.time(dst, true, true)
	dst = append(dst, " app/shop-prod-alb/50dc6c495c0c9188 "...)
	dst = g.hostPort(dst)
	dst = append(dst, ' ')
	var tgt []byte
	switch {
	case noTarget && kind == albNotDispatched:
		dst = append(dst, "- -1 -1 -1 "...)
	case noTarget:
		dst = append(dst, "- "...)
		dst = g.secs(dst, 3)
		dst = append(dst, " -1 -1 "...)
	default:
		start := len(dst)
		dst = g.target(dst)
		tgt = dst[start:]
		dst = append(dst, ' ')
		dst = g.secs(dst, 3)
		if kind == albTargetFailed && g.rng.IntN(2) == 0 {
			dst = append(dst, " -1 -1 "...) // the target never answered
		} else {
			dst = append(dst, ' ')
			dst = g.secs(dst, 3)
			dst = append(dst, ' ')
			dst = g.secs(dst, 3)
			dst = append(dst, ' ')
		}
	}
	dst = strconv.AppendInt(dst, int64(status), 10)
	if noTarget || kind == albTargetFailed {
		dst = append(dst, " - "...)
	} else {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(status), 10)
		dst = append(dst, ' ')
	}
	dst = strconv.AppendInt(dst, int64(200+g.rng.IntN(2000)), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(150+g.rng.IntN(60000)), 10)
	dst = append(dst, ` "`...)
	method := g.pick(methods)
	if typ == "grpcs" {
		method = "POST"
	}
	dst = append(dst, method...)
	dst = append(dst, ' ')
	scheme, port := "https", "443"
	if typ == "http" || typ == "ws" {
		scheme, port = "http", "80"
	}
	urlStart := len(dst)
	dst = g.url(dst, scheme, port)
	spaceInURI := bytesContainSpace(dst[urlStart:])
	switch typ {
	case "h2", "grpcs":
		dst = append(dst, ` HTTP/2.0" "`...)
	default:
		dst = append(dst, ` HTTP/1.1" "`...)
	}
	dst = append(dst, g.pick(agents)...)
	dst = append(dst, `" `...)
	if scheme == "http" {
		dst = append(dst, "- - "...)
	} else {
		dst = append(dst, g.pick(ciphers)...)
		dst = append(dst, ' ')
		dst = append(dst, g.pick(protos)...)
		dst = append(dst, ' ')
	}
	if noTarget {
		dst = append(dst, "- "...)
	} else {
		dst = append(dst, "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-web/73e2d6bc24d8a067 "...)
	}
	dst = append(dst, `"Root=1-`...)
	dst = g.hex(dst, 8)
	dst = append(dst, '-')
	dst = g.hex(dst, 24)
	dst = append(dst, `" "`...)
	if g.rng.IntN(10) == 0 {
		dst = append(dst, '-') // no SNI
	} else {
		dst = append(dst, g.pick(hosts)...)
	}
	if scheme == "http" {
		dst = append(dst, `" "-" `...)
	} else if g.rng.IntN(20) == 0 {
		dst = append(dst, `" "session-reused" `...)
	} else {
		dst = append(dst, `" "arn:aws:acm:us-east-1:123456789012:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99" `...)
	}
	if kind == albNotDispatched {
		dst = append(dst, "-1 "...)
	} else {
		dst = strconv.AppendInt(dst, int64(g.rng.IntN(50)), 10)
		dst = append(dst, ' ')
	}
	created := g.now
	g.now -= int64(g.rng.IntN(5000))
	dst = g.time(dst, true, true)
	g.now = created
	dst = append(dst, ` "`...)
	rewrite := false
	switch kind {
	case albForward:
		actions := []string{"forward", "forward", "waf,forward", "authenticate,forward", "waf,authenticate,forward", "rewrite,forward", "waf-failed,forward"}[g.rng.IntN(7)]
		rewrite = actions == "rewrite,forward"
		dst = append(dst, actions...)
		dst = append(dst, `" "-" "-" "`...)
	case albRedirect:
		dst = append(dst, `redirect" "https://`...)
		dst = append(dst, g.pick(hosts)...)
		dst = append(dst, `:443/" "-" "`...)
	case albFixed:
		dst = append(dst, []string{"fixed-response", "waf,fixed-response", "waf"}[g.rng.IntN(3)]...)
		dst = append(dst, `" "-" "-" "`...)
	case albAuthFailed:
		dst = append(dst, `authenticate" "-" "`...)
		dst = append(dst, g.pick(authErrors)...)
		dst = append(dst, `" "`...)
	case albTargetFailed:
		dst = append(dst, `forward" "-" "`...)
		dst = append(dst, g.pick(targetErrors)...)
		dst = append(dst, `" "`...)
	case albNotDispatched:
		dst = append(dst, `-" "-" "-" "`...)
	}
	// target:port_list and target_status_code_list: several after retries.
	switch {
	case noTarget:
		dst = append(dst, `-" "-`...)
	case kind == albTargetFailed && g.rng.IntN(3) == 0:
		dst = append(dst, tgt...)
		dst = append(dst, ' ')
		dst = g.target(dst)
		dst = append(dst, `" "`...)
		dst = strconv.AppendInt(dst, int64(status), 10)
		dst = append(dst, " -"...)
	case kind == albTargetFailed:
		dst = append(dst, tgt...)
		dst = append(dst, `" "-`...)
	default:
		dst = append(dst, tgt...)
		dst = append(dst, `" "`...)
		dst = strconv.AppendInt(dst, int64(status), 10)
	}
	dst = append(dst, `" "`...)
	switch {
	case spaceInURI:
		dst = append(dst, `Ambiguous" "SpaceInUri`...)
	case g.rng.IntN(50) == 0:
		dst = append(dst, []string{"Ambiguous", "Severe"}[g.rng.IntN(2)]...)
		dst = append(dst, `" "`...)
		dst = append(dst, g.pick(classReasons)...)
	case g.rng.IntN(10) == 0:
		dst = append(dst, `Acceptable" "-`...)
	default:
		dst = append(dst, `-" "-`...)
	}
	dst = append(dst, `" TID_`...)
	dst = g.hex(dst, 32)
	if rewrite {
		dst = append(dst, ` "internal.example.com" "/v2`...)
		dst = append(dst, g.pick(paths)...)
		return append(dst, `" "TransformSuccess"`...)
	}
	return append(dst, ` "-" "-" "-"`...)
}

func bytesContainSpace(b []byte) bool {
	for _, c := range b {
		if c == ' ' {
			return true
		}
	}
	return false
}

func (g *Generator) classic(dst []byte) []byte {
	dst = g.time(dst, true, true)
	dst = append(dst, " shop-classic-elb "...)
	dst = g.hostPort(dst)
	dst = append(dst, ' ')
	if g.rng.IntN(30) == 0 { // no backend answered: -1 times and byte counts
		if g.rng.IntN(4) == 0 { // on a TCP listener
			return append(dst, `- -1 -1 -1 - - -1 -1 "- - - " "-" - -`...)
		}
		dst = append(dst, "- -1 -1 -1 "...)
		dst = strconv.AppendInt(dst, int64([]int{503, 504}[g.rng.IntN(2)]), 10)
		dst = append(dst, ` 0 -1 -1 "`...)
		dst = append(dst, g.pick(methods)...)
		dst = append(dst, ' ')
		dst = g.url(dst, "http", "80")
		dst = append(dst, ` HTTP/1.1" "`...)
		dst = append(dst, g.pick(agents)...)
		return append(dst, `" - -`...)
	}
	dst = g.target(dst)
	dst = append(dst, ' ')
	dst = g.secs(dst, 6)
	dst = append(dst, ' ')
	dst = g.secs(dst, 6)
	dst = append(dst, ' ')
	dst = g.secs(dst, 6)
	if g.rng.IntN(20) == 0 { // TCP/SSL listener
		dst = append(dst, " - - "...)
		dst = strconv.AppendInt(dst, int64(g.rng.IntN(5000)), 10)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(g.rng.IntN(50000)), 10)
		dst = append(dst, ` "- - - " "-" `...)
		if g.rng.IntN(2) == 0 {
			return append(dst, "- -"...) // TCP: no TLS
		}
		dst = append(dst, g.pick(ciphers)...)
		dst = append(dst, ' ')
		return append(dst, g.pick(protos)...)
	}
	status := int64(statuses[g.rng.IntN(len(statuses))])
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, status, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, status, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(g.rng.IntN(2000)), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(150+g.rng.IntN(60000)), 10)
	dst = append(dst, ` "`...)
	dst = append(dst, g.pick(methods)...)
	dst = append(dst, ' ')
	https := g.rng.IntN(3) > 0
	if https {
		dst = g.url(dst, "https", "443")
	} else {
		dst = g.url(dst, "http", "80")
	}
	dst = append(dst, ` HTTP/1.1" "`...)
	dst = append(dst, g.pick(agents)...)
	dst = append(dst, `" `...)
	if !https {
		return append(dst, "- -"...)
	}
	dst = append(dst, g.pick(ciphers)...)
	dst = append(dst, ' ')
	return append(dst, g.pick(protos)...)
}

func (g *Generator) nlb(dst []byte) []byte {
	dst = append(dst, "tls 2.0 "...)
	dst = g.time(dst, false, false)
	dst = append(dst, " net/shop-nlb/c6e77e28c25b2234 g3d4b5e8bb8464cd "...)
	dst = g.hostPort(dst)
	dst = append(dst, ' ')
	dst = g.target(dst)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(g.rng.IntN(60000)), 10)
	dst = append(dst, ' ')
	if g.rng.IntN(30) == 0 { // handshake never completed
		dst = append(dst, "- 0 0 "...)
		dst = append(dst, []string{"UnknownCA", "HandshakeFailure", "ProtocolVersion", "-"}[g.rng.IntN(4)]...)
		dst = append(dst, " - - - - - - - - - "...)
		created := g.now
		g.now -= int64(g.rng.IntN(60_000_000))
		dst = g.time(dst, false, false)
		g.now = created
		return dst
	}
	dst = strconv.AppendInt(dst, int64(1+g.rng.IntN(20)), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(g.rng.IntN(100000)), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(g.rng.IntN(500000)), 10)
	dst = append(dst, " - arn:aws:acm:us-east-1:123456789012:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 "...)
	if g.rng.IntN(5) == 0 {
		dst = g.hex(dst, 16) // chosen_cert_serial
		dst = append(dst, ' ')
	} else {
		dst = append(dst, "- "...)
	}
	dst = append(dst, g.pick(ciphers)...)
	dst = append(dst, ' ')
	dst = append(dst, []string{"tlsv12", "tlsv12", "tlsv13"}[g.rng.IntN(3)]...)
	dst = append(dst, ' ')
	dst = append(dst, g.pick(namedGroups)...)
	dst = append(dst, ' ')
	switch g.rng.IntN(10) {
	case 0:
		dst = append(dst, '-') // no SNI
	case 1:
		dst = append(dst, "caf%C3%A9.example.com"...) // domain_name is URL-encoded
	default:
		dst = append(dst, g.pick(hosts)...)
	}
	switch g.rng.IntN(10) {
	case 0, 1, 2: // no ALPN: a client that offered none
		dst = append(dst, " - - - "...)
	case 3:
		dst = append(dst, ` - - "http/1.1" `...) // offered, none agreed
	default:
		dst = append(dst, ` h2 h2 "h2","http/1.1" `...)
	}
	created := g.now
	g.now -= int64(g.rng.IntN(60_000_000))
	dst = g.time(dst, false, false)
	g.now = created
	return dst
}

func (g *Generator) conn(dst []byte) []byte {
	dst = g.time(dst, true, true)
	dst = append(dst, ' ')
	dst = g.ip(dst)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(1024+g.rng.IntN(64000)), 10)
	dst = append(dst, []string{" 443 ", " 443 ", " 8443 "}[g.rng.IntN(3)]...)
	if g.rng.IntN(40) == 0 { // the handshake failed before a protocol was agreed
		dst = append(dst, `- - - "-" - - Failed:ClientHelloTimeout TID_`...)
		return g.hex(dst, 32)
	}
	dst = append(dst, g.pick(protos)...)
	dst = append(dst, ' ')
	dst = append(dst, g.pick(ciphers)...)
	dst = append(dst, ' ')
	dst = strconv.AppendFloat(dst, g.rng.ExpFloat64()*0.01, 'f', 3, 64)
	if g.rng.IntN(4) == 0 { // mutual TLS with a client certificate
		dst = append(dst, ` "CN=device-`...)
		dst = strconv.AppendInt(dst, int64(g.rng.IntN(1000)), 10)
		dst = append(dst, []string{`,OU=Devices,O=Example Corp,C=US" `, `,OU=Field Units,O=Exämple GmbH,L=Köln,C=DE" `}[g.rng.IntN(2)]...)
		dst = append(dst, "NotBefore=2024-01-01T00:00:00Z;NotAfter=2025-01-01T00:00:00Z "...)
		dst = g.hex(dst, 16)
		if g.rng.IntN(10) == 0 {
			dst = append(dst, ' ')
			dst = append(dst, g.pick(verifyFails)...)
			dst = append(dst, ' ')
		} else {
			dst = append(dst, " Success "...)
		}
	} else {
		dst = append(dst, ` "-" - - Success `...)
	}
	dst = append(dst, "TID_"...)
	return g.hex(dst, 32)
}
