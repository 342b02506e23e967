package logstash

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/logferry/logferry/shared/endpoint"
)

// Codec is the body format, matching the codec the http input applies to it.
type Codec string

const (
	// CodecJSON sends a JSON array with Content-Type application/json, which the http
	// input's default additional_codecs decode with the json codec (one event per element).
	CodecJSON Codec = "json"
	// CodecJSONLines sends NDJSON with Content-Type application/x-ndjson; the pipeline
	// must map it: additional_codecs => {"application/x-ndjson" => "json_lines"}.
	CodecJSONLines Codec = "json_lines"
)

// Source names the object a batch's documents came from; it is written with dead
// letters so an operator knows what a failed batch holds. Both fields are optional.
type Source struct {
	Bucket string `json:"bucket,omitempty"`
	Key    string `json:"key,omitempty"`
}

// BatchResult is what OnBatch learns about one batch once its fate is final.
type BatchResult struct {
	Docs         int   // documents in the batch
	Sent         int   // acknowledged by Logstash
	DeadLettered int   // written to the DeadLetter
	Lost         int   // neither sent nor dead-lettered
	Refused      int   // not sent: Logstash refused the credentials
	Err          error // the last failure, nil when Sent == Docs
}

// Config configures an Indexer. Only URL is required.
type Config struct {
	// URL of the Logstash http input, http:// or https://. Required.
	URL string

	// Username and Password set HTTP basic auth (the input's user/password). Default none.
	Username, Password string
	// APIKey sends "Authorization: ApiKey <APIKey>" (for a proxy in front of Logstash).
	// Default none; at most one of Username, APIKey and BearerToken may be set.
	APIKey string
	// BearerToken sends "Authorization: Bearer <BearerToken>". Default none.
	BearerToken string
	// Headers are added to every request. Default none.
	Headers http.Header
	// AllowInsecureHTTP permits an http:// URL to a host that is not loopback when
	// requests carry credentials (Username, APIKey, BearerToken or an Authorization
	// header). Default false: refused, since they would cross the network in clear text.
	AllowInsecureHTTP bool

	// HTTPClient sends the requests. Default: a client with its own keep-alive
	// transport (Workers idle connections) using CACertPEM/TLSConfig, which does not
	// follow redirects; when set, those TLS fields are ignored, and the client should
	// not follow redirects either (a 302 would turn the POST into a GET).
	HTTPClient *http.Client
	// CACertPEM adds PEM certificates to the system roots, for a private CA. Default none.
	CACertPEM []byte
	// TLSConfig is cloned for the default transport. Default: Go's defaults, which
	// verify the server. A config with InsecureSkipVerify is refused.
	TLSConfig *tls.Config

	// BatchDocs is the most documents in one request. Default 500.
	BatchDocs int
	// BatchBytes is the most uncompressed document bytes in one request; a single larger
	// document goes alone. Default 4 MiB, and never more than MaxContentLength allows.
	BatchBytes int
	// MaxContentLength is the input's max_content_length. Default 100 MiB (the input's).
	MaxContentLength int
	// FlushInterval sends a partial batch once its first document is this old.
	// Default 1s; negative disables (Close still flushes).
	FlushInterval time.Duration
	// Workers is the number of requests in flight at once. Default 3.
	Workers int
	// Codec is the body format. Default CodecJSON.
	Codec Codec
	// DisableGzip sends bodies uncompressed. Default false: bodies are gzipped at
	// BestSpeed, which shrinks ELB JSON ~8x for little CPU.
	DisableGzip bool

	// MaxRetries, when positive, also bounds how many times one request is retried
	// after 429, 5xx, 408 or a network error; negative: no retries. Default 0: no count
	// limit, RetryBudget alone decides, so an outage of less than the budget (a Logstash
	// restart) costs time, not dead letters.
	MaxRetries int
	// RetryBudget bounds the time one batch spends retrying. Default 2 minutes.
	RetryBudget time.Duration
	// RetryUntil, when set, is a time no retry waits past, whatever the budget says (the
	// Lambda's deadline margin). Default none.
	RetryUntil time.Time
	// BackoffBase and BackoffMax shape the exponential backoff with full jitter: the
	// wait before retry n is uniform in [0, min(BackoffMax, BackoffBase*2^n)).
	// Defaults 100ms and 10s.
	BackoffBase, BackoffMax time.Duration
	// RequestTimeout bounds one request, including reading the answer. Default 30s.
	RequestTimeout time.Duration

	// DeadLetter keeps batches that could not be delivered. Default nil: such batches
	// are lost and counted as Lost, and Close reports them.
	DeadLetter DeadLetter
	// DeadLetterTimeout bounds one DeadLetter.Put. Default 30s; it is not cut short by
	// Close's context, because losing the batch is worse than a late return.
	DeadLetterTimeout time.Duration
	// Source is recorded with dead letters. Default none.
	Source Source

	// Logger receives retries (debug), dead letters (warn) and permanent failures
	// (error). Credentials are never logged. Default: discard.
	Logger *slog.Logger
	// OnBatch, when set, is called from a worker after each batch's fate is final.
	OnBatch func(BatchResult)
}

const (
	defaultBatchDocs        = 500
	defaultBatchBytes       = 4 << 20
	defaultMaxContentLength = 100 << 20
	defaultWorkers          = 3
)

// Validate reports what NewIndexer would refuse in cfg, without starting anything.
func (cfg Config) Validate() error {
	_, _, err := cfg.withDefaults()
	return err
}

func (cfg Config) sendsCredentials() bool {
	return cfg.Username != "" || cfg.Password != "" || cfg.APIKey != "" || cfg.BearerToken != "" ||
		cfg.Headers.Get("Authorization") != "" || cfg.Headers.Get("Proxy-Authorization") != ""
}

// withDefaults validates cfg and fills in its defaults.
func (cfg Config) withDefaults() (Config, *url.URL, error) {
	if cfg.URL == "" {
		return cfg, nil, errors.New("logstash: Config.URL is required")
	}
	u, err := endpoint.Check(cfg.URL, endpoint.Options{
		Name: "logstash: Config.URL", Credentials: cfg.sendsCredentials(), AllowInsecure: cfg.AllowInsecureHTTP,
		AllowName: "Config.AllowInsecureHTTP",
	})
	if err != nil {
		return cfg, nil, err
	}
	auths := 0
	for _, s := range []string{cfg.Username, cfg.APIKey, cfg.BearerToken} {
		if s != "" {
			auths++
		}
	}
	if auths > 1 {
		return cfg, nil, errors.New("logstash: set only one of Username, APIKey and BearerToken")
	}
	if cfg.TLSConfig != nil && cfg.TLSConfig.InsecureSkipVerify {
		return cfg, nil, errors.New("logstash: TLSConfig.InsecureSkipVerify is refused; add the server's CA with CACertPEM instead")
	}
	switch cfg.Codec {
	case "":
		cfg.Codec = CodecJSON
	case CodecJSON, CodecJSONLines:
	default:
		return cfg, nil, fmt.Errorf("logstash: unknown Codec %q (want %q or %q)", cfg.Codec, CodecJSON, CodecJSONLines)
	}
	if cfg.BatchDocs <= 0 {
		cfg.BatchDocs = defaultBatchDocs
	}
	if cfg.MaxContentLength <= 0 {
		cfg.MaxContentLength = defaultMaxContentLength
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = defaultBatchBytes
	}
	// The JSON array adds a comma per document and two brackets.
	if limit := cfg.MaxContentLength - cfg.BatchDocs - 2; cfg.BatchBytes > limit {
		cfg.BatchBytes = limit
	}
	if cfg.BatchBytes <= 0 {
		return cfg, nil, fmt.Errorf("logstash: MaxContentLength %d is too small for BatchDocs %d", cfg.MaxContentLength, cfg.BatchDocs)
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = defaultWorkers
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = -1 // no retries (0 means no count limit)
	}
	if cfg.RetryBudget <= 0 {
		cfg.RetryBudget = 2 * time.Minute
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 100 * time.Millisecond
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 10 * time.Second
	}
	if cfg.BackoffMax < cfg.BackoffBase {
		cfg.BackoffMax = cfg.BackoffBase
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.DeadLetterTimeout <= 0 {
		cfg.DeadLetterTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		if cfg.HTTPClient, err = newClient(cfg); err != nil {
			return cfg, nil, err
		}
	}
	return cfg, u, nil
}

// NewHTTPClient returns the client an Indexer would make for cfg (keep-alive, cfg's
// TLS settings, no redirects followed), for callers that run several Indexers — one per
// object — and want them to share connections: set it as each one's Config.HTTPClient.
// idleConns is how many idle connections to keep (at least cfg's Workers).
func NewHTTPClient(cfg Config, idleConns int) (*http.Client, error) {
	cfg.HTTPClient = &http.Client{} // validate and default the rest without building one
	cfg, _, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg.Workers = max(cfg.Workers, idleConns)
	return newClient(cfg)
}

func newClient(cfg Config) (*http.Client, error) {
	tr, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Transport: tr,
		// A followed 301/302 turns the POST into a bodyless GET that the input would
		// answer 200: documents lost yet counted sent. A redirect is a failure instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

func newTransport(cfg Config) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Workers
	tr.MaxConnsPerHost = 0
	if cfg.TLSConfig != nil {
		tr.TLSClientConfig = cfg.TLSConfig.Clone()
	}
	if len(cfg.CACertPEM) > 0 {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		}
		pool := tr.TLSClientConfig.RootCAs
		if pool == nil {
			var err error
			if pool, err = x509.SystemCertPool(); err != nil {
				pool = x509.NewCertPool()
			}
		} else {
			pool = pool.Clone()
		}
		if !pool.AppendCertsFromPEM(cfg.CACertPEM) {
			return nil, errors.New("logstash: CACertPEM holds no PEM certificate")
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return tr, nil
}
