package elblog

import (
	"fmt"
	"testing"
	"time"
)

// checkTimeCache parses a then b with one cache and each alone, and compares with time.Parse.
func checkTimeCache(t *testing.T, a, b string) {
	t.Helper()
	var c timeCache
	for _, s := range []string{a, b, a} {
		got, ok := c.parse([]byte(s))
		want, wantOK := parseTime([]byte(s))
		if got != want || ok != wantOK {
			t.Fatalf("after %q: cached parse(%q) = %d, %v; parseTime = %d, %v", a, s, got, ok, want, wantOK)
		}
		if ok {
			layout := "2006-01-02T15:04:05.999999999Z"
			if s[len(s)-1] != 'Z' {
				layout = "2006-01-02T15:04:05.999999999"
			}
			if tt, err := time.Parse(layout, s); err == nil && tt.Second() != 60 && tt.UnixNano() != got {
				t.Fatalf("parse(%q) = %d, time.Parse %d", s, got, tt.UnixNano())
			}
		}
	}
}

func TestTimeCache(t *testing.T) {
	times := []string{
		"2024-05-01T00:00:00.000554Z", "2024-05-01T00:00:59.999999Z", "2024-05-01T00:01:00Z",
		"2024-05-01T00:00:60Z", "2024-05-01T00:00:61Z", "2024-05-01T00:00:0xZ", "2024-05-01T00:00",
		"2024-05-01T00:00:00.Z", "2024-05-01T00:00:00.1", "2024-02-30T00:00:00Z", "2024-02-29T23:59:01Z",
		"1969-12-31T23:59:59Z", "2024-05-01T24:00:00Z", "2024-05-01T00:00:00ZZ", "2024-05-01 00:00:00Z",
		"2024-05-01T00:00-00Z", "2024-05-01T00:00:00.1234567891234Z",
	}
	for _, a := range times {
		for _, b := range times {
			checkTimeCache(t, a, b)
		}
	}
}

func FuzzTimeCache(f *testing.F) {
	f.Add("2024-05-01T00:00:00.000554Z", "2024-05-01T00:00:01Z")
	f.Add("2024-05-01T00:00:00Z", "2024-05-01T00:00:6Z")
	f.Fuzz(func(t *testing.T, a, b string) { checkTimeCache(t, a, b) })
}

// More minutes than the cache has slots, in an order that evicts and refills each, and
// bad times among them: every answer is parseTime's.
func TestTimeCacheSlots(t *testing.T) {
	var times []string
	for m := range timeSlots + 3 {
		times = append(times, fmt.Sprintf("2024-05-01T00:%02d:07.5Z", m), fmt.Sprintf("2024-05-01T00:%02d:61Z", m))
	}
	times = append(times, "2024-02-30T00:00:00Z", "2024-05-01T00:00")
	var c timeCache
	for i := range 500 {
		s := times[(i*7+i/len(times))%len(times)]
		got, ok := c.parse([]byte(s))
		want, wantOK := parseTime([]byte(s))
		if got != want || ok != wantOK {
			t.Fatalf("step %d: cached parse(%q) = %d, %v; parseTime = %d, %v", i, s, got, ok, want, wantOK)
		}
	}
}

// parseTime is timeCache.parse without the cache: the reference the tests hold the
// cache to (production code only parses through a timeCache).
func parseTime(b []byte) (int64, bool) {
	if len(b) < 19 {
		return 0, false
	}
	minute, ok := parseMinute(b[:16])
	if !ok {
		return 0, false
	}
	return parseSeconds(minute, b[16:])
}
