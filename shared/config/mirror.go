package config

import (
	"path/filepath"
	"strings"
	"time"
)

// Mirror is a second Logstash that gets every batch too, while moving to a new cluster
// (LOGSTASH_MIRROR_*; the same forms as the primary's variables). Its failures never fail
// an object: they are retried within RetryBudget, then dead-lettered under the primary's
// DEAD_LETTER_URI + "mirror/".
type Mirror struct {
	// URL is the mirror's http input (LOGSTASH_MIRROR_URL). Default "": no mirror.
	URL string
	// Credentials, Username, Password, APIKey and CACertFile are as the primary's
	// (LOGSTASH_MIRROR_CREDENTIALS, _USERNAME, _PASSWORD, _API_KEY, _CA_CERT). Default none.
	Credentials, Username, Password, APIKey, CACertFile string
	// RetryBudget bounds the time one mirror batch spends retrying
	// (LOGSTASH_MIRROR_RETRY_BUDGET). Default 0: MirrorRetryBudget.
	RetryBudget time.Duration
	// MaxRetries bounds one mirror batch's retries (LOGSTASH_MIRROR_MAX_RETRIES). Default 0:
	// the sink's default.
	MaxRetries int
	// BufferDocs is the most documents waiting for the mirror; beyond it they go straight to
	// its dead letters (LOGSTASH_MIRROR_BUFFER_DOCS). Default 0: the sink's (20000).
	BufferDocs int
	// Wait bounds how long an object waits for the mirror after the primary is done
	// (LOGSTASH_MIRROR_WAIT). Default 0: the sink's (5s).
	Wait time.Duration
}

// MirrorRetryBudget is the mirror's retry budget when LOGSTASH_MIRROR_RETRY_BUDGET is not
// set: shorter than the primary's, since a mirror's failures are kept for replay anyway.
const MirrorRetryBudget = 30 * time.Second

func (r *reader) mirror() Mirror {
	m := Mirror{
		URL:         r.str("LOGSTASH_MIRROR_URL", ""),
		Credentials: r.str("LOGSTASH_MIRROR_CREDENTIALS", ""),
		Username:    r.str("LOGSTASH_MIRROR_USERNAME", ""),
		Password:    r.str("LOGSTASH_MIRROR_PASSWORD", ""),
		APIKey:      r.str("LOGSTASH_MIRROR_API_KEY", ""),
		CACertFile:  r.str("LOGSTASH_MIRROR_CA_CERT", ""),
		RetryBudget: r.duration("LOGSTASH_MIRROR_RETRY_BUDGET", 0),
		MaxRetries:  r.int("LOGSTASH_MIRROR_MAX_RETRIES", 0, 1),
		BufferDocs:  r.int("LOGSTASH_MIRROR_BUFFER_DOCS", 0, 1),
		Wait:        r.duration("LOGSTASH_MIRROR_WAIT", 0),
	}
	if m.URL != "" && !strings.HasPrefix(m.URL, "http://") && !strings.HasPrefix(m.URL, "https://") {
		r.fail("LOGSTASH_MIRROR_URL", m.URL, "must start with http:// or https://")
	}
	if m.URL == "" && (m.Credentials != "" || m.Username != "" || m.APIKey != "") {
		r.errs = append(r.errs, "LOGSTASH_MIRROR_* credentials are set but LOGSTASH_MIRROR_URL is not")
	}
	return m
}

// MirrorDeadLetter is where the mirror's dead letters go: the primary's DEAD_LETTER_URI +
// "mirror/" (an S3 prefix or a subdirectory); "" when the primary has none.
func MirrorDeadLetter(uri string) string {
	switch {
	case uri == "":
		return ""
	case strings.HasPrefix(uri, "s3://"):
		return strings.TrimSuffix(uri, "/") + "/mirror/"
	}
	return filepath.Join(uri, "mirror")
}

// AsMirror returns c with the mirror as its only Logstash: its URL, credentials, retries
// and dead letters (`logferry ingest --to-mirror`, `logferry replay --mirror`). url, when
// set, replaces LOGSTASH_MIRROR_URL.
func (c Ingest) AsMirror(url string) Ingest {
	m := c.Mirror
	if url != "" {
		m.URL = url
	}
	c.LogstashURL = m.URL
	c.Credentials, c.Username, c.Password, c.APIKey, c.CACertFile = m.Credentials, m.Username, m.Password, m.APIKey, m.CACertFile
	if m.MaxRetries > 0 {
		c.MaxRetries = m.MaxRetries
	}
	c.DeadLetter = MirrorDeadLetter(c.DeadLetter)
	c.Mirror = Mirror{}
	return c
}
