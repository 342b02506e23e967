// Package endpoint holds the rules for the URLs logferry sends requests to (Logstash,
// Elasticsearch): how one is parsed and quoted in a message without ever echoing a secret
// written into it, and when plain http:// must be refused because credentials would cross
// the network in clear text. Every URL setting calls Check, so the rules are the same for
// all of them.
package endpoint

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Options say how to check one URL setting.
type Options struct {
	// Name is the setting, named in every error (e.g. "LOGSTASH_URL"). Required.
	Name string
	// Credentials is true when requests to the URL carry credentials (basic auth, an API
	// key, a bearer token). Default false.
	Credentials bool
	// AllowInsecure permits plain http:// with Credentials to a host that is not loopback.
	// Default false: refused.
	AllowInsecure bool
	// AllowName is the setting that sets AllowInsecure, named in the refusal so the operator
	// knows the way out (e.g. "LOGSTASH_ALLOW_INSECURE"). Default: none named.
	AllowName string
}

// ErrInsecure is wrapped by the error of a plain-http URL that would carry credentials.
var ErrInsecure = errors.New("credentials would be sent unencrypted")

// Check parses raw as http(s)://host[:port][/path]. Its errors name o.Name and quote the
// URL only as Redact makes it, and say what is wrong without quoting url.Parse's message,
// which repeats the whole URL (password included) or the bad part of it.
func Check(raw string, o Options) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s=%q is not a valid URL: %s", o.Name, Redact(raw), parseProblem(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s=%q: want http:// or https://", o.Name, Redact(raw))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s=%q: no host (want %s://host[:port])", o.Name, Redact(raw), u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s=%q must not carry credentials in the URL: give them in their own settings", o.Name, Redact(raw))
	}
	if u.Scheme == "http" && o.Credentials && !o.AllowInsecure && !IsLoopback(u.Hostname()) {
		allow := ""
		if o.AllowName != "" {
			allow = fmt.Sprintf(", or set %s=true to send them anyway", o.AllowName)
		}
		return nil, fmt.Errorf("%s=%q: %w over plain http to %s: use https://%s",
			o.Name, Redact(raw), ErrInsecure, u.Hostname(), allow)
	}
	return u, nil
}

// parseProblem names what url.Parse refused, in words that quote nothing of the URL: the
// bad escape or port it would quote can be part of a password.
func parseProblem(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var esc url.EscapeError
	var host url.InvalidHostError
	switch msg := err.Error(); {
	case errors.As(err, &esc):
		return "a malformed %-escape (% must be followed by two hex digits)"
	case errors.As(err, &host):
		return "an invalid character in the host"
	case strings.Contains(msg, "invalid port"):
		return "an invalid port"
	case strings.Contains(msg, "control character"):
		return "a control character"
	case strings.Contains(msg, "missing protocol scheme"), strings.Contains(msg, "first path segment"):
		return "no scheme (want http:// or https://)"
	}
	return "malformed"
}

// IsLoopback reports whether host (without port) is this machine: "localhost" or a
// loopback address. Traffic to it never leaves the machine, so plain http is harmless.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Redact returns raw fit for a message or a log: userinfo becomes "REDACTED", and the
// query and fragment, which can hold tokens, are dropped. It works on strings url.Parse
// refuses too, so a malformed URL is never echoed whole: everything up to the last "@"
// before the path is taken for userinfo (a password may hold "/", "?" or "#" unescaped,
// so the path is taken to start only after that "@").
func Redact(raw string) string {
	scheme, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "REDACTED@" + rest[at+1:]
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	return scheme + rest
}
