package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/metrics"
)

// ShipperConfig is what a Shipper needs; Ingest and Getter are required.
type ShipperConfig struct {
	// Ingest is the configuration (LOGSTASH_*, INCLUDE_ORIGINAL, MAX_LINE_BYTES, …).
	Ingest config.Ingest
	// Credentials for Logstash, already resolved. Default none.
	Credentials config.Credentials
	// Getter reads the objects: the S3 client in the Lambda, S3 or local files in the CLI.
	Getter Getter
	// DeadLetter keeps batches that failed after retries. Default none (they fail the object).
	DeadLetter logstash.DeadLetter
	// MirrorCredentials and MirrorDeadLetter are the mirror's (LOGSTASH_MIRROR_*, dead
	// letters under DEAD_LETTER_URI + "mirror/"), used when Ingest.Mirror.URL is set.
	// Default none.
	MirrorCredentials config.Credentials
	MirrorDeadLetter  logstash.DeadLetter
	// HTTPClient sends every object's requests, so that connections (and TLS sessions)
	// are reused across the objects of an invocation and across warm invocations.
	// Default: one client made by NewShipper for all objects.
	HTTPClient *http.Client
	// Parallel is how many objects are shipped at once, to size the client's idle
	// connection pool. Default 1.
	Parallel int
	// Logger receives one line per object. Default: slog.Default().
	Logger *slog.Logger
	// Metrics receives one Embedded Metric Format line per object. Default: discard.
	Metrics io.Writer
	// FunctionName is the metrics' FunctionName dimension. Default none.
	FunctionName string
	// Now is the clock (deadline checks, LagSeconds). Default time.Now.
	Now func() time.Time
	// Progress, when set, is called every few thousand lines with an object's running
	// result (the CLI's progress line). Default none.
	Progress func(Result)
}

// Shipper ships objects one at a time or in parallel, each to its own Indexer over one
// shared HTTP client, and reports each (a log line and an EMF record). It is what both
// the Lambda and `logferry ingest` run, so a backfill runs exactly the Lambda's code.
type Shipper struct {
	cfg    ShipperConfig
	sink   logstash.Config        // per object, Source is added
	mirror *logstash.MirrorConfig // nil: no mirror
}

// NewShipper checks the sink configuration (at start-up, not per object) and builds the
// shared HTTP client.
func NewShipper(cfg ShipperConfig) (*Shipper, error) {
	if cfg.Getter == nil {
		return nil, errors.New("ingest: ShipperConfig.Getter is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	sink, err := SinkConfig(cfg.Ingest, cfg.Credentials)
	if err != nil {
		return nil, err
	}
	sink.DeadLetter, sink.Logger = cfg.DeadLetter, cfg.Logger
	if cfg.HTTPClient == nil {
		if cfg.HTTPClient, err = logstash.NewHTTPClient(sink, max(cfg.Parallel, 1)*max(sink.Workers, 3)); err != nil {
			return nil, err
		}
	}
	sink.HTTPClient = cfg.HTTPClient
	if err := sink.Validate(); err != nil {
		return nil, err
	}
	mirror, err := MirrorSink(cfg.Ingest, cfg.MirrorCredentials, cfg.MirrorDeadLetter)
	if err != nil {
		return nil, err
	}
	return &Shipper{cfg: cfg, sink: sink, mirror: mirror}, nil
}

// Ship ships one object and reports it. With stopAt set it stops at the first line
// boundary after it and returns Result.Continue; sending that on is the caller's part.
func (s *Shipper) Ship(ctx context.Context, obj Object, stopAt time.Time) (Result, error) {
	log := s.cfg.Logger.With("bucket", obj.Bucket, "key", obj.Key, "offset", obj.Offset)
	res, err := Run(ctx, obj, Config{
		Getter: s.cfg.Getter,
		NewIndexer: func(o Object) (logstash.Indexer, error) {
			return s.newIndexer(logstash.Source{Bucket: o.Bucket, Key: o.Key}, stopAt)
		},
		StopAt:          stopAt,
		Clock:           s.cfg.Now,
		IncludeOriginal: s.cfg.Ingest.IncludeOriginal,
		MaxLineBytes:    s.cfg.Ingest.MaxLineBytes,
		Logger:          log,
		Progress:        s.cfg.Progress,
		ProgressEvery:   8192,
	})
	attrs := []any{"lines", res.Lines, "documents", res.Documents, "parse_failures", res.ParseFailures,
		"sent", res.Sink.Sent, "retries", res.Sink.Retries, "dead_lettered", res.Sink.DeadLettered,
		"bytes", res.Bytes, "duration_ms", res.Duration.Milliseconds()}
	if res.Continue != nil {
		attrs = append(attrs, "continue_at", res.Continue.Offset)
	}
	switch {
	case err != nil && IsPermanent(err):
		log.Error("object rejected; retrying cannot help", append(attrs, "error", err)...)
	case err != nil:
		// Whether anything redelivers it is the caller's to say (SQS does, the CLI does not).
		log.Error("object failed", append(attrs, "error", err)...)
	case res.Skipped:
		log.Info("object skipped")
	default:
		log.Info("object shipped", attrs...)
	}
	s.emit(obj, res, err)
	return res, err
}

// IsUnauthorized reports whether err (from Ship or Run) is Logstash refusing the
// credentials: every later object would be refused too, so callers stop.
func IsUnauthorized(err error) bool { return errors.Is(err, logstash.ErrUnauthorized) }

func (s *Shipper) emit(obj Object, res Result, err error) {
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
		{Name: "ObjectsFailed", Unit: metrics.Count, Value: flag(err != nil && !IsPermanent(err))},
		{Name: "ObjectsRejected", Unit: metrics.Count, Value: flag(IsPermanent(err))},
		{Name: "Continuations", Unit: metrics.Count, Value: flag(res.Continue != nil)},
	}
	ms = append(ms, s.mirrorMetrics(res.Sink)...)
	props := map[string]any{"bucket": obj.Bucket, "key": obj.Key, "offset": obj.Offset}
	if !res.Newest.IsZero() {
		// How far behind the newest shipped line is: the alarm for "falling behind".
		ms = append(ms, metrics.Metric{Name: "LagSeconds", Unit: metrics.Seconds, Value: s.cfg.Now().Sub(res.Newest).Seconds()})
		props["newest_timestamp"] = res.Newest.Format(time.RFC3339Nano)
	}
	rec := metrics.Record{
		Namespace:  s.cfg.Ingest.MetricsNamespace,
		Dimensions: [][2]string{{"FunctionName", s.cfg.FunctionName}},
		Metrics:    ms,
		Properties: props,
		Time:       s.cfg.Now(),
	}
	if _, err := rec.WriteTo(s.cfg.Metrics); err != nil {
		s.cfg.Logger.Warn("metrics not written", "error", fmt.Sprint(err))
	}
}
