package ingest

import (
	"fmt"
	"time"

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
// Neither retries past stopAt (the time the caller must stop by), when set.
func (s *Shipper) newIndexer(src logstash.Source, stopAt time.Time) (logstash.Indexer, error) {
	sc := s.sink
	sc.Source, sc.RetryUntil = src, stopAt
	ix, err := logstash.NewIndexer(sc)
	if err != nil || s.mirror == nil {
		return ix, err
	}
	mc := *s.mirror
	mc.Config.Source, mc.Config.RetryUntil = src, stopAt
	mc.Config.HTTPClient, mc.Config.Logger = s.cfg.HTTPClient, s.cfg.Logger
	return logstash.NewMirrored(ix, mc)
}

// mirrorMetrics are the mirror's own counts, apart from the primary's.
func (s *Shipper) mirrorMetrics(st logstash.Stats) []metrics.Metric {
	if s.mirror == nil {
		return nil
	}
	return []metrics.Metric{
		{Name: "MirrorDeadLettered", Unit: metrics.Count, Value: float64(st.Mirror.DeadLettered)},
		{Name: "MirrorRetries", Unit: metrics.Count, Value: float64(st.Mirror.Retries)},
		{Name: "MirrorLost", Unit: metrics.Count, Value: float64(st.Mirror.Lost)},
	}
}
