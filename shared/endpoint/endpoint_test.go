package endpoint

import (
	"errors"
	"strings"
	"testing"
)

// secret is written into every malformed URL below; no 3-byte piece of it may reach a message.
const secret = "qZ7%zzvX9"

// leaks reports the first 3-byte piece of secret found in msg.
func leaks(msg string) string {
	for i := 0; i+3 <= len(secret); i++ {
		if p := secret[i : i+3]; strings.Contains(msg, p) {
			return p
		}
	}
	return ""
}

func TestSecretsNeverInURLErrors(t *testing.T) {
	for _, raw := range []string{
		"ftp://u:" + secret + "@host:1",           // wrong scheme, parses
		"https://u:" + secret + "@host:8080",      // bad % escape inside the password
		"https://u:" + secret + "@host:80x",       // bad port
		"https://u:qZ7/vX9@host:1",                // "/" in the password: the host would be "u:qZ7"
		"https://u:qZ7?vX9@host",                  // "?" in the password
		"https://u:qZ7#vX9@host",                  // "#" in the password
		"https://u:qZ7vX9@host:9200",              // well-formed, but credentials in a URL are refused
		"u:qZ7vX9@host:1",                         // no scheme at all
		"https://u:qZ7vX9@ho\x7fst:1",             // control character
		"https://u:qZ7vX9@[::1:1",                 // broken IPv6 literal
		"http://u:qZ7vX9@logstash.example.com:80", // insecure and credentials in the URL
	} {
		_, err := Check(raw, Options{Name: "LOGSTASH_URL", Credentials: true})
		if err == nil {
			t.Errorf("%q: accepted", raw)
			continue
		}
		msg := err.Error()
		if p := leaks(msg); p != "" || strings.Contains(msg, "vX9") {
			t.Errorf("%q: the error quotes the secret (%q): %s", raw, p, msg)
		}
		if !strings.Contains(msg, "LOGSTASH_URL") {
			t.Errorf("%q: the error does not name the setting: %s", raw, msg)
		}
		if r := Redact(raw); strings.Contains(r, "vX9") || leaks(r) != "" {
			t.Errorf("Redact(%q) = %q keeps the secret", raw, r)
		}
	}
}

func TestSecretsRedactKeepsWhatIsNotSecret(t *testing.T) {
	for raw, want := range map[string]string{
		"https://logstash.internal:8080/ingest": "https://logstash.internal:8080/ingest",
		"https://u:p@logstash.internal:8080":    "https://REDACTED@logstash.internal:8080",
		"ftp://u:S3CRET@host:1":                 "ftp://REDACTED@host:1",
		"https://host:9200/?token=x#frag":       "https://host:9200/",
		"u:p@host:1":                            "REDACTED@host:1",
	} {
		if got := Redact(raw); got != want {
			t.Errorf("Redact(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestSecretsURLProblemsAreNamed(t *testing.T) {
	for raw, want := range map[string]string{
		"https://u:p%zz@host":   "%-escape",
		"https://host:80x":      "invalid port",
		"ftp://host:1":          "want http:// or https://",
		"https://":              "no host",
		"logstash.internal:80":  "want http:// or https://",
		"https://u:p@host:8080": "must not carry credentials",
	} {
		_, err := Check(raw, Options{Name: "ES_URL"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error saying %q", raw, err, want)
		}
	}
}

func TestSecretsPlainHTTPWithCredentialsRefused(t *testing.T) {
	o := Options{Name: "ES_URL", Credentials: true, AllowName: "ES_ALLOW_INSECURE"}
	_, err := Check("http://search.example.com:9200", o)
	if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "ES_ALLOW_INSECURE=true") {
		t.Fatalf("plain http with credentials to a remote host: got %v, want ErrInsecure naming ES_ALLOW_INSECURE", err)
	}
	for _, raw := range []string{"http://127.0.0.1:9200", "http://127.9.9.9:9200", "http://[::1]:9200", "http://localhost:9200", "http://LocalHost"} {
		if _, err := Check(raw, o); err != nil {
			t.Errorf("%s is loopback: %v", raw, err)
		}
	}
	if _, err := Check("https://search.example.com:9200", o); err != nil {
		t.Errorf("https: %v", err)
	}
	o.Credentials = false
	if _, err := Check("http://search.example.com:9200", o); err != nil {
		t.Errorf("no credentials: %v", err)
	}
	o.Credentials, o.AllowInsecure = true, true
	if u, err := Check("http://search.example.com:9200", o); err != nil || u.Host != "search.example.com:9200" {
		t.Errorf("explicitly allowed: %v, %v", u, err)
	}
}
