// Package reindexstep is what the reindex Lambda function does: it builds the reindex
// steps from the environment (Elasticsearch URL, credentials or a Secrets Manager secret,
// CA, timeouts) and runs one step per invocation, chosen by the event's "step" (or
// "next"), returning the small State the next Step Functions state passes on, or an error
// under its stable name. functions/reindex only starts the Lambda runtime on it;
// `logferry reindex` (the local state-machine run) and `logferry invoke reindex` run it
// in-process, so all of them run this code.
package reindexstep

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/elastic/go-elasticsearch/v8"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/endpoint"
	"github.com/logferry/logferry/shared/reindex"
)

// Environment variables the handler reads.
const (
	EnvURL       = "ES_URL"        // required: https://host:9200 (http only for local nodes)
	EnvUsername  = "ES_USERNAME"   // basic auth, with ES_PASSWORD
	EnvPassword  = "ES_PASSWORD"   //
	EnvAPIKey    = "ES_API_KEY"    // base64 API key (id:key encoded), instead of basic auth
	EnvSecretARN = "ES_SECRET_ARN" // Secrets Manager secret: {"username","password"} or {"api_key"}
	EnvCACert    = "ES_CA_CERT"    // PEM file of the CA that signed the cluster's certificate
	EnvPoll      = "REINDEX_POLL_SECONDS"
	EnvTimeout   = "ES_REQUEST_TIMEOUT" // one request, e.g. "30s" (the default); keep it under the function's timeout
	// EnvAllowInsecure=true permits credentials over plain http:// to a cluster that is not
	// on loopback; without it such an ES_URL is refused.
	EnvAllowInsecure = "ES_ALLOW_INSECURE"
)

// MaxEventBytes caps the event before it is decoded: a state is a few KiB, and Step
// Functions passes at most 256 KiB.
const MaxEventBytes = 256 << 10

// Secrets is the one Secrets Manager call the handler makes; tests pass a fake for AWS.
type Secrets = config.SecretsManagerAPI

// Options are what New takes besides the environment.
type Options struct {
	// Secrets reads ES_SECRET_ARN. Default: a Secrets Manager client from the default AWS
	// configuration, made only when ES_SECRET_ARN is set.
	Secrets Secrets
	// Logger receives one line per step. Credentials are never logged. Default: discard.
	Logger *slog.Logger
}

// Handler runs reindex steps for Lambda.
type Handler struct {
	steps *reindex.Steps
	log   *slog.Logger
}

// New builds a Handler from the environment (see the Env constants).
func New(ctx context.Context, getenv func(string) string) (*Handler, error) {
	return NewWithOptions(ctx, getenv, Options{})
}

// NewWithOptions is New with a Secrets Manager client and logger of the caller's choice.
func NewWithOptions(ctx context.Context, getenv func(string) string, o Options) (*Handler, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg, auth, err := clientConfig(ctx, getenv, &o)
	if err != nil {
		return nil, err
	}
	es, err := elasticsearch.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch client: %w", err)
	}
	rc := reindex.Config{Logger: o.Logger}
	if v := getenv(EnvPoll); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3600 {
			return nil, fmt.Errorf("%s=%q: want whole seconds from 1 to 3600", EnvPoll, v)
		}
		rc.PollInterval = time.Duration(n) * time.Second
	}
	if v := getenv(EnvTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond || d > 15*time.Minute {
			return nil, fmt.Errorf("%s=%q: want a duration from 100ms to 15m, e.g. 30s", EnvTimeout, v)
		}
		rc.RequestTimeout = d
	}
	o.Logger.Info("reindex handler ready", "es_url", endpoint.Redact(cfg.Addresses[0]), "auth", auth, "custom_ca", len(cfg.CACert) > 0)
	return &Handler{steps: reindex.New(es, rc), log: o.Logger}, nil
}

// clientConfig turns the environment into an elasticsearch.Config; auth names the method
// for the log.
func clientConfig(ctx context.Context, getenv func(string) string, o *Options) (cfg elasticsearch.Config, auth string, err error) {
	raw := strings.TrimSpace(getenv(EnvURL))
	if raw == "" {
		return cfg, "", fmt.Errorf("%s is not set: give the cluster URL, e.g. https://search.example.com:9200", EnvURL)
	}
	user, pass, key, arn := getenv(EnvUsername), getenv(EnvPassword), getenv(EnvAPIKey), getenv(EnvSecretARN)
	allow, err := strconv.ParseBool(cmp.Or(strings.TrimSpace(getenv(EnvAllowInsecure)), "false"))
	if err != nil {
		return cfg, "", fmt.Errorf("%s=%q: want true or false", EnvAllowInsecure, getenv(EnvAllowInsecure))
	}
	if _, err := endpoint.Check(raw, endpoint.Options{
		Name: EnvURL, Credentials: user != "" || pass != "" || key != "" || arn != "",
		AllowInsecure: allow, AllowName: EnvAllowInsecure,
	}); err != nil {
		return cfg, "", err
	}
	cfg.Addresses = []string{strings.TrimRight(raw, "/")}
	// The client retries failed requests itself (3 times); a refused certificate is refused
	// again, so it fails at once with UntrustedCertificate.
	cfg.RetryOnError = func(_ *http.Request, err error) bool {
		return reindex.ErrorName(err) != reindex.UntrustedCertificate
	}

	methods := 0
	for _, set := range []bool{user != "" || pass != "", key != "", arn != ""} {
		if set {
			methods++
		}
	}
	if methods > 1 {
		return cfg, "", fmt.Errorf("set only one of %s/%s, %s and %s", EnvUsername, EnvPassword, EnvAPIKey, EnvSecretARN)
	}
	switch {
	case user != "" || pass != "":
		if user == "" || pass == "" {
			return cfg, "", fmt.Errorf("%s and %s go together", EnvUsername, EnvPassword)
		}
		cfg.Username, cfg.Password, auth = user, pass, "basic"
	case key != "":
		cfg.APIKey, auth = key, "api_key"
	case arn != "":
		if cfg.Username, cfg.Password, cfg.APIKey, err = fromSecret(ctx, arn, o); err != nil {
			return cfg, "", err
		}
		auth = "secret"
	default:
		auth = "none"
	}
	if p := getenv(EnvCACert); p != "" {
		pem, err := os.ReadFile(p)
		if err != nil {
			return cfg, "", fmt.Errorf("%s: %w", EnvCACert, err)
		}
		if !bytes.Contains(pem, []byte("-----BEGIN CERTIFICATE-----")) {
			return cfg, "", fmt.Errorf("%s=%s holds no PEM certificate", EnvCACert, p)
		}
		cfg.CACert = pem
	}
	return cfg, auth, nil
}

// fromSecret reads {"username","password"} or {"api_key"} from Secrets Manager, the same
// way the ingest function reads its Logstash credentials. Errors name the secret, never
// the values.
func fromSecret(ctx context.Context, arn string, o *Options) (user, pass, key string, err error) {
	if o.Secrets == nil {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return "", "", "", fmt.Errorf("AWS configuration for %s: %w", EnvSecretARN, err)
		}
		o.Secrets = secretsmanager.NewFromConfig(awsCfg)
	}
	c, err := config.Secrets{SecretsManager: o.Secrets}.Resolve(ctx, arn)
	if err != nil {
		return "", "", "", fmt.Errorf("%s: %w", EnvSecretARN, err)
	}
	if c.APIKey != "" && c.Username != "" {
		return "", "", "", fmt.Errorf(`%s: secret %s holds both "api_key" and "username": keep one`, EnvSecretARN, arn)
	}
	return c.Username, c.Password, c.APIKey, nil
}

// Handle runs one step. The event is a reindex.State, and untrusted: unknown fields are
// refused so a typo ("sorce") fails loudly, an event over MaxEventBytes is refused before it
// is decoded, and the steps check every name and size in it before they send a request.
// Errors are reported with their stable names as errorType (InvalidRequest, NotOurs,
// ReindexFailed, CountMismatch, TaskLost, RollbackIncomplete, PreemptedByRollback,
// ElasticsearchError, ElasticsearchRejected, UntrustedCertificate) for Step Functions
// Retry/Catch: retry only ElasticsearchError (network, timeouts — ES_REQUEST_TIMEOUT per
// request —, 408, 429, 5xx). UntrustedCertificate means TLS verification refused the
// cluster's certificate: fix ES_URL or ES_CA_CERT; retrying cannot help. aws-lambda-go
// takes errorType from the Go type name unless the error is a messages.InvokeResponse_Error,
// so that is what Handle returns.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) (reindex.State, error) {
	if len(event) > MaxEventBytes {
		return reindex.State{}, messages.InvokeResponse_Error{Type: reindex.InvalidRequest,
			Message: fmt.Sprintf("reindex event is %d bytes, over the %d-byte limit: a state holds names and ids, never documents", len(event), MaxEventBytes)}
	}
	var st reindex.State
	d := json.NewDecoder(bytes.NewReader(event))
	d.DisallowUnknownFields()
	if err := d.Decode(&st); err != nil {
		return reindex.State{}, messages.InvokeResponse_Error{Type: reindex.InvalidRequest, Message: "reindex event: " + err.Error()}
	}
	out, err := h.steps.Do(ctx, st)
	if err != nil {
		return reindex.State{}, messages.InvokeResponse_Error{Type: reindex.ErrorName(err), Message: err.Error()}
	}
	return out, nil
}
