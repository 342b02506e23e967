// Package reindexstep is what the reindex Lambda function does: it builds the reindex
// steps from the environment (Elasticsearch URL, credentials or a Secrets Manager secret,
// CA, timeouts) and runs one step per invocation, chosen by the event's "step" (or
// "next"), returning the small State the next Step Functions state passes on, or an error
// under its stable name. functions/reindex only starts the Lambda runtime on it;
// `logferry reindex` (the local state-machine run) and `logferry invoke reindex` run it
// in-process, so all of them run this code.
package reindexstep

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/elastic/go-elasticsearch/v8"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/endpoint"
	"github.com/logferry/logferry/shared/esclient"
	"github.com/logferry/logferry/shared/reindex"
)

// Environment variables the function reads: the cluster's, through shared/esclient, and
// the steps' own.
const (
	EnvURL           = esclient.EnvURL
	EnvUsername      = esclient.EnvUsername
	EnvPassword      = esclient.EnvPassword
	EnvAPIKey        = esclient.EnvAPIKey
	EnvSecretARN     = esclient.EnvSecretARN
	EnvCACert        = esclient.EnvCACert
	EnvAllowInsecure = esclient.EnvAllowInsecure
	EnvPoll          = "REINDEX_POLL_SECONDS"
	EnvTimeout       = "ES_REQUEST_TIMEOUT" // one request, e.g. "30s" (the default); keep it under the function's timeout
)

// MaxEventBytes caps the event before it is decoded.
const MaxEventBytes = reindex.MaxEventBytes

// Secrets is the one Secrets Manager call the function makes; tests pass a fake for AWS.
type Secrets = config.SecretsManagerAPI

// Options are what New takes besides the environment.
type Options struct {
	// Secrets reads ES_SECRET_ARN. Default: a Secrets Manager client from the default AWS
	// configuration, made only when ES_SECRET_ARN is set.
	Secrets Secrets
	// Logger receives one line per step. Credentials are never logged. Default: discard.
	Logger *slog.Logger
}

// Handler runs reindex steps, one an invocation.
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
	cfg, auth, err := esclient.Config(ctx, getenv, esclient.Options{Secrets: o.Secrets})
	if err != nil {
		return nil, err
	}
	// The client retries failed requests itself (3 times); a refused certificate is refused
	// again, so it fails at once with UntrustedCertificate.
	cfg.RetryOnError = func(_ *http.Request, err error) bool {
		return reindex.ErrorName(err) != reindex.UntrustedCertificate
	}
	es, err := elasticsearch.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch client: %w", err)
	}
	rc, err := stepsConfig(getenv)
	if err != nil {
		return nil, err
	}
	rc.Logger = o.Logger
	o.Logger.Info("reindex handler ready", "es_url", endpoint.Redact(cfg.Addresses[0]), "auth", string(auth), "custom_ca", len(cfg.CACert) > 0)
	return &Handler{steps: reindex.New(es, rc), log: o.Logger}, nil
}

// stepsConfig reads the steps' own settings (EnvPoll, EnvTimeout).
func stepsConfig(getenv func(string) string) (reindex.Config, error) {
	var rc reindex.Config
	if v := getenv(EnvPoll); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3600 {
			return rc, fmt.Errorf("%s=%q: want whole seconds from 1 to 3600", EnvPoll, v)
		}
		rc.PollInterval = time.Duration(n) * time.Second
	}
	if v := getenv(EnvTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond || d > 15*time.Minute {
			return rc, fmt.Errorf("%s=%q: want a duration from 100ms to 15m, e.g. 30s", EnvTimeout, v)
		}
		rc.RequestTimeout = d
	}
	return rc, nil
}

// Handle runs one step on a State (reindex.Steps.DoEvent): unknown fields are refused so
// a typo ("sorce") fails loudly, an event over MaxEventBytes is refused before it is
// decoded, and the steps check every name and size in it before they send a request.
// Errors are reported with their stable names as errorType (InvalidRequest, NotOurs,
// ReindexFailed, CountMismatch, TaskLost, RollbackIncomplete, PreemptedByRollback,
// ElasticsearchError, ElasticsearchRejected, UntrustedCertificate) for Step Functions
// Retry/Catch: retry only ElasticsearchError (network, timeouts — ES_REQUEST_TIMEOUT per
// request —, 408, 429, 5xx). UntrustedCertificate means TLS verification refused the
// cluster's certificate: fix ES_URL or ES_CA_CERT; retrying cannot help.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) (reindex.State, error) {
	out, err := h.steps.DoEvent(ctx, event)
	if err != nil {
		return reindex.State{}, invokeError(err)
	}
	return out, nil
}

// invokeError gives err its stable name as errorType. aws-lambda-go takes errorType from
// the Go type's name unless the error is a messages.InvokeResponse_Error, so that is what
// the function returns.
func invokeError(err error) messages.InvokeResponse_Error {
	return messages.InvokeResponse_Error{Type: reindex.ErrorName(err), Message: err.Error()}
}
