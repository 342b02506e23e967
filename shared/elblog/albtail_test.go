package elblog

import (
	"bytes"
	"testing"

	"github.com/logferry/logferry/shared/elblog/loggen"
)

const albTailKey = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/05/01/x.log.gz"

// checkALBTail checks that albTail writes what the generic writer does for line.
func checkALBTail(t *testing.T, fast, generic *Encoder, line []byte) {
	t.Helper()
	got, res := fast.Append(nil, line, 7)
	want, wantRes := generic.Append(nil, line, 7)
	if !bytes.Equal(got, want) {
		t.Fatalf("line %q:\nalbTail: %s\ngeneric: %s", line, got, want)
	}
	if (res.Err == nil) != (wantRes.Err == nil) || res.Time != wantRes.Time {
		t.Fatalf("line %q: result %+v, generic %+v", line, res, wantRes)
	}
}

// Generated ALB lines, and each of them with every field in turn absent ("-"), so that
// every member albTail may leave out is left out at least once.
func TestALBTailMatchesGeneric(t *testing.T) {
	src := Source{Bucket: "logs", Key: albTailKey}
	fast, generic := NewEncoder(src), NewEncoder(src)
	generic.generic = true
	g, err := loggen.New("alb", 5)
	if err != nil {
		t.Fatal(err)
	}
	usual := 0
	var f [maxFields][]byte
	for i := range 300 {
		line := g.Append(nil)
		checkALBTail(t, fast, generic, line)
		if fast.albUsual() {
			usual++
		}
		if i%10 != 0 {
			continue
		}
		n, _, err := tokenize(line, f[:])
		if err != nil {
			t.Fatal(err)
		}
		for k := range min(n, maxFields) {
			var b []byte
			for j := range min(n, maxFields) {
				if j > 0 {
					b = append(b, ' ')
				}
				quoted := bytes.Contains(line, []byte(`"`+string(f[j])+`"`)) && (j == 0 || f[j-1] != nil)
				v := f[j]
				if j == k {
					v = []byte("-")
				}
				if quoted {
					b = append(append(append(b, '"'), v...), '"')
				} else {
					b = append(b, v...)
				}
			}
			checkALBTail(t, fast, generic, b)
		}
	}
	// loggen writes lines that need escaping or lack fields as often as real logs do, so
	// only about half take albTail; the check is that both paths are exercised.
	if usual < 100 || usual > 290 {
		t.Errorf("%d of 300 generated lines took albTail, want both paths exercised", usual)
	}
}

func FuzzALBTail(f *testing.F) {
	g, err := loggen.New("alb", 6)
	if err != nil {
		f.Fatal(err)
	}
	for range 20 {
		f.Add(string(g.Append(nil)))
	}
	f.Add(`http 2018-07-02T22:23:00.186641Z app/lb/1 1.2.3.4:5 - -1 -1 -1 200 - 0 0 "GET http://a:80/b?c#d HTTP/1.1" "-" c TLSv1.2 - - - - - - "a,b" - - "1.2.3.4:80 5.6.7.8:80" "200 502"`)
	src := Source{Bucket: "b", Key: albTailKey}
	fast, generic := NewEncoder(src), NewEncoder(src)
	generic.generic = true
	f.Fuzz(func(t *testing.T, line string) { checkALBTail(t, fast, generic, []byte(line)) })
}
