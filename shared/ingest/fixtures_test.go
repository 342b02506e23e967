package ingest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"testing"
	"time"
)

const (
	bucket = "elb-logs"
	albKey = "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/25/" +
		"123456789012_elasticloadbalancing_eu-west-1_app.web.50dc6c495c0c9188_20261125T1200Z_10.0.1.7_2x8y.log.gz"
	classicKey = "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/25/" +
		"123456789012_elasticloadbalancing_eu-west-1_web_20261125T1200Z_10.0.1.7_5u9f.log"
)

// albLine is an ALB access-log line in the documented format, varied by i.
func albLine(i int) string {
	t := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 1731 * time.Microsecond)
	status := []int{200, 200, 301, 404, 502}[i%5]
	return fmt.Sprintf(`https %s app/web/50dc6c495c0c9188 192.0.2.%d:%d 10.0.0.%d:80 0.000 0.%03d 0.000 %d %d 34 %d "GET https://www.example.com:443/items/%d?page=%d HTTP/1.1" "Mozilla/5.0 (X11; Linux x86_64)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bb%04x" "www.example.com" "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 %s "forward" "-" "-" "10.0.0.%d:80" "%d" "-" "-" TID_%08x`,
		t.Format("2006-01-02T15:04:05.000000Z"), i%250+1, 1024+i%60000, i%7+1, i%1000, status, status, 200+i%9000, i, i%13,
		i%0xffff, t.Add(-3*time.Millisecond).Format("2006-01-02T15:04:05.000000Z"), i%7+1, status, i)
}

// classicLine is a Classic Load Balancer access-log line, varied by i.
func classicLine(i int) string {
	t := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
	return fmt.Sprintf(`%s web 192.0.2.%d:%d 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 %d "GET http://www.example.com:80/p/%d HTTP/1.1" "curl/8.5.0" - -`,
		t.Format("2006-01-02T15:04:05.000000Z"), i%250+1, 2000+i, 29+i%100, i)
}

// object joins lines with "\n" (and a final one) and returns it with each line's offset.
func object(lines []string) ([]byte, []int64) {
	var b bytes.Buffer
	offs := make([]int64, len(lines))
	for i, l := range lines {
		offs[i] = int64(b.Len())
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes(), offs
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func gen(n int, line func(int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = line(i)
	}
	return out
}
