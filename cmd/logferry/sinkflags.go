package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/endpoint"
)

// sinkFlags are the Logstash flags `ingest` and `replay` share; each overrides the
// environment variable the Lambda reads.
type sinkFlags struct {
	to                     *string
	batchDocs, concurrency *int
	retryBudget            *time.Duration
}

func addSinkFlags(fs *flag.FlagSet) sinkFlags {
	return sinkFlags{
		to:          fs.String("to", "", "Logstash http input URL (default $LOGSTASH_URL)"),
		batchDocs:   fs.Int("batch-docs", 0, "documents per request (default $LOGSTASH_BATCH_DOCS or 500)"),
		concurrency: fs.Int("concurrency", 0, "requests in flight (default $LOGSTASH_CONCURRENCY or 3)"),
		retryBudget: fs.Duration("retry-budget", 0, "how long one batch is retried before it is dead-lettered (default $LOGSTASH_RETRY_BUDGET or 2m)"),
	}
}

// load reads the ingest configuration from the environment with the flags (and extra
// variables) applied on top.
func (f sinkFlags) load(e *env, extra map[string]string) (config.Ingest, error) {
	set := map[string]string{}
	for k, v := range extra {
		set[k] = v
	}
	if *f.to != "" {
		set["LOGSTASH_URL"] = *f.to
	}
	if *f.batchDocs > 0 {
		set["LOGSTASH_BATCH_DOCS"] = fmt.Sprint(*f.batchDocs)
	}
	if *f.concurrency > 0 {
		set["LOGSTASH_CONCURRENCY"] = fmt.Sprint(*f.concurrency)
	}
	if *f.retryBudget > 0 {
		set["LOGSTASH_RETRY_BUDGET"] = f.retryBudget.String()
	}
	cfg, err := config.LoadIngest(overlay(e.Getenv, set))
	if err != nil {
		if e.Getenv("LOGSTASH_URL") == "" && *f.to == "" {
			return cfg, usagef("no Logstash URL: give --to URL or set LOGSTASH_URL")
		}
		return cfg, err
	}
	if cfg.Credentials != "" {
		return cfg, errors.New("LOGSTASH_CREDENTIALS is for the Lambda; locally set LOGSTASH_USERNAME/LOGSTASH_PASSWORD or LOGSTASH_API_KEY")
	}
	return cfg, nil
}

// credentials are the ones set directly in the environment (the CLI never reads secrets).
func credentials(cfg config.Ingest) config.Credentials {
	return config.Credentials{Username: cfg.Username, Password: cfg.Password, APIKey: cfg.APIKey}
}

// target picks the one Logstash a CLI command ships to: the mirror alone when toMirror is
// set (`--to-mirror URL`: the mirror's LOGSTASH_MIRROR_* credentials, retries and dead
// letters under DEAD_LETTER_URI + mirror/), else the primary alone: the CLI does not
// duplicate a stream; to warm a new cluster it ships history to it directly.
func target(cfg config.Ingest, toMirror string) (config.Ingest, error) {
	if toMirror == "" {
		cfg.Mirror = config.Mirror{}
		return cfg, nil
	}
	cfg = cfg.AsMirror(toMirror)
	creds := cfg.Username != "" || cfg.Password != "" || cfg.APIKey != ""
	if _, err := endpoint.Check(cfg.LogstashURL, endpoint.Options{Name: "--to-mirror", Credentials: creds,
		AllowInsecure: cfg.AllowInsecure, AllowName: "LOGSTASH_ALLOW_INSECURE"}); err != nil {
		return cfg, usagef("%s", err)
	}
	if cfg.Credentials != "" {
		return cfg, errors.New("LOGSTASH_MIRROR_CREDENTIALS is for the Lambda; locally set LOGSTASH_MIRROR_USERNAME/LOGSTASH_MIRROR_PASSWORD or LOGSTASH_MIRROR_API_KEY")
	}
	return cfg, nil
}
