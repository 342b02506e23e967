package escape

import (
	"bytes"
	"strings"
	"testing"
)

func TestOutputTextIsInert(t *testing.T) {
	for in, want := range map[string]string{
		"AWSLogs/123/x.log.gz":    "AWSLogs/123/x.log.gz",
		"a b é 日本":                "a b é 日本",
		"\x1b[2J\x1b]0;pwned\x07": `\x1b[2J\x1b]0;pwned\a`,
		"ok\rFAKE":                `ok\rFAKE`,
		"one\ntwo":                `one\ntwo`,
		"bad\xff\xfeutf8":         `bad\xff\xfeutf8`,
		"\u202egpj.exe":           `\u202egpj.exe`,
		"c1\u009bcontrol":         `c1\u009bcontrol`,
		`back\slash`:              `back\slash`,
		"del\x7f tab\t nul\x00":   `del\x7f tab\t nul\x00`,
	} {
		got := Text(in)
		if got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
		assertInert(t, got)
		if again := Text(got); again != got {
			t.Errorf("Text is not idempotent: Text(%q) = %q", got, again)
		}
	}
	if got := Lines("a\x1b\nb\r"); got != "a\\x1b\nb\\r" {
		t.Errorf("Lines kept or escaped the wrong things: %q", got)
	}
}

// assertInert fails if s holds anything a terminal would act on.
func assertInert(t *testing.T, s string) {
	t.Helper()
	if !IsInert(s) || strings.ContainsAny(s, "\n\t") {
		t.Errorf("%q is not inert", s)
	}
}

func TestOutputPrefixOfHugeInput(t *testing.T) {
	huge := bytes.Repeat([]byte("\x1b[31m{\"Records\":"), 3<<20) // 48 MiB of a malformed event
	got := Prefix(huge, DefaultPrefix)
	if len(got) > 4*DefaultPrefix+32 {
		t.Errorf("prefix of a %d-byte input is %d bytes", len(huge), len(got))
	}
	if !strings.HasSuffix(got, "… (50331648 bytes)") || !strings.HasPrefix(got, `\x1b[31m{"Records":`) {
		t.Errorf("Prefix = %q", got)
	}
	assertInert(t, got)
	// Cut at a rune boundary: no half of "é" left to become invalid UTF-8 or \xc3.
	if got := String(strings.Repeat("é", 100), 5); got != "éé… (200 bytes)" {
		t.Errorf("String cut inside a rune: %q", got)
	}
	if got := Prefix([]byte("short"), DefaultPrefix); got != "short" {
		t.Errorf("short input: %q", got)
	}
}

func TestOutputTextDoesNotAllocateForPlainNames(t *testing.T) {
	name := "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/25/x.log.gz"
	if n := testing.AllocsPerRun(100, func() { Text(name) }); n != 0 {
		t.Errorf("%v allocations for a name that needs no escaping", n)
	}
}
