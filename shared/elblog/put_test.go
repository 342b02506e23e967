package elblog

import (
	"math"
	"strconv"
	"testing"
)

func TestFormatOffset(t *testing.T) {
	var buf [window + 20]byte
	for _, v := range []int64{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, 1 << 40, math.MaxInt64, -1, -100, math.MinInt64} {
		if got, want := string(formatOffset(&buf, v)), strconv.FormatInt(v, 10); got != want {
			t.Errorf("formatOffset(%d) = %q, want %q", v, got, want)
		}
	}
	for v := int64(0); v < 100000; v += 7 {
		if got, want := string(formatOffset(&buf, v)), strconv.FormatInt(v, 10); got != want {
			t.Fatalf("formatOffset(%d) = %q, want %q", v, got, want)
		}
	}
}
