// Package settings reads the CDK app's context values (cdk.json "context", or
// `cdk deploy -c key=value`) into one checked struct. It knows nothing of the CDK: the app
// passes Node().TryGetContext, tests pass a map. Values given on the command line arrive as
// strings, those in cdk.json as JSON types; both are accepted. Every error names the key
// that was wrong, and one run reports all of them.
package settings

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Delivery is how the log bucket tells the queue about new objects.
type Delivery string

const (
	// DeliveryS3 adds S3 event notifications for the log prefix and suffixes to the bucket.
	// On an existing bucket the notifications it already has are kept (see README).
	DeliveryS3 Delivery = "s3"
	// DeliveryEventBridge routes S3's "Object Created" EventBridge events to the queue; an
	// existing bucket's notification configuration is never touched.
	DeliveryEventBridge Delivery = "eventbridge"
)

// Settings are every context key, with its default applied. Field comments name the key.
type Settings struct {
	StackName string // stackName: the CloudFormation stack. Default "Logferry".

	// Ingest.
	LogBucket         string   // logBucket: existing bucket the load balancers log to. Default "": the stack creates one.
	LogPrefix         string   // logPrefix: key prefix of the logs, read-only to the function. Default "AWSLogs/".
	LogSuffixes       []string // logSuffixes: object suffixes that trigger ingestion. Default [".log", ".log.gz"].
	LogExpirationDays int      // logExpirationDays: lifecycle expiry of a bucket the stack creates. Default 90.
	LogBucketKMSKey   string   // logBucketKmsKeyArn: KMS key the log objects are encrypted with. Default none (SSE-S3).
	Delivery          Delivery // delivery: "s3" or "eventbridge". Default "s3".
	LogstashURL       string   // logstashUrl: Logstash http input (required).
	LogstashSecret    string   // logstashCredentials: Secrets Manager secret ARN or SSM parameter ("ssm:/path" or ARN). Default none.
	MirrorURL         string   // logstashMirrorUrl: optional second Logstash. Default none.
	MirrorSecret      string   // logstashMirrorCredentials: its credentials, same forms. Default none.
	LogstashCACert    string   // logstashCaCert: local PEM file packaged with the function (LOGSTASH_CA_CERT). Default none.
	SecretsKMSKey     string   // secretsKmsKeyArn: customer key the secrets/parameters are encrypted with. Default none (AWS managed keys).
	IngestMemoryMiB   int      // ingestMemoryMiB. Default DefaultIngestMemoryMiB.
	IngestTimeoutSec  int      // ingestTimeoutSeconds: 60..900. Default 300.
	MaxConcurrency    int      // ingestMaxConcurrency: 2..1000 concurrent invocations. Default 5.
	BatchSize         int      // ingestBatchSize: SQS messages per invocation, 1..10. Default 10.
	MaxReceiveCount   int      // maxReceiveCount: receives before a message moves to the DLQ. Default 5.
	DeadlineMarginSec int      // deadlineMarginSeconds: DEADLINE_MARGIN. Default 20.
	DeadLetterBucket  string   // deadLetterBucket: existing bucket for undeliverable batches. Default "": the stack creates one.
	DeadLetterPrefix  string   // deadLetterPrefix. Default "logferry/dead-letters/".
	DeadLetterKMSKey  string   // deadLetterKmsKeyArn: KMS key of an existing dead-letter bucket. Default none.
	MetricsNamespace  string   // metricsNamespace: METRICS_NAMESPACE. Default "logferry".

	// Reindex.
	Reindex           bool   // reindex: deploy the reindex function and state machine. Default true.
	ElasticsearchURL  string // elasticsearchUrl: required when reindex is true.
	ESSecret          string // elasticsearchCredentials: Secrets Manager secret ARN. Default none.
	ESCACert          string // elasticsearchCaCert: local PEM file packaged with the function (ES_CA_CERT). Default none.
	ReindexPollSec    int    // reindexPollSeconds: REINDEX_POLL_SECONDS. Default 10.
	StateMachineXRay  bool   // stateMachineTracing: X-Ray tracing of executions. Default false.
	ReindexTimeoutSec int    // fixed 120: agreed with the state machine's TimeoutSeconds 150.

	// Both functions.
	SubnetIDs        []string // subnetIds: place the functions in these subnets. Default none (no VPC).
	SecurityGroupIDs []string // securityGroupIds: required with subnetIds.
	LogRetentionDays int      // logRetentionDays: function and state-machine log groups. Default 30.

	// Alarms.
	AlarmEmail           string  // alarmEmail: subscribed to the alarm topic. Default none.
	LagThresholdSec      float64 // lagThresholdSeconds: LagSeconds maximum above which ingest is behind. Default 1800.
	QueueAgeThresholdSec float64 // queueAgeThresholdSeconds: oldest message on the ingest queue. Default 1800.
	ErrorsThreshold      float64 // errorsThreshold: function errors per 5 minutes. Default 1.
	ThrottlesThreshold   float64 // throttlesThreshold: function throttles per 5 minutes. Default 1.
}

// DefaultIngestMemoryMiB is the ingest function's memory size; README "Memory size" has the
// measurement it comes from.
const DefaultIngestMemoryMiB = 1024

// Keys lists every context key Load reads, so a misspelt key can be reported.
var Keys = []string{
	"stackName", "logBucket", "logPrefix", "logSuffixes", "logExpirationDays", "logBucketKmsKeyArn", "delivery",
	"logstashUrl", "logstashCredentials", "logstashMirrorUrl", "logstashMirrorCredentials",
	"logstashCaCert", "elasticsearchCaCert", "secretsKmsKeyArn", "ingestMemoryMiB", "ingestTimeoutSeconds", "ingestMaxConcurrency",
	"ingestBatchSize", "maxReceiveCount", "deadlineMarginSeconds", "deadLetterBucket",
	"deadLetterPrefix", "deadLetterKmsKeyArn", "metricsNamespace", "reindex",
	"elasticsearchUrl", "elasticsearchCredentials", "reindexPollSeconds", "stateMachineTracing",
	"subnetIds", "securityGroupIds", "logRetentionDays", "alarmEmail", "lagThresholdSeconds",
	"queueAgeThresholdSeconds", "errorsThreshold", "throttlesThreshold",
}

// Load reads and checks the settings; get returns a context value or nil.
func Load(get func(key string) any) (Settings, error) {
	r := reader{get: get}
	s := Settings{
		StackName:            r.str("stackName", "Logferry"),
		LogBucket:            r.str("logBucket", ""),
		LogPrefix:            r.str("logPrefix", "AWSLogs/"),
		LogSuffixes:          r.list("logSuffixes", []string{".log", ".log.gz"}),
		LogExpirationDays:    r.int("logExpirationDays", 90, 1, 36500),
		LogBucketKMSKey:      r.str("logBucketKmsKeyArn", ""),
		Delivery:             Delivery(r.str("delivery", string(DeliveryS3))),
		LogstashURL:          r.str("logstashUrl", ""),
		LogstashSecret:       r.str("logstashCredentials", ""),
		MirrorURL:            r.str("logstashMirrorUrl", ""),
		MirrorSecret:         r.str("logstashMirrorCredentials", ""),
		LogstashCACert:       r.str("logstashCaCert", ""),
		SecretsKMSKey:        r.str("secretsKmsKeyArn", ""),
		IngestMemoryMiB:      r.int("ingestMemoryMiB", DefaultIngestMemoryMiB, 128, 10240),
		IngestTimeoutSec:     r.int("ingestTimeoutSeconds", 300, 60, 900),
		MaxConcurrency:       r.int("ingestMaxConcurrency", 5, 2, 1000),
		BatchSize:            r.int("ingestBatchSize", 10, 1, 10),
		MaxReceiveCount:      r.int("maxReceiveCount", 5, 1, 1000),
		DeadlineMarginSec:    r.int("deadlineMarginSeconds", 20, 5, 300),
		DeadLetterBucket:     r.str("deadLetterBucket", ""),
		DeadLetterPrefix:     r.str("deadLetterPrefix", "logferry/dead-letters/"),
		DeadLetterKMSKey:     r.str("deadLetterKmsKeyArn", ""),
		MetricsNamespace:     r.str("metricsNamespace", "logferry"),
		Reindex:              r.bool("reindex", true),
		ElasticsearchURL:     r.str("elasticsearchUrl", ""),
		ESSecret:             r.str("elasticsearchCredentials", ""),
		ESCACert:             r.str("elasticsearchCaCert", ""),
		ReindexPollSec:       r.int("reindexPollSeconds", 10, 1, 3600),
		StateMachineXRay:     r.bool("stateMachineTracing", false),
		ReindexTimeoutSec:    120,
		SubnetIDs:            r.list("subnetIds", nil),
		SecurityGroupIDs:     r.list("securityGroupIds", nil),
		LogRetentionDays:     r.int("logRetentionDays", 30, 1, 3653),
		AlarmEmail:           r.str("alarmEmail", ""),
		LagThresholdSec:      r.float("lagThresholdSeconds", 1800),
		QueueAgeThresholdSec: r.float("queueAgeThresholdSeconds", 1800),
		ErrorsThreshold:      r.float("errorsThreshold", 1),
		ThrottlesThreshold:   r.float("throttlesThreshold", 1),
	}
	r.check(s)
	if len(r.errs) > 0 {
		return s, fmt.Errorf("context: %s", strings.Join(r.errs, "; "))
	}
	return s, nil
}

// Values CloudWatch Logs accepts as a retention in days.
var retentionDays = map[int]bool{1: true, 3: true, 5: true, 7: true, 14: true, 30: true, 60: true,
	90: true, 120: true, 150: true, 180: true, 365: true, 400: true, 545: true, 731: true,
	1096: true, 1827: true, 2192: true, 2557: true, 2922: true, 3288: true, 3653: true}

var (
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	kmsKeyARN  = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]+$`)
	secretARN  = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`)
	ssmARN     = regexp.MustCompile(`^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9/_.-]+$`)
	ssmPath    = regexp.MustCompile(`^ssm:/[A-Za-z0-9/_.-]+$`)
	subnetID   = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	sgID       = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	stackName  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	// A key prefix is put into IAM ARNs and event patterns: no wildcards, no leading slash.
	keyPrefix = regexp.MustCompile(`^([A-Za-z0-9!_.'()/-]+/)?$`)
	suffix    = regexp.MustCompile(`^[A-Za-z0-9!_.'()-]+$`)
)

func (r *reader) check(s Settings) {
	if !stackName.MatchString(s.StackName) {
		r.fail("stackName", s.StackName, "must be a CloudFormation stack name (letters, digits, hyphens; starting with a letter)")
	}
	for key, v := range map[string]string{"logBucket": s.LogBucket, "deadLetterBucket": s.DeadLetterBucket} {
		if v != "" && !bucketName.MatchString(v) {
			r.fail(key, v, "must be an S3 bucket name (not an ARN or s3:// URI)")
		}
	}
	if !keyPrefix.MatchString(s.LogPrefix) {
		r.fail("logPrefix", s.LogPrefix, `must be "" or a key prefix ending in "/", without wildcards or a leading "/"`)
	}
	if !keyPrefix.MatchString(s.DeadLetterPrefix) || s.DeadLetterPrefix == "" {
		r.fail("deadLetterPrefix", s.DeadLetterPrefix, `must be a key prefix ending in "/", without wildcards or a leading "/"`)
	}
	if len(s.LogSuffixes) == 0 {
		r.fail("logSuffixes", "", "must name at least one suffix")
	}
	for _, x := range s.LogSuffixes {
		if !suffix.MatchString(x) {
			r.fail("logSuffixes", x, "must be plain key suffixes such as .log.gz")
		}
	}
	for key, v := range map[string]string{"logBucketKmsKeyArn": s.LogBucketKMSKey, "deadLetterKmsKeyArn": s.DeadLetterKMSKey, "secretsKmsKeyArn": s.SecretsKMSKey} {
		if v != "" && !kmsKeyARN.MatchString(v) {
			r.fail(key, v, "must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; not an alias)")
		}
	}
	if s.DeadLetterKMSKey != "" && s.DeadLetterBucket == "" {
		r.fail("deadLetterKmsKeyArn", s.DeadLetterKMSKey, "applies to an existing deadLetterBucket only (the stack's own uses SSE-S3)")
	}
	if s.Delivery != DeliveryS3 && s.Delivery != DeliveryEventBridge {
		r.fail("delivery", string(s.Delivery), `must be "s3" or "eventbridge"`)
	}
	r.url("logstashUrl", s.LogstashURL, true)
	r.url("logstashMirrorUrl", s.MirrorURL, false)
	r.credentials("logstashCredentials", s.LogstashSecret, true)
	r.credentials("logstashMirrorCredentials", s.MirrorSecret, true)
	if s.MirrorSecret != "" && s.MirrorURL == "" {
		r.fail("logstashMirrorCredentials", s.MirrorSecret, "is set but logstashMirrorUrl is not")
	}
	if s.Reindex {
		r.url("elasticsearchUrl", s.ElasticsearchURL, true)
		// The reindex function reads Secrets Manager only (ES_SECRET_ARN).
		r.credentials("elasticsearchCredentials", s.ESSecret, false)
	}
	for key, v := range map[string]string{"logstashCaCert": s.LogstashCACert, "elasticsearchCaCert": s.ESCACert} {
		if v == "" {
			continue
		}
		if b, err := os.ReadFile(v); err != nil {
			r.fail(key, v, "must be a readable PEM file: "+err.Error())
		} else if !strings.Contains(string(b), "-----BEGIN CERTIFICATE-----") {
			r.fail(key, v, "holds no PEM certificate")
		}
	}
	if s.DeadlineMarginSec*3 > s.IngestTimeoutSec {
		r.fail("deadlineMarginSeconds", strconv.Itoa(s.DeadlineMarginSec), fmt.Sprintf("must be at most a third of ingestTimeoutSeconds (%d)", s.IngestTimeoutSec))
	}
	if (len(s.SubnetIDs) == 0) != (len(s.SecurityGroupIDs) == 0) {
		r.fail("subnetIds", strings.Join(s.SubnetIDs, ","), "and securityGroupIds go together: give both or neither")
	}
	for _, id := range s.SubnetIDs {
		if !subnetID.MatchString(id) {
			r.fail("subnetIds", id, "must be subnet ids (subnet-…)")
		}
	}
	for _, id := range s.SecurityGroupIDs {
		if !sgID.MatchString(id) {
			r.fail("securityGroupIds", id, "must be security group ids (sg-…)")
		}
	}
	if !retentionDays[s.LogRetentionDays] {
		r.fail("logRetentionDays", strconv.Itoa(s.LogRetentionDays), "must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)")
	}
	if s.AlarmEmail != "" && (!strings.Contains(s.AlarmEmail, "@") || strings.ContainsAny(s.AlarmEmail, " ,;")) {
		r.fail("alarmEmail", s.AlarmEmail, "must be one e-mail address")
	}
	for key, v := range map[string]float64{"lagThresholdSeconds": s.LagThresholdSec, "queueAgeThresholdSeconds": s.QueueAgeThresholdSec, "errorsThreshold": s.ErrorsThreshold, "throttlesThreshold": s.ThrottlesThreshold} {
		if v <= 0 {
			r.fail(key, strconv.FormatFloat(v, 'g', -1, 64), "must be a number above 0")
		}
	}
	if !regexp.MustCompile(`^[A-Za-z0-9._/#:-]{1,255}$`).MatchString(s.MetricsNamespace) {
		r.fail("metricsNamespace", s.MetricsNamespace, "must be a CloudWatch namespace")
	}
}

// Secret is a credentials reference split into what IAM needs.
type Secret struct {
	SecretsManagerARN string // set for a Secrets Manager secret
	SSMParameter      string // set for an SSM parameter: its name, starting with "/"
	SSMParameterARN   string // set when the parameter was given by ARN (it may be in another Region)
}

// ParseSecret splits a checked logstashCredentials-style value.
func ParseSecret(v string) Secret {
	switch {
	case v == "":
		return Secret{}
	case strings.HasPrefix(v, "ssm:"):
		return Secret{SSMParameter: strings.TrimPrefix(v, "ssm:")}
	case ssmARN.MatchString(v):
		_, name, _ := strings.Cut(v, ":parameter")
		return Secret{SSMParameter: name, SSMParameterARN: v}
	}
	return Secret{SecretsManagerARN: v}
}

type reader struct {
	get  func(string) any
	errs []string
}

func (r *reader) fail(key, value, why string) {
	r.errs = append(r.errs, fmt.Sprintf("%s=%q %s", key, value, why))
}

func (r *reader) url(key, v string, required bool) {
	switch {
	case v == "" && required:
		r.errs = append(r.errs, key+" is required")
	case v != "" && !regexp.MustCompile(`^https?://[^\s/?#]+(:\d+)?(/[^\s]*)?$`).MatchString(v):
		r.fail(key, v, "must be an http:// or https:// URL")
	}
}

// credentials checks a secret reference: a full Secrets Manager ARN (IAM is granted on
// exactly that secret, so a bare name cannot be used) or, when ssmOK, an SSM parameter.
func (r *reader) credentials(key, v string, ssmOK bool) {
	if v == "" || secretARN.MatchString(v) || (ssmOK && (ssmPath.MatchString(v) || ssmARN.MatchString(v))) {
		return
	}
	want := "must be the full ARN of a Secrets Manager secret (with its 6-character suffix)"
	if ssmOK {
		want += `, or an SSM parameter as "ssm:/path" or its ARN`
	}
	r.fail(key, v, want)
}

// raw returns the value as a string ("" when unset), whatever JSON type it came as.
func (r *reader) raw(key string) (string, bool) {
	v := r.get(key)
	switch t := v.(type) {
	case nil:
		return "", false
	case string:
		return strings.TrimSpace(t), strings.TrimSpace(t) != ""
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return fmt.Sprint(v), true
}

func (r *reader) str(key, def string) string {
	if v, ok := r.raw(key); ok {
		return v
	}
	return def
}

func (r *reader) int(key string, def, min, max int) int {
	v, ok := r.raw(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		r.fail(key, v, fmt.Sprintf("must be a whole number from %d to %d", min, max))
		return def
	}
	return n
}

func (r *reader) float(key string, def float64) float64 {
	v, ok := r.raw(key)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		r.fail(key, v, "must be a number")
		return def
	}
	return f
}

func (r *reader) bool(key string, def bool) bool {
	v, ok := r.raw(key)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(key, v, "must be true or false")
		return def
	}
	return b
}

// list accepts a JSON array (cdk.json) or a comma-separated string (-c key=a,b).
func (r *reader) list(key string, def []string) []string {
	v := r.get(key)
	var out []string
	switch t := v.(type) {
	case nil:
		return def
	case []any:
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				r.fail(key, fmt.Sprint(e), "must be a list of strings")
				continue
			}
			out = append(out, strings.TrimSpace(s))
		}
	case string:
		if strings.TrimSpace(t) == "" {
			return def
		}
		for _, s := range strings.Split(t, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	default:
		r.fail(key, fmt.Sprint(v), "must be a list or a comma-separated string")
		return def
	}
	return out
}
