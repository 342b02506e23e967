package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestLoadIngestDefaults(t *testing.T) {
	c, err := LoadIngest(env(map[string]string{"LOGSTASH_URL": "https://ls:8080"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Codec != "json" || !c.Gzip || c.DeadlineMargin != 20*time.Second || c.MaxRetries != 0 || c.MetricsNamespace != "logferry" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadIngestParsesEverything(t *testing.T) {
	c, err := LoadIngest(env(map[string]string{
		"LOGSTASH_URL": "http://ls:8080", "LOGSTASH_BATCH_DOCS": "250", "LOGSTASH_BATCH_BYTES": "1048576",
		"LOGSTASH_CONCURRENCY": "8", "LOGSTASH_TIMEOUT": "45", "LOGSTASH_MAX_RETRIES": "3", "LOGSTASH_RETRY_BUDGET": "5m",
		"LOGSTASH_CODEC": "json_lines", "LOGSTASH_GZIP": "false", "DEAD_LETTER_URI": "s3://dl/prefix/",
		"DEADLINE_MARGIN": "1m30s", "INCLUDE_ORIGINAL": "true", "MAX_LINE_BYTES": "65536",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Ingest{LogstashURL: "http://ls:8080", BatchDocs: 250, BatchBytes: 1 << 20, Concurrency: 8,
		RequestTimeout: 45 * time.Second, MaxRetries: 3, RetryBudget: 5 * time.Minute, Codec: "json_lines", Gzip: false,
		DeadLetter: "s3://dl/prefix/", DeadlineMargin: 90 * time.Second, IncludeOriginal: true,
		MaxLineBytes: 65536, MetricsNamespace: "logferry"}
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestLoadIngestNamesEveryBadVariable(t *testing.T) {
	_, err := LoadIngest(env(map[string]string{
		"LOGSTASH_BATCH_DOCS": "many", "LOGSTASH_GZIP": "perhaps", "LOGSTASH_CODEC": "plain", "DEADLINE_MARGIN": "soon",
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"LOGSTASH_URL", "LOGSTASH_BATCH_DOCS", "LOGSTASH_GZIP", "LOGSTASH_CODEC", "DEADLINE_MARGIN"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}
