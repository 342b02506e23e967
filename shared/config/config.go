// Package config reads logferry's settings from environment variables, the way Lambda
// functions are configured, and resolves credentials kept in AWS Secrets Manager or SSM
// Parameter Store. Every error names the variable that was wrong.
package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/logferry/logferry/shared/endpoint"
)

// Getenv is os.Getenv's signature; tests and the CLI pass their own.
type Getenv func(string) string

// Ingest is the configuration of the ingest function and of `logferry ingest`.
type Ingest struct {
	// LogstashURL is Logstash's http input (LOGSTASH_URL, required).
	LogstashURL string
	// Credentials is where the Logstash credentials live (LOGSTASH_CREDENTIALS): a Secrets
	// Manager secret ARN or name, an SSM parameter ("ssm:/path" or a parameter ARN), holding
	// JSON {"username","password"} or {"api_key"}. Default: none. Locally, LOGSTASH_USERNAME,
	// LOGSTASH_PASSWORD and LOGSTASH_API_KEY are read directly.
	Credentials string
	Username    string
	Password    string
	APIKey      string
	// CACertFile is a PEM bundle trusted in addition to the system roots (LOGSTASH_CA_CERT).
	CACertFile string
	// AllowInsecure permits credentials over plain http:// to a Logstash that is not on
	// loopback (LOGSTASH_ALLOW_INSECURE, default false: such a URL is refused).
	AllowInsecure bool

	// BatchDocs is the most documents per request (LOGSTASH_BATCH_DOCS, default 0 = the sink's default).
	BatchDocs int
	// BatchBytes is the most uncompressed bytes per request (LOGSTASH_BATCH_BYTES, default 0 = the sink's default).
	BatchBytes int
	// Concurrency is the most requests in flight per object (LOGSTASH_CONCURRENCY, default 0 = the sink's default).
	Concurrency int
	// RequestTimeout bounds one HTTP request (LOGSTASH_TIMEOUT, default 0 = the sink's default).
	RequestTimeout time.Duration
	// MaxRetries, when set, also bounds how often a batch is retried before it is
	// dead-lettered (LOGSTASH_MAX_RETRIES, at least 1; default 0 = no count limit, the
	// retry budget alone).
	MaxRetries int
	// RetryBudget is how long one batch is retried before it is dead-lettered
	// (LOGSTASH_RETRY_BUDGET, default 0 = the sink's default, 2 minutes); the Lambda
	// never retries past its deadline margin.
	RetryBudget time.Duration
	// Codec is "json" (a JSON array per request) or "json_lines" (LOGSTASH_CODEC, default "json").
	Codec string
	// Gzip compresses request bodies (LOGSTASH_GZIP, default true).
	Gzip bool

	// DeadLetter is where batches that failed after retries are kept for replay
	// (DEAD_LETTER_URI: s3://bucket/prefix/ or a local directory; default none, which makes
	// any undeliverable batch fail the object so that it is redelivered).
	DeadLetter string
	// ContinuationQueueURL is the SQS queue continuations are sent to when the function was
	// not triggered from SQS (CONTINUATION_QUEUE_URL, default: re-invoke the function itself).
	ContinuationQueueURL string
	// DeadlineMargin is how long before the Lambda deadline the handler stops reading, flushes
	// and hands the rest of the object on (DEADLINE_MARGIN, default 20s).
	DeadlineMargin time.Duration
	// IncludeOriginal adds event.original to lines that parsed, too (INCLUDE_ORIGINAL, default false).
	IncludeOriginal bool
	// MaxLineBytes is the longest line parsed; longer lines are shipped truncated as parse
	// failures (MAX_LINE_BYTES, default 0 = 1 MiB).
	MaxLineBytes int
	// MetricsNamespace is the CloudWatch namespace of the per-object metrics
	// (METRICS_NAMESPACE, default "logferry").
	MetricsNamespace string
	// Mirror is a second Logstash that gets every batch too (LOGSTASH_MIRROR_*). Default none.
	Mirror Mirror
}

// LoadIngest reads the ingest configuration.
func LoadIngest(getenv Getenv) (Ingest, error) {
	r := reader{getenv: getenv}
	c := Ingest{
		LogstashURL:          r.str("LOGSTASH_URL", ""),
		Credentials:          r.str("LOGSTASH_CREDENTIALS", ""),
		Username:             r.str("LOGSTASH_USERNAME", ""),
		Password:             r.str("LOGSTASH_PASSWORD", ""),
		APIKey:               r.str("LOGSTASH_API_KEY", ""),
		CACertFile:           r.str("LOGSTASH_CA_CERT", ""),
		AllowInsecure:        r.bool("LOGSTASH_ALLOW_INSECURE", false),
		BatchDocs:            r.int("LOGSTASH_BATCH_DOCS", 0, 0),
		BatchBytes:           r.int("LOGSTASH_BATCH_BYTES", 0, 0),
		Concurrency:          r.int("LOGSTASH_CONCURRENCY", 0, 0),
		RequestTimeout:       r.duration("LOGSTASH_TIMEOUT", 0),
		MaxRetries:           r.int("LOGSTASH_MAX_RETRIES", 0, 1),
		RetryBudget:          r.duration("LOGSTASH_RETRY_BUDGET", 0),
		Codec:                r.str("LOGSTASH_CODEC", "json"),
		Gzip:                 r.bool("LOGSTASH_GZIP", true),
		DeadLetter:           r.str("DEAD_LETTER_URI", ""),
		ContinuationQueueURL: r.str("CONTINUATION_QUEUE_URL", ""),
		DeadlineMargin:       r.duration("DEADLINE_MARGIN", 20*time.Second),
		IncludeOriginal:      r.bool("INCLUDE_ORIGINAL", false),
		MaxLineBytes:         r.int("MAX_LINE_BYTES", 0, 0),
		MetricsNamespace:     r.str("METRICS_NAMESPACE", "logferry"),
		Mirror:               r.mirror(),
	}
	if c.Codec != "json" && c.Codec != "json_lines" {
		r.fail("LOGSTASH_CODEC", c.Codec, `must be "json" or "json_lines"`)
	}
	if c.LogstashURL == "" {
		r.errs = append(r.errs, "LOGSTASH_URL is required (Logstash's http input, e.g. https://logstash.internal:8080)")
	} else {
		creds := c.Credentials != "" || c.Username != "" || c.Password != "" || c.APIKey != ""
		r.url("LOGSTASH_URL", c.LogstashURL, creds, c.AllowInsecure, "LOGSTASH_ALLOW_INSECURE")
	}
	return c, r.err()
}

// url checks a URL setting by endpoint's rules: its message never quotes credentials
// written into the URL, and plain http:// with credentials to a host that is not loopback
// is refused unless allowName is true. Any URL setting (a mirror, a proxy) calls it.
func (r *reader) url(name, value string, credentials, allowInsecure bool, allowName string) {
	_, err := endpoint.Check(value, endpoint.Options{
		Name: name, Credentials: credentials, AllowInsecure: allowInsecure, AllowName: allowName,
	})
	if err != nil {
		r.errs = append(r.errs, err.Error())
	}
}

// reader collects every bad variable, so one run reports them all.
type reader struct {
	getenv Getenv
	errs   []string
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) int(name string, def, min int) int {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		r.fail(name, v, fmt.Sprintf("must be an integer ≥ %d", min))
		return def
	}
	return n
}

func (r *reader) bool(name string, def bool) bool {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, v, "must be true or false")
		return def
	}
	return b
}

// duration accepts Go durations ("45s", "1m30s") and plain seconds ("45").
func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.fail(name, v, `must be a duration such as "30s" or a number of seconds`)
		return def
	}
	return d
}

func (r *reader) fail(name, value, why string) {
	r.errs = append(r.errs, fmt.Sprintf("%s=%q %s", name, value, why))
}

func (r *reader) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %s", strings.Join(r.errs, "; "))
}
