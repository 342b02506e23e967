// Package ingestevent is what the ingest Lambda function does with one event: it decodes
// S3 notifications, SQS messages carrying them (with partial batch failures), EventBridge
// "Object Created" events and logferry's own continuation messages, ships the objects
// they name with shared/ingest, stops before the invocation's deadline and hands the rest
// on as a continuation. functions/ingest only starts the Lambda runtime on it, and
// `logferry invoke ingest` runs it in-process, so both run this code. It holds no logic
// of its own beyond choosing what to ship, when to stop, and how to report.
package ingestevent

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

// Deps are the parts the handler talks to. Tests and `logferry invoke` pass their own.
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
	// objects and warm invocations. Default: one the handler makes at start-up.
	HTTPClient *http.Client
	Logger     *slog.Logger // default: JSON to stderr
	Metrics    io.Writer    // EMF lines; default stdout, where Lambda collects them
	// FunctionName is the function to re-invoke and the metrics dimension. Default:
	// AWS_LAMBDA_FUNCTION_NAME.
	FunctionName string
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Handler ships the objects named by Lambda events.
type Handler struct {
	cfg     config.Ingest
	deps    Deps
	shipper *ingest.Shipper
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
	if deps.DeadLetter, err = ingest.DeadLetterFor(cfg.DeadLetter, s3c); err != nil {
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
		if deps.MirrorDeadLetter, err = ingest.DeadLetterFor(config.MirrorDeadLetter(cfg.DeadLetter), s3c); err != nil {
			return nil, err
		}
	}
	return NewWithDeps(cfg, deps)
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
	if deps.S3 == nil {
		return nil, errors.New("handler: Deps.S3 is nil")
	}
	shipper, err := ingest.NewShipper(ingest.ShipperConfig{
		Ingest: cfg, Credentials: deps.Credentials, Getter: deps.S3, DeadLetter: deps.DeadLetter,
		MirrorCredentials: deps.MirrorCredentials, MirrorDeadLetter: deps.MirrorDeadLetter,
		HTTPClient: deps.HTTPClient, Logger: deps.Logger, Metrics: deps.Metrics,
		FunctionName: deps.FunctionName, Now: deps.Now,
	})
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, deps: deps, shipper: shipper}, nil
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
		return nil, badJSON("event is not JSON", err)
	}
	if len(shape.Records) > 0 && shape.Records[0].EventSource == "aws:sqs" {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, badJSON("SQS event", err)
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
	var refused error
	for _, obj := range objs {
		if refused != nil {
			// Logstash refused the credentials: every object would be refused too. They
			// are not dead-lettered; the failed event is retried, and S3 holds the data.
			resp.Objects = append(resp.Objects, ObjectReport{Bucket: obj.Bucket, Key: obj.Key, Offset: obj.Offset, Error: "not started: " + refused.Error()})
			failed = append(failed, obj.String())
			continue
		}
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
		rep, err := h.shipAndContinue(ctx, obj, "")
		resp.Objects = append(resp.Objects, rep)
		if err != nil && !ingest.IsPermanent(err) {
			failed = append(failed, obj.String())
		}
		if ingest.IsUnauthorized(err) {
			refused = err
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
	refused := false
	for _, m := range ev.Records {
		log := h.deps.Logger.With("message_id", m.MessageId)
		if refused || h.pastStop(ctx) {
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
			if refused {
				ok = false
				break
			}
			if h.pastStop(ctx) {
				if err := h.continueVia(ctx, m.EventSourceARN, obj); err != nil {
					log.Error("continuation not sent; the message will be redelivered", "bucket", obj.Bucket, "key", obj.Key, "offset", obj.Offset, "error", err)
					ok = false
				}
				continue
			}
			_, err := h.shipAndContinue(ctx, obj, m.EventSourceARN)
			if err != nil && !ingest.IsPermanent(err) {
				ok = false
			}
			if ingest.IsUnauthorized(err) {
				log.Error("Logstash refused the credentials; failing the rest of the batch for redelivery", "error", err)
				refused = true
			}
		}
		if !ok {
			fail(m.MessageId)
		}
	}
	return resp
}

// shipAndContinue ships one object, stopping DeadlineMargin before the invocation's
// deadline; when it stops there it sends the continuation (to queueARN when the object
// came from SQS).
func (h *Handler) shipAndContinue(ctx context.Context, obj ingest.Object, queueARN string) (ObjectReport, error) {
	shipCtx := ctx
	if d, ok := ctx.Deadline(); ok {
		// Keep a quarter of the margin for dead-lettering what is still in flight and
		// sending the continuation, after the sink's Close gives up waiting.
		var cancel context.CancelFunc
		shipCtx, cancel = context.WithDeadline(ctx, d.Add(-h.cfg.DeadlineMargin/4))
		defer cancel()
	}
	res, err := h.shipper.Ship(shipCtx, obj, h.stopAt(ctx))
	rep := ObjectReport{
		Bucket: obj.Bucket, Key: obj.Key, Offset: obj.Offset, Skipped: res.Skipped,
		Lines: res.Lines, Documents: res.Documents, ParseFailures: res.ParseFailures,
		Sent: res.Sink.Sent, DeadLettered: res.Sink.DeadLettered, Continue: res.Continue,
	}
	if err != nil && !ingest.IsPermanent(err) {
		h.deps.Logger.Warn("object will be redelivered", "bucket", obj.Bucket, "key", obj.Key, "offset", obj.Offset)
	}
	if err == nil && res.Continue != nil {
		if err = h.continueVia(ctx, queueARN, *res.Continue); err != nil {
			h.deps.Logger.Error("continuation not sent; the object will be redelivered", "bucket", obj.Bucket, "key", obj.Key, "offset", res.Continue.Offset, "error", err)
		}
	}
	if err != nil {
		rep.Error, rep.Permanent = err.Error(), ingest.IsPermanent(err)
	}
	return rep, err
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
