package settings

import (
	"reflect"
	"strings"
	"testing"
)

func load(m map[string]any) (Settings, error) { return Load(func(k string) any { return m[k] }) }

func minimal() map[string]any {
	return map[string]any{"logstashUrl": "https://logstash.internal:8080", "elasticsearchUrl": "https://es.internal:9200"}
}

func TestDefaults(t *testing.T) {
	s, err := load(minimal())
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		StackName: "Logferry", LogPrefix: "AWSLogs/", LogSuffixes: []string{".log", ".log.gz"},
		LogExpirationDays: 90, Delivery: DeliveryS3, LogstashURL: "https://logstash.internal:8080",
		IngestMemoryMiB: DefaultIngestMemoryMiB, IngestTimeoutSec: 300, MaxConcurrency: 5, BatchSize: 10,
		MaxReceiveCount: 5, DeadlineMarginSec: 20, DeadLetterPrefix: "logferry/dead-letters/",
		MetricsNamespace: "logferry", Reindex: true, ElasticsearchURL: "https://es.internal:9200",
		ReindexPollSec: 10, ReindexTimeoutSec: 120, LogRetentionDays: 30,
		LagThresholdSec: 1800, QueueAgeThresholdSec: 1800, ErrorsThreshold: 1, ThrottlesThreshold: 1,
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", s, want)
	}
}

// Values from `-c key=value` are strings; from cdk.json, JSON types. Both mean the same.
func TestStringAndJSONValues(t *testing.T) {
	fromCLI := minimal()
	for k, v := range map[string]any{"ingestMaxConcurrency": "7", "reindex": "true", "subnetIds": "subnet-0123abcd, subnet-4567ef01", "securityGroupIds": "sg-0123abcd", "lagThresholdSeconds": "600"} {
		fromCLI[k] = v
	}
	fromJSON := minimal()
	for k, v := range map[string]any{"ingestMaxConcurrency": 7.0, "reindex": true, "subnetIds": []any{"subnet-0123abcd", "subnet-4567ef01"}, "securityGroupIds": []any{"sg-0123abcd"}, "lagThresholdSeconds": 600.0} {
		fromJSON[k] = v
	}
	a, err := load(fromCLI)
	if err != nil {
		t.Fatal(err)
	}
	b, err := load(fromJSON)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("CLI strings and JSON values differ:\n%+v\n%+v", a, b)
	}
	if a.MaxConcurrency != 7 || len(a.SubnetIDs) != 2 || a.SubnetIDs[1] != "subnet-4567ef01" || a.LagThresholdSec != 600 {
		t.Fatalf("values not read: %+v", a)
	}
}

// Every bad value is reported in one error that names its key and the value.
func TestErrorsNameTheKey(t *testing.T) {
	m := map[string]any{
		"logBucket":                "arn:aws:s3:::my-logs",
		"logPrefix":                "/AWSLogs/*",
		"delivery":                 "sns",
		"logstashUrl":              "logstash:8080",
		"logstashCredentials":      "my-secret",
		"ingestMaxConcurrency":     "1",
		"ingestBatchSize":          "11",
		"logRetentionDays":         "31",
		"subnetIds":                "subnet-0123abcd",
		"logBucketKmsKeyArn":       "alias/logs",
		"elasticsearchCredentials": "ssm:/es/creds",
		"alarmEmail":               "ops",
		"errorsThreshold":          "0",
		"logstashCaCert":           "/nonexistent/ca.pem",
	}
	_, err := load(m)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`logBucket="arn:aws:s3:::my-logs" must be an S3 bucket name`,
		`logPrefix="/AWSLogs/*"`,
		`delivery="sns" must be "s3" or "eventbridge"`,
		`logstashUrl="logstash:8080" must be an http:// or https:// URL`,
		`logstashCredentials="my-secret" must be the full ARN of a Secrets Manager secret`,
		`ingestMaxConcurrency="1" must be a whole number from 2 to 1000`,
		`ingestBatchSize="11"`,
		`logRetentionDays="31"`,
		`subnetIds="subnet-0123abcd" and securityGroupIds go together`,
		`logBucketKmsKeyArn="alias/logs" must be a KMS key ARN`,
		`elasticsearchCredentials="ssm:/es/creds" must be the full ARN of a Secrets Manager secret (with its 6-character suffix)`,
		`alarmEmail="ops"`,
		`errorsThreshold="0"`,
		"elasticsearchUrl is required",
		`logstashCaCert="/nonexistent/ca.pem" must be a readable PEM file`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestReindexOffNeedsNoElasticsearch(t *testing.T) {
	s, err := load(map[string]any{"logstashUrl": "http://10.0.0.5:8080", "reindex": "false"})
	if err != nil || s.Reindex {
		t.Fatalf("reindex=false: %+v, %v", s, err)
	}
	if _, err := load(map[string]any{}); err == nil || !strings.Contains(err.Error(), "logstashUrl is required") {
		t.Fatalf("empty context: %v", err)
	}
}

func TestParseSecret(t *testing.T) {
	for in, want := range map[string]Secret{
		"": {},
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:logstash/shipper-AbCdEf": {SecretsManagerARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:logstash/shipper-AbCdEf"},
		"ssm:/logferry/logstash": {SSMParameter: "/logferry/logstash"},
		"arn:aws:ssm:eu-west-1:123456789012:parameter/logferry/logstash": {SSMParameter: "/logferry/logstash", SSMParameterARN: "arn:aws:ssm:eu-west-1:123456789012:parameter/logferry/logstash"},
	} {
		if got := ParseSecret(in); got != want {
			t.Errorf("ParseSecret(%q) = %+v, want %+v", in, got, want)
		}
	}
}
