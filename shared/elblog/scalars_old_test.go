package elblog

import (
	"bytes"
	"fmt"
	"testing"
)

// The field checks as they were before they were made faster, kept as oracles: the new
// ones must accept and reject exactly the same input (and hostPort give the same parts
// and error text).

func isDigitsOld(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

func isPortOld(b []byte) bool {
	return isDigits(b) && len(b) <= 5 && atoi(b) <= 65535
}

func isIPOld(b []byte) bool {
	if len(b) == 0 || len(b) > 45 {
		return false
	}
	if bytes.IndexByte(b, ':') >= 0 {
		colons := 0
		for _, c := range b {
			switch {
			case c == ':':
				colons++
			case c == '.' || isHex(c):
			default:
				return false
			}
		}
		return colons >= 2
	}
	parts, val, digits := 0, 0, 0
	for _, c := range b {
		if c == '.' {
			if digits == 0 {
				return false
			}
			parts++
			val, digits = 0, 0
			continue
		}
		if c < '0' || c > '9' || digits == 3 {
			return false
		}
		val = val*10 + int(c-'0')
		digits++
		if val > 255 {
			return false
		}
	}
	return parts == 3 && digits > 0
}

func hostPortOld(e *Encoder, name string, v []byte) (ip, port []byte, err error) {
	v = opt(v)
	if v == nil {
		return nil, nil, nil
	}
	i := bytes.LastIndexByte(v, ':')
	if i < 0 {
		return nil, nil, fieldError(e.rec.format, name, v, "no :port")
	}
	ip, port = v[:i], v[i+1:]
	if len(ip) > 1 && ip[0] == '[' && ip[len(ip)-1] == ']' {
		ip = ip[1 : len(ip)-1]
	}
	if !isIPOld(ip) {
		return nil, nil, fieldError(e.rec.format, name, v, "not an IP address")
	}
	if !isPortOld(port) {
		return nil, nil, fieldError(e.rec.format, name, v, "bad port")
	}
	return ip, trimZeros(port), nil
}

func certValidityOld(v []byte) (notBefore, notAfter []byte, ok bool) {
	for part := range bytes.SplitSeq(v, []byte(";")) {
		k, val, _ := bytes.Cut(part, []byte("="))
		if _, ok := parseTime(val); !ok {
			return nil, nil, false
		}
		switch string(k) {
		case "NotBefore":
			notBefore = val
		case "NotAfter":
			notAfter = val
		}
	}
	return notBefore, notAfter, true
}

func checkScalars(t *testing.T, s string) {
	t.Helper()
	b := []byte(s)
	if got, want := isIP(b), isIPOld(b); got != want {
		t.Fatalf("isIP(%q) = %v, old %v", s, got, want)
	}
	if got, want := isPort(b), isPortOld(b); got != want {
		t.Fatalf("isPort(%q) = %v, old %v", s, got, want)
	}
	e := &Encoder{}
	e.rec.format = formatALB
	ip, port, err := e.hostPort("client:port", b)
	wip, wport, werr := hostPortOld(e, "client:port", b)
	if got, want := fmt.Sprintf("%q %q %v", ip, port, err), fmt.Sprintf("%q %q %v", wip, wport, werr); got != want {
		t.Fatalf("hostPort(%q) = %s, old %s", s, got, want)
	}
	// isDigits reads the 8 bytes from b's start when its capacity holds them: what
	// follows b must not change the answer.
	for _, after := range []string{"", "00000000", "-:. xyz\x00"} {
		v := append(append([]byte(nil), s...), after...)[:len(s)]
		if got, want := isDigits(v), isDigitsOld(b); got != want {
			t.Fatalf("isDigits(%q, then %q) = %v, old %v", s, after, got, want)
		}
		w, err := e.number("t", v, false)
		w2, err2 := e.number("t", b, false)
		if string(w) != string(w2) || (err == nil) != (err2 == nil) {
			t.Fatalf("number(%q, then %q) = %q %v, alone %q %v", s, after, w, err, w2, err2)
		}
	}
	for _, minusOne := range []bool{false, true} {
		v, err := e.number("t", b, minusOne)
		want, wok := opt(b), true
		if want == nil || minusOne && s == "-1" {
			want = nil
		} else if !isJSONNumber(want) {
			want, wok = nil, false
		}
		if string(v) != string(want) || (v == nil) != (want == nil) || (err == nil) != wok {
			t.Fatalf("number(%q, %v) = %q, %v; want %q, ok %v", s, minusOne, v, err, want, wok)
		}
	}
	nb, na, ok := certValidity(b, &timeCache{})
	wnb, wna, wok := certValidityOld(b)
	if got, want := fmt.Sprintf("%q %q %v", nb, na, ok), fmt.Sprintf("%q %q %v", wnb, wna, wok); got != want {
		t.Fatalf("certValidity(%q) = %s, old %s", s, got, want)
	}
}

var scalarCases = []string{
	"", "-", "1.2.3.4", "1.2.3.4:80", "255.255.255.255:65535", "256.1.1.1:1", "1.2.3:4", "1.2.3.4.5:6",
	"01.002.3.4:0080", "1.2.3.4:65536", "1.2.3.4:", "1.2.3.4:123456", "1.2.3.4:8a", "1.2.3.1234:80",
	"1..2.3:4", ".1.2.3:4", "1.2.3.:4", "[::1]:443", "::1:443", "2001:db8::1", "[2001:db8::1]", "fe80::1%eth0:1",
	"1.2.3.4::80", "1.2.3.4:80:90", "a.b.c.d:1", "1.2.3.4 :1", "[1.2.3.4]:1", "[]:1", "[:1", "1:2",
	"0.000734", "1.234567", "9.999999", "0.00000", "00.00000", "1/234567", "1.23456a", "1.2345:6", "-.000001", "12345678",
	"-1.00000", "1.000000", ".1234567", "1.\x00\xff0000", "\xb1.000000", "1.0000\xb9", "-1", "1e5", "1.5e-3",
	"401", "7", "12345678", "123456789", "0123", "00", "-0", "1 2", "12345a78", "1234567\xb0", "/:",
	"0", "65535", "65536", "00000", "000001", "99999", "1a",
	"NotBefore=2024-01-01T00:00:00Z;NotAfter=2025-01-01T00:00:00Z", "NotAfter=2025-01-01T00:00:00Z",
	"NotBefore=2024-01-01T00:00:00Z;", ";", "=2024-01-01T00:00:00Z", "X=2024-01-01T00:00:00Z;NotAfter=2025-02-30T00:00:00Z",
	"NotBefore=2024-01-01T00:00:00Z;NotBefore=2024-01-02T00:00:00Z", "NotBefore2024-01-01T00:00:00Z", "NotBefore==2024-01-01T00:00:00Z",
}

func TestScalarsMatchOld(t *testing.T) {
	for _, s := range scalarCases {
		checkScalars(t, s)
	}
}

func FuzzScalars(f *testing.F) {
	for _, s := range scalarCases {
		f.Add(s)
	}
	f.Fuzz(checkScalars)
}
