package handler

import (
	"fmt"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/metrics"
)

// MirrorSink is the mirror's side of the sink an ingest configuration describes
// (LOGSTASH_MIRROR_*), nil without LOGSTASH_MIRROR_URL. dl keeps the mirror's dead letters
// (DEAD_LETTER_URI + "mirror/"); creds are the mirror's, already resolved.
func MirrorSink(c config.Ingest, creds config.Credentials, dl logstash.DeadLetter) (*logstash.MirrorConfig, error) {
	if c.Mirror.URL == "" {
		return nil, nil
	}
	sc, err := SinkConfig(c.AsMirror(""), creds)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	sc.RetryBudget = c.Mirror.RetryBudget
	if sc.RetryBudget <= 0 {
		sc.RetryBudget = config.MirrorRetryBudget
	}
	sc.DeadLetter = dl
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	return &logstash.MirrorConfig{Config: sc, Buffer: c.Mirror.BufferDocs, Wait: c.Mirror.Wait}, nil
}

// newIndexer is one object's sink: the primary, and the mirror beside it when configured.
func (h *Handler) newIndexer(src logstash.Source) (logstash.Indexer, error) {
	sc := h.sink
	sc.Source = src
	ix, err := logstash.NewIndexer(sc)
	if err != nil || h.mirror == nil {
		return ix, err
	}
	mc := *h.mirror
	mc.Config.Source = src
	mc.Config.HTTPClient, mc.Config.Logger = h.deps.HTTPClient, h.deps.Logger
	return logstash.NewMirrored(ix, mc)
}

// mirrorMetrics are the mirror's own counts, apart from the primary's.
func (h *Handler) mirrorMetrics(s logstash.Stats) []metrics.Metric {
	if h.mirror == nil {
		return nil
	}
	return []metrics.Metric{
		{Name: "MirrorDeadLettered", Unit: metrics.Count, Value: float64(s.Mirror.DeadLettered)},
		{Name: "MirrorRetries", Unit: metrics.Count, Value: float64(s.Mirror.Retries)},
		{Name: "MirrorLost", Unit: metrics.Count, Value: float64(s.Mirror.Lost)},
	}
}
