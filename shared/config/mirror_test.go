package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadMirror(t *testing.T) {
	c, err := LoadIngest(env(map[string]string{
		"LOGSTASH_URL": "https://old:8080", "DEAD_LETTER_URI": "s3://ops/dead/", "LOGSTASH_MAX_RETRIES": "5",
		"LOGSTASH_USERNAME": "old-user", "LOGSTASH_PASSWORD": "old-pw",
		"LOGSTASH_MIRROR_URL": "https://new:8080", "LOGSTASH_MIRROR_CREDENTIALS": "ssm:/logferry/new",
		"LOGSTASH_MIRROR_RETRY_BUDGET": "45s", "LOGSTASH_MIRROR_BUFFER_DOCS": "5000", "LOGSTASH_MIRROR_WAIT": "2",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Mirror{URL: "https://new:8080", Credentials: "ssm:/logferry/new", RetryBudget: 45 * time.Second, BufferDocs: 5000, Wait: 2 * time.Second}
	if c.Mirror != want {
		t.Fatalf("mirror %+v, want %+v", c.Mirror, want)
	}
	m := c.AsMirror("")
	if m.LogstashURL != "https://new:8080" || m.Credentials != "ssm:/logferry/new" || m.Username != "" || m.Password != "" ||
		m.DeadLetter != "s3://ops/dead/mirror/" || m.MaxRetries != 5 || m.Mirror.URL != "" {
		t.Fatalf("AsMirror: %+v", m)
	}
	if m := c.AsMirror("http://other:8080"); m.LogstashURL != "http://other:8080" {
		t.Fatalf("AsMirror(url): %q", m.LogstashURL)
	}
	for in, want := range map[string]string{"": "", "s3://b/p": "s3://b/p/mirror/", "s3://b/": "s3://b/mirror/", "/var/dead": "/var/dead/mirror"} {
		if got := MirrorDeadLetter(in); got != want {
			t.Errorf("MirrorDeadLetter(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadMirrorRejects(t *testing.T) {
	for vars, want := range map[[2]string]string{
		{"LOGSTASH_MIRROR_URL", "new:8080"}:              "LOGSTASH_MIRROR_URL",
		{"LOGSTASH_MIRROR_USERNAME", "u"}:                "LOGSTASH_MIRROR_URL is not",
		{"LOGSTASH_MIRROR_RETRY_BUDGET", "soon"}:         "LOGSTASH_MIRROR_RETRY_BUDGET",
		{"LOGSTASH_MIRROR_BUFFER_DOCS", "-1"}:            "LOGSTASH_MIRROR_BUFFER_DOCS",
		{"LOGSTASH_MIRROR_CREDENTIALS", "arn:aws:x:y:z"}: "LOGSTASH_MIRROR_URL is not",
	} {
		_, err := LoadIngest(env(map[string]string{"LOGSTASH_URL": "https://old:8080", vars[0]: vars[1]}))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=%q: err %v, want one naming %s", vars[0], vars[1], err, want)
		}
	}
}
