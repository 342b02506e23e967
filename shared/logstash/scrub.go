package logstash

import (
	"encoding/base64"
	"regexp"
	"strings"

	"github.com/logferry/logferry/shared/escape"
)

// An error body is kept for the operator (logs, the dead-letter header), but a proxy or a
// misconfigured pipeline in front of Logstash can echo the request back, headers and all.
// authHeader matches the value of an Authorization-like header written as a header line
// ("Authorization: Basic …"), JSON ("authorization":"…") or a Ruby hash
// ("http_authorization"=>"…"): the value runs to its closing quote, or to the end of the
// line, a comma, a semicolon or a brace.
var authHeader = regexp.MustCompile(`(?i)((?:proxy-)?authorization|x-api-key|api[-_]?key|x-amz-security-token|set-cookie|cookie)("?\s*(?:=>|:|=)\s*)("(?:[^"\\]|\\.)*"?|[^\r\n,;}]*)`)

// redacted replaces what was removed.
const redacted = "REDACTED"

// scrubber removes credentials from text Logstash sent back.
type scrubber struct {
	secrets []string // the exact credentials this sink sends, in every form they are sent
}

func newScrubber(cfg Config) scrubber {
	var s scrubber
	add := func(v string) {
		if len(v) >= 4 { // shorter values would blank out ordinary words
			s.secrets = append(s.secrets, v)
		}
	}
	if cfg.Username != "" {
		add(cfg.Password)
		add(base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password)))
	}
	add(cfg.APIKey)
	add(cfg.BearerToken)
	for k, vs := range cfg.Headers {
		if authHeader.MatchString(k + ":") {
			for _, v := range vs {
				add(v)
			}
		}
	}
	return s
}

// scrub returns body with Authorization-like header values and this sink's own
// credentials replaced by REDACTED, escaped into one inert line (escape.Text): it is
// shown in terminals and logs, and whoever answers shapes it.
func (s scrubber) scrub(body []byte) string {
	t := string(body)
	for _, v := range s.secrets {
		t = strings.ReplaceAll(t, v, redacted)
	}
	return escape.Text(authHeader.ReplaceAllStringFunc(t, func(m string) string {
		sub := authHeader.FindStringSubmatch(m)
		v := redacted
		if strings.HasPrefix(sub[3], `"`) {
			v = `"` + redacted + `"`
		}
		return sub[1] + sub[2] + v
	}))
}
