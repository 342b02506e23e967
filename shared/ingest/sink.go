package ingest

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/logstash"
)

// SinkConfig is the Logstash sink an ingest configuration describes; the Lambda, `logferry
// ingest` and `logferry replay` all build theirs here. It reads LOGSTASH_CA_CERT's file.
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
		MaxRetries:     c.MaxRetries,  // 0: no count limit, the budget alone
		RetryBudget:    c.RetryBudget, // 0: the sink's default
		// LOGSTASH_ALLOW_INSECURE: credentials over plain http:// to a non-loopback host.
		AllowInsecureHTTP: c.AllowInsecure,
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
