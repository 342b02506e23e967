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

func TestSecretsNotEchoedByLoadIngest(t *testing.T) {
	for _, u := range []string{"ftp://u:S3CRET@host:1", "https://u:S3C%zzRET@host:1", "https://u:S3CRET@host:8o80"} {
		_, err := LoadIngest(env(map[string]string{"LOGSTASH_URL": u}))
		if err == nil {
			t.Errorf("%s: accepted", u)
			continue
		}
		for _, piece := range []string{"S3C", "3CR", "%zz"} {
			if strings.Contains(err.Error(), piece) {
				t.Errorf("%s: the configuration error quotes %q: %v", u, piece, err)
			}
		}
		if !strings.Contains(err.Error(), "LOGSTASH_URL") {
			t.Errorf("%s: error does not name LOGSTASH_URL: %v", u, err)
		}
	}
}

func TestSecretsPlainHTTPLogstashWithCredentials(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"username": {"LOGSTASH_USERNAME": "shipper", "LOGSTASH_PASSWORD": "pw"},
		"api key":  {"LOGSTASH_API_KEY": "k"},
		"secret":   {"LOGSTASH_CREDENTIALS": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ls"},
	} {
		vars["LOGSTASH_URL"] = "http://logstash.internal:8080"
		_, err := LoadIngest(env(vars))
		if err == nil || !strings.Contains(err.Error(), "LOGSTASH_ALLOW_INSECURE=true") {
			t.Errorf("%s over plain http to a remote host: got %v, want a refusal naming LOGSTASH_ALLOW_INSECURE", name, err)
		}
		vars["LOGSTASH_ALLOW_INSECURE"] = "true"
		if c, err := LoadIngest(env(vars)); err != nil || !c.AllowInsecure {
			t.Errorf("%s with LOGSTASH_ALLOW_INSECURE=true: %v (AllowInsecure %v)", name, err, c.AllowInsecure)
		}
		vars["LOGSTASH_ALLOW_INSECURE"], vars["LOGSTASH_URL"] = "", "http://127.0.0.1:8080"
		if _, err := LoadIngest(env(vars)); err != nil {
			t.Errorf("%s to loopback: %v", name, err)
		}
	}
	if _, err := LoadIngest(env(map[string]string{"LOGSTASH_URL": "http://logstash.internal:8080"})); err != nil {
		t.Errorf("plain http without credentials: %v", err)
	}
}
