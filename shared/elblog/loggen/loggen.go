// Package loggen generates realistic, deterministic (seeded) ELB log lines of each
// format, for big fixtures and benchmarks: the same seed always yields the same lines.
package loggen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
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

var (
	paths = []string{"/", "/index.html", "/api/v1/orders", "/api/v1/orders/8123", "/api/v1/users/me",
		"/static/js/app.3f9a1c.js", "/static/css/site.css", "/images/logo.png", "/health", "/login",
		"/search", "/api/v2/cart/items", "/favicon.ico", "/robots.txt", "/products/blue-widget"}
	queries = []string{"", "", "", "q=widgets&page=2", "utm_source=newsletter&utm_medium=email", "id=42", "sort=price%20desc"}
	agents  = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"curl/8.5.0", "ELB-HealthChecker/2.0", "python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/2.0"}
	methods  = []string{"GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"}
	statuses = []int{200, 200, 200, 200, 200, 200, 200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 404, 500, 502, 503}
	ciphers  = []string{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "TLS_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"}
	protos   = []string{"TLSv1.2", "TLSv1.2", "TLSv1.3"}
	hosts    = []string{"www.example.com", "api.example.com", "shop.example.com"}
)

func (g *Generator) pick(s []string) string { return s[g.rng.IntN(len(s))] }

func (g *Generator) time(dst []byte, zone bool, fraction bool) []byte {
	t := time.UnixMicro(g.now).UTC()
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
	if g.rng.IntN(25) == 0 {
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

func (g *Generator) alb(dst []byte) []byte {
	typ := "https"
	switch g.rng.IntN(10) {
	case 0:
		typ = "http"
	case 1, 2:
		typ = "h2"
	}
	status := statuses[g.rng.IntN(len(statuses))]
	redirect := typ == "http" && g.rng.IntN(2) == 0
	if redirect {
		status = 301
	}
	dst = append(dst, typ...)
	dst = append(dst, ' ')
	dst = g.time(dst, true, true)
	dst = append(dst, " app/shop-prod-alb/50dc6c495c0c9188 "...)
	dst = g.hostPort(dst)
	dst = append(dst, ' ')
	var tgt []byte
	if redirect {
		dst = append(dst, "- -1 -1 -1 "...)
	} else {
		start := len(dst)
		dst = g.target(dst)
		tgt = dst[start:]
		dst = append(dst, ' ')
		dst = g.secs(dst, 3)
		dst = append(dst, ' ')
		dst = g.secs(dst, 3)
		dst = append(dst, ' ')
		dst = g.secs(dst, 3)
		dst = append(dst, ' ')
	}
	dst = strconv.AppendInt(dst, int64(status), 10)
	if redirect {
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
	dst = append(dst, g.pick(methods)...)
	dst = append(dst, ' ')
	scheme, port := "https", "443"
	if typ == "http" {
		scheme, port = "http", "80"
	}
	dst = g.url(dst, scheme, port)
	if typ == "h2" {
		dst = append(dst, ` HTTP/2.0" "`...)
	} else {
		dst = append(dst, ` HTTP/1.1" "`...)
	}
	dst = append(dst, g.pick(agents)...)
	dst = append(dst, `" `...)
	if typ == "http" {
		dst = append(dst, "- - "...)
	} else {
		dst = append(dst, g.pick(ciphers)...)
		dst = append(dst, ' ')
		dst = append(dst, g.pick(protos)...)
		dst = append(dst, ' ')
	}
	if redirect {
		dst = append(dst, "- "...)
	} else {
		dst = append(dst, "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-web/73e2d6bc24d8a067 "...)
	}
	dst = append(dst, `"Root=1-`...)
	dst = g.hex(dst, 8)
	dst = append(dst, '-')
	dst = g.hex(dst, 24)
	dst = append(dst, `" "`...)
	dst = append(dst, g.pick(hosts)...)
	if typ == "http" {
		dst = append(dst, `" "-" `...)
	} else {
		dst = append(dst, `" "arn:aws:acm:us-east-1:123456789012:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99" `...)
	}
	if redirect {
		dst = append(dst, "1 "...)
	} else {
		dst = strconv.AppendInt(dst, int64(g.rng.IntN(5)), 10)
		dst = append(dst, ' ')
	}
	created := g.now
	g.now -= int64(g.rng.IntN(5000))
	dst = g.time(dst, true, true)
	g.now = created
	if redirect {
		dst = append(dst, ` "redirect" "https://`...)
		dst = append(dst, g.pick(hosts)...)
		dst = append(dst, `:443/" "-" "-" "-" "-" "-" `...)
	} else {
		dst = append(dst, ` "waf,forward" "-" `...)
		if status == 502 {
			dst = append(dst, `"TargetConnectionError" "`...)
		} else {
			dst = append(dst, `"-" "`...)
		}
		dst = append(dst, tgt...)
		dst = append(dst, `" "`...)
		dst = strconv.AppendInt(dst, int64(status), 10)
		dst = append(dst, `" "-" "-" `...)
	}
	dst = append(dst, "TID_"...)
	dst = g.hex(dst, 32)
	return append(dst, ` "-" "-" "-"`...)
}

func (g *Generator) classic(dst []byte) []byte {
	dst = g.time(dst, true, true)
	dst = append(dst, " shop-classic-elb "...)
	dst = g.hostPort(dst)
	dst = append(dst, ' ')
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
		dst = append(dst, "- 0 0 UnknownCA - - - - - - - - - "...)
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
	dst = append(dst, " - arn:aws:acm:us-east-1:123456789012:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - "...)
	dst = append(dst, g.pick(ciphers)...)
	dst = append(dst, " tlsv12 - "...)
	dst = append(dst, g.pick(hosts)...)
	dst = append(dst, ` h2 h2 "h2","http/1.1" `...)
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
	dst = append(dst, " 443 "...)
	dst = append(dst, g.pick(protos)...)
	dst = append(dst, ' ')
	dst = append(dst, g.pick(ciphers)...)
	dst = append(dst, ' ')
	dst = strconv.AppendFloat(dst, g.rng.ExpFloat64()*0.01, 'f', 3, 64)
	if g.rng.IntN(4) == 0 { // mutual TLS with a client certificate
		dst = append(dst, ` "CN=device-`...)
		dst = strconv.AppendInt(dst, int64(g.rng.IntN(1000)), 10)
		dst = append(dst, `,OU=Devices,O=Example Corp,C=US" NotBefore=2024-01-01T00:00:00Z;NotAfter=2025-01-01T00:00:00Z `...)
		dst = g.hex(dst, 16)
		if g.rng.IntN(10) == 0 {
			dst = append(dst, " Failed:UnmatchedTrustStore "...)
		} else {
			dst = append(dst, " Success "...)
		}
	} else {
		dst = append(dst, ` "-" - - Success `...)
	}
	dst = append(dst, "TID_"...)
	return g.hex(dst, 32)
}
