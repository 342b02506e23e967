// Package handler adapts Lambda events to the ingest package: S3 notifications, SQS
// messages carrying them (with partial batch failures), EventBridge "Object Created"
// events, and logferry's own continuation messages. It holds no logic of its own beyond
// choosing what to ship, when to stop, and how to report.
package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/ingest"
	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/metrics"
)

// SQSAPI is the part of the SQS client used for continuations.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// LambdaAPI is the part of the Lambda client used to re-invoke the function.
type LambdaAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Deps are the parts the handler talks to. Tests and the CLI pass their own.
type Deps struct {
	S3     ingest.Getter
	SQS    SQSAPI    // continuations via SQS; nil: none possible that way
	Lambda LambdaAPI // continuations by re-invoking; nil: none possible that way
	// DeadLetter keeps batches that failed after retries. Default: none.
	DeadLetter logstash.DeadLetter
	// Credentials for Logstash, already resolved.
	Credentials config.Credentials
	// MirrorCredentials and MirrorDeadLetter are the mirror's (LOGSTASH_MIRROR_*). Default none.
	MirrorCredentials config.Credentials
	MirrorDeadLetter  logstash.DeadLetter
	// HTTPClient is shared by every object's indexer, so connections are reused across
	// objects and warm invocations. Default: the indexer's own.
	HTTPClient *http.Client
	Logger     *slog.Logger // default: JSON to stderr
	Metrics    io.Writer    // EMF lines; default stdout, where Lambda collects them
	// FunctionName is the function to re-invoke and the metrics dimension. Default:
	// AWS_LAMBDA_FUNCTION_NAME.
	FunctionName string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Progress, when set, is called every few thousand lines with an object's running
	// result (the CLI's progress line). Default none.
	Progress func(ingest.Result)
}

// Handler ships the objects named by Lambda events.
type Handler struct {
	cfg    config.Ingest
	deps   Deps
	sink   logstash.Config        // per object, Source is added
	mirror *logstash.MirrorConfig // nil: no mirror
}

// New builds a handler for the Lambda environment: configuration from getenv, AWS clients
// from the default credential chain, Logstash credentials from Secrets Manager or SSM.
func New(ctx context.Context, getenv func(string) string) (*Handler, error) {
	cfg, err := config.LoadIngest(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	// Path-style addressing for S3-compatible endpoints (AWS_ENDPOINT_URL_S3) that do not
	// serve bucket subdomains, such as the in-process server `logferry invoke -s3-dir` runs.
	pathStyle := getenv("LOGFERRY_S3_PATH_STYLE") == "1" || getenv("LOGFERRY_S3_PATH_STYLE") == "true"
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
	deps := Deps{
		S3:           s3c,
		SQS:          sqs.NewFromConfig(awsCfg),
		Lambda:       lambda.NewFromConfig(awsCfg),
		FunctionName: getenv("AWS_LAMBDA_FUNCTION_NAME"),
		Credentials:  config.Credentials{Username: cfg.Username, Password: cfg.Password, APIKey: cfg.APIKey},
	}
	if cfg.Credentials != "" {
		secrets := config.Secrets{SecretsManager: secretsmanager.NewFromConfig(awsCfg), SSM: ssm.NewFromConfig(awsCfg)}
		if deps.Credentials, err = secrets.Resolve(ctx, cfg.Credentials); err != nil {
			return nil, err
		}
	}
	if deps.DeadLetter, err = DeadLetterFor(cfg.DeadLetter, s3c); err != nil {
		return nil, err
	}
	if m := cfg.Mirror; m.URL != "" {
		deps.MirrorCredentials = config.Credentials{Username: m.Username, Password: m.Password, APIKey: m.APIKey}
		if m.Credentials != "" {
			secrets := config.Secrets{SecretsManager: secretsmanager.NewFromConfig(awsCfg), SSM: ssm.NewFromConfig(awsCfg)}
			if deps.MirrorCredentials, err = secrets.Resolve(ctx, m.Credentials); err != nil {
				return nil, fmt.Errorf("LOGSTASH_MIRROR_CREDENTIALS: %w", err)
			}
		}
		if deps.MirrorDeadLetter, err = DeadLetterFor(config.MirrorDeadLetter(cfg.DeadLetter), s3c); err != nil {
			return nil, err
		}
	}
	return NewWithDeps(cfg, deps)
}

// DeadLetterFor returns the dead letter a DEAD_LETTER_URI names: s3://bucket/prefix/ or a
// local directory; nil for "".
func DeadLetterFor(uri string, s3c *s3.Client) (logstash.DeadLetter, error) {
	switch {
	case uri == "":
		return nil, nil
	case strings.HasPrefix(uri, "s3://"):
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(uri, "s3://"), "/")
		if bucket == "" || s3c == nil {
			return nil, fmt.Errorf("dead letter %q: no bucket or no S3 client", uri)
		}
		return logstash.NewS3DeadLetter(s3c, bucket, prefix)
	case strings.Contains(uri, "://"):
		return nil, fmt.Errorf("dead letter %q: want s3://bucket/prefix/ or a local directory", uri)
	}
	return logstash.NewDir(uri)
}

// NewWithDeps builds a handler from explicit parts.
func NewWithDeps(cfg config.Ingest, deps Deps) (*Handler, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if deps.Metrics == nil {
		deps.Metrics = os.Stdout
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.FunctionName == "" {
		deps.FunctionName = lambdacontext.FunctionName
	}
	sink, err := SinkConfig(cfg, deps.Credentials)
	if err != nil {
		return nil, err
	}
	sink.HTTPClient, sink.DeadLetter, sink.Logger = deps.HTTPClient, deps.DeadLetter, deps.Logger
	// Fail at start-up, not per object, on a sink configuration that cannot work.
	if err := sink.Validate(); err != nil {
		return nil, err
	}
	mirror, err := MirrorSink(cfg, deps.MirrorCredentials, deps.MirrorDeadLetter)
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, deps: deps, sink: sink, mirror: mirror}, nil
}

// SinkConfig is the Logstash sink an ingest configuration describes (the CLI's replay
// uses it too). It reads LOGSTASH_CA_CERT's file.
func SinkConfig(c config.Ingest, creds config.Credentials) (logstash.Config, error) {
	sc := logstash.Config{
		URL:            c.LogstashURL,
		Username:       creds.Username,
		Password:       creds.Password,
		APIKey:         creds.APIKey,
		BatchDocs:      c.BatchDocs,
		BatchBytes:     c.BatchBytes,
		Workers:        c.Concurrency,
		Codec:          logstash.Codec(c.Codec),
		DisableGzip:    !c.Gzip,
		RequestTimeout: c.RequestTimeout,
		MaxRetries:     c.MaxRetries, // 0: the sink's default
	}
	if c.CACertFile != "" {
		pem, err := os.ReadFile(c.CACertFile)
		if err != nil {
			return sc, fmt.Errorf("LOGSTASH_CA_CERT: %w", err)
		}
		sc.CACertPEM = pem
	}
	return sc, nil
}

// Response is what an S3, EventBridge or continuation invocation returns.
type Response struct {
	Objects []ObjectReport `json:"objects"`
}

// ObjectReport is the outcome for one object, small enough for any Lambda response.
type ObjectReport struct {
	Bucket        string         `json:"bucket"`
	Key           string         `json:"key"`
	Offset        int64          `json:"offset,omitempty"`
	Skipped       bool           `json:"skipped,omitempty"`
	Lines         int64          `json:"lines"`
	Documents     int64          `json:"documents"`
	ParseFailures int64          `json:"parse_failures"`
	Sent          uint64         `json:"sent"`
	DeadLettered  uint64         `json:"dead_lettered,omitempty"`
	Continue      *ingest.Object `json:"continue,omitempty"`
	Error         string         `json:"error,omitempty"`
	Permanent     bool           `json:"permanent,omitempty"`
}

// Handle is the Lambda entry point. It returns events.SQSEventResponse for SQS events
// (failed records listed, so only they are redelivered) and *Response otherwise, with an
// error when any object failed in a way a retry can fix.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var shape eventShape
	if err := json.Unmarshal(raw, &shape); err != nil {
		return nil, fmt.Errorf("event is not JSON: %w", err)
	}
	if len(shape.Records) > 0 && shape.Records[0].EventSource == "aws:sqs" {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("SQS event: %w", err)
		}
		return h.handleSQS(ctx, ev), nil
	}
	objs, err := objectsIn(raw)
	if err != nil {
		h.deps.Logger.Error("event rejected", "error", err)
		return nil, err
	}
	return h.handleObjects(ctx, objs)
}

// stopAt is when to stop reading: DeadlineMargin before the invocation's deadline, so
// there is time to flush, dead-letter and hand the rest on.
func (h *Handler) stopAt(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	return d.Add(-h.cfg.DeadlineMargin)
}

func (h *Handler) pastStop(ctx context.Context) bool {
	s := h.stopAt(ctx)
	return !s.IsZero() && h.deps.Now().After(s)
}

func (h *Handler) handleObjects(ctx context.Context, objs []ingest.Object) (*Response, error) {
	resp := &Response{Objects: []ObjectReport{}}
	var failed []string
	for _, obj := range objs {
		if h.pastStop(ctx) {
			// Not started: hand the whole object on rather than fail the event, which
			// would make Lambda retry the objects already shipped too.
			rep := ObjectReport{Bucket: obj.Bucket, Key: obj.Key, Offset: obj.Offset, Continue: &obj}
			if err := h.continueVia(ctx, "", obj); err != nil {
				rep.Error = err.Error()
				failed = append(failed, obj.String())
			}
			resp.Objects = append(resp.Objects, rep)
			continue
		}
		rep, err := h.object(ctx, obj, "")
		resp.Objects = append(resp.Objects, rep)
		if err != nil && !ingest.IsPermanent(err) {
			failed = append(failed, obj.String())
		}
	}
	if len(failed) > 0 {
		return resp, fmt.Errorf("%d of %d objects failed and will be retried: %s", len(failed), len(objs), strings.Join(failed, ", "))
	}
	return resp, nil
}

func (h *Handler) handleSQS(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	fail := func(id string) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	for _, m := range ev.Records {
		log := h.deps.Logger.With("message_id", m.MessageId)
		if h.pastStop(ctx) {
			fail(m.MessageId) // redelivered after the visibility timeout
			continue
		}
		objs, err := objectsIn([]byte(m.Body))
		if err != nil {
			// A body that is not an event never becomes one: let the queue's redrive
			// policy move it to the dead-letter queue, where someone will see it.
			log.Error("SQS message is not an S3 event", "error", err)
			fail(m.MessageId)
			continue
		}
		ok := true
		for _, obj := range objs {
			if h.pastStop(ctx) {
				if err := h.continueVia(ctx, m.EventSourceARN, obj); err != nil {
					ok = false
				}
				continue
			}
			if _, err := h.object(ctx, obj, m.EventSourceARN); err != nil && !ingest.IsPermanent(err) {
				ok = false
			}
		}
		if !ok {
			fail(m.MessageId)
		}
	}
	return resp
}

// object ships one object; when it stops for the deadline it sends the continuation (to
// queueARN when the object came from SQS).
func (h *Handler) object(ctx context.Context, obj ingest.Object, queueARN string) (ObjectReport, error) {
	res, err := h.Object(ctx, obj)
	rep := ObjectReport{
		Bucket: obj.Bucket, Key: obj.Key, Offset: obj.Offset, Skipped: res.Skipped,
		Lines: res.Lines, Documents: res.Documents, ParseFailures: res.ParseFailures,
		Sent: res.Sink.Sent, DeadLettered: res.Sink.DeadLettered, Continue: res.Continue,
	}
	if err == nil && res.Continue != nil {
		err = h.continueVia(ctx, queueARN, *res.Continue)
	}
	if err != nil {
		rep.Error, rep.Permanent = err.Error(), ingest.IsPermanent(err)
	}
	return rep, err
}

// Object ships one object and reports it (logs and metrics). It stops at the deadline
// but sends no continuation: that is the event handlers' part. The CLI calls it, so a
// backfill runs exactly the Lambda's code.
func (h *Handler) Object(ctx context.Context, obj ingest.Object) (ingest.Result, error) {
	if d, ok := ctx.Deadline(); ok {
		// Keep a quarter of the margin for dead-lettering what is still in flight and
		// sending the continuation, after the sink's Close gives up waiting.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-h.cfg.DeadlineMargin/4))
		defer cancel()
	}
	log := h.deps.Logger.With("bucket", obj.Bucket, "key", obj.Key, "offset", obj.Offset)
	res, err := ingest.Run(ctx, obj, ingest.Config{
		Getter: h.deps.S3,
		NewIndexer: func(o ingest.Object) (logstash.Indexer, error) {
			return h.newIndexer(logstash.Source{Bucket: o.Bucket, Key: o.Key})
		},
		StopAt:          h.stopAt(ctx),
		Clock:           h.deps.Now,
		IncludeOriginal: h.cfg.IncludeOriginal,
		MaxLineBytes:    h.cfg.MaxLineBytes,
		Logger:          log,
		Progress:        h.deps.Progress,
		ProgressEvery:   8192,
	})
	attrs := []any{"lines", res.Lines, "documents", res.Documents, "parse_failures", res.ParseFailures,
		"sent", res.Sink.Sent, "retries", res.Sink.Retries, "dead_lettered", res.Sink.DeadLettered,
		"bytes", res.Bytes, "duration_ms", res.Duration.Milliseconds()}
	if res.Continue != nil {
		attrs = append(attrs, "continue_at", res.Continue.Offset)
	}
	switch {
	case err != nil && ingest.IsPermanent(err):
		log.Error("object rejected; retrying cannot help", append(attrs, "error", err)...)
	case err != nil:
		log.Error("object failed; it will be redelivered", append(attrs, "error", err)...)
	case res.Skipped:
		log.Info("object skipped")
	default:
		log.Info("object shipped", attrs...)
	}
	h.emit(obj, res, err)
	return res, err
}

func (h *Handler) emit(obj ingest.Object, res ingest.Result, err error) {
	flag := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	ms := []metrics.Metric{
		{Name: "Lines", Unit: metrics.Count, Value: float64(res.Lines)},
		{Name: "Bytes", Unit: metrics.Bytes, Value: float64(res.Bytes)},
		{Name: "Documents", Unit: metrics.Count, Value: float64(res.Documents)},
		{Name: "ParseFailures", Unit: metrics.Count, Value: float64(res.ParseFailures)},
		{Name: "Retries", Unit: metrics.Count, Value: float64(res.Sink.Retries)},
		{Name: "DeadLettered", Unit: metrics.Count, Value: float64(res.Sink.DeadLettered)},
		{Name: "Duration", Unit: metrics.Milliseconds, Value: float64(res.Duration.Milliseconds())},
		{Name: "ObjectsFailed", Unit: metrics.Count, Value: flag(err != nil && !ingest.IsPermanent(err))},
		{Name: "ObjectsRejected", Unit: metrics.Count, Value: flag(ingest.IsPermanent(err))},
		{Name: "Continuations", Unit: metrics.Count, Value: flag(res.Continue != nil)},
	}
	ms = append(ms, h.mirrorMetrics(res.Sink)...)
	props := map[string]any{"bucket": obj.Bucket, "key": obj.Key, "offset": obj.Offset}
	if !res.Newest.IsZero() {
		// How far behind the newest shipped line is: the alarm for "falling behind".
		ms = append(ms, metrics.Metric{Name: "LagSeconds", Unit: metrics.Seconds, Value: h.deps.Now().Sub(res.Newest).Seconds()})
		props["newest_timestamp"] = res.Newest.Format(time.RFC3339Nano)
	}
	rec := metrics.Record{
		Namespace:  h.cfg.MetricsNamespace,
		Dimensions: [][2]string{{"FunctionName", h.deps.FunctionName}},
		Metrics:    ms,
		Properties: props,
		Time:       h.deps.Now(),
	}
	if _, err := rec.WriteTo(h.deps.Metrics); err != nil {
		h.deps.Logger.Warn("metrics not written", "error", err)
	}
}

// continueVia hands the rest of obj on: to the queue it came from, else to
// CONTINUATION_QUEUE_URL, else by invoking this function again asynchronously.
func (h *Handler) continueVia(ctx context.Context, queueARN string, obj ingest.Object) error {
	body, _ := json.Marshal(Continuation{Object: obj})
	ctx = context.WithoutCancel(ctx) // the deadline is near by design; the send must still go out
	log := h.deps.Logger.With("bucket", obj.Bucket, "key", obj.Key, "offset", obj.Offset)
	queueURL := h.cfg.ContinuationQueueURL
	if queueARN != "" && h.deps.SQS != nil {
		u, err := h.queueURL(ctx, queueARN)
		if err != nil {
			return err
		}
		queueURL = u
	}
	switch {
	case queueURL != "" && h.deps.SQS != nil:
		if _, err := h.deps.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: aws.String(string(body))}); err != nil {
			return fmt.Errorf("%s: send continuation to %s: %w", obj, queueURL, err)
		}
		log.Info("continuation queued", "queue", queueURL)
	case h.deps.Lambda != nil && h.deps.FunctionName != "":
		if _, err := h.deps.Lambda.Invoke(ctx, &lambda.InvokeInput{
			FunctionName:   &h.deps.FunctionName,
			InvocationType: lambdatypes.InvocationTypeEvent,
			Payload:        body,
		}); err != nil {
			return fmt.Errorf("%s: re-invoke %s with the continuation: %w", obj, h.deps.FunctionName, err)
		}
		log.Info("continuation invoked", "function", h.deps.FunctionName)
	default:
		return errors.New(obj.String() + ": stopped before the deadline but has nowhere to send the continuation (no queue, no function name)")
	}
	return nil
}

// queueURL turns an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME) into its URL.
func (h *Handler) queueURL(ctx context.Context, arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[2] != "sqs" {
		return "", fmt.Errorf("event source %q is not an SQS queue ARN", arn)
	}
	out, err := h.deps.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &parts[5], QueueOwnerAWSAccountId: &parts[4]})
	if err != nil {
		return "", fmt.Errorf("queue URL of %s: %w", arn, err)
	}
	return aws.ToString(out.QueueUrl), nil
}
