package stack

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/logferry/logferry/infra/settings"
)

const (
	logstashSecret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:logferry/logstash-AbCdEf"
	esSecret       = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:logferry/es-GhIjKl"
	mirrorSecret   = "arn:aws:ssm:eu-west-1:123456789012:parameter/logferry/mirror"
	logKey         = "arn:aws:kms:eu-west-1:123456789012:key/0b1e2f3a-1111-2222-3333-444455556666"
)

// The usual deployment: an existing bucket, S3 notifications, reindexing, e-mail alarms.
func existingBucket() map[string]any {
	return map[string]any{
		"logBucket":                "acme-elb-logs",
		"logstashUrl":              "https://logstash.internal:8080",
		"logstashCredentials":      logstashSecret,
		"elasticsearchUrl":         "https://es.internal:9200",
		"elasticsearchCredentials": esSecret,
		"alarmEmail":               "ops@example.com",
	}
}

// Everything optional switched on: a new bucket, EventBridge, a VPC, KMS, the mirror, X-Ray.
func everything() map[string]any {
	return map[string]any{
		"stackName":                 "logferry-prod",
		"delivery":                  "eventbridge",
		"logPrefix":                 "prod/AWSLogs/",
		"logBucketKmsKeyArn":        logKey,
		"logstashUrl":               "https://logstash.internal:8080",
		"logstashCredentials":       "ssm:/logferry/logstash",
		"logstashMirrorUrl":         "https://logstash-next.internal:8080",
		"logstashMirrorCredentials": mirrorSecret,
		"elasticsearchUrl":          "https://es.internal:9200",
		"elasticsearchCredentials":  esSecret,
		"subnetIds":                 "subnet-0123abcd,subnet-4567ef01",
		"securityGroupIds":          "sg-0123abcd",
		"stateMachineTracing":       "true",
		"ingestMaxConcurrency":      "3",
		"ingestTimeoutSeconds":      "600",
	}
}

type synthesized struct {
	l   *Logferry
	s   settings.Settings
	tpl assertions.Template
	raw map[string]any // the template as JSON
}

func synth(t *testing.T, ctx map[string]any) synthesized {
	t.Helper()
	s, err := settings.Load(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	root, err := FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	l, err := New(app, s, root)
	if err != nil {
		t.Fatal(err)
	}
	AddChecks(app)
	tpl := assertions.Template_FromStack(l.Stack, nil)
	b, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return synthesized{l: l, s: s, tpl: tpl, raw: raw}
}

// resources returns the template's resources of one type, by logical id.
func (x synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range x.raw["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// props is the Properties of the one resource of typ whose logical id starts with prefix.
func (x synthesized) props(t *testing.T, typ, prefix string) (string, map[string]any) {
	t.Helper()
	var id string
	var p map[string]any
	for rid, r := range x.resources(typ) {
		if strings.HasPrefix(rid, prefix) {
			if id != "" {
				t.Fatalf("two %s resources start with %s: %s, %s", typ, prefix, id, rid)
			}
			id, p = rid, r["Properties"].(map[string]any)
		}
	}
	if id == "" {
		t.Fatalf("no %s resource starting with %s", typ, prefix)
	}
	return id, p
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func getAtt(id, attr string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }
func ref(id string) map[string]any          { return map[string]any{"Ref": id} }

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if js(got) != js(want) {
		t.Errorf("%s:\n got %s\nwant %s", what, js(got), js(want))
	}
}

// noNagErrors fails on any error annotation (cdk-nag's findings are errors).
func noNagErrors(t *testing.T, x synthesized) {
	t.Helper()
	found := assertions.Annotations_FromStack(x.l.Stack).FindError(jsii.String("*"), assertions.Match_AnyValue())
	for _, m := range *found {
		t.Errorf("synthesis error at %s: %v", *m.Id, m.Entry.Data)
	}
}

func TestExistingBucketWithS3Notifications(t *testing.T) {
	x := synth(t, existingBucket())
	noNagErrors(t, x)
	cfnLint(t, x)

	// No bucket is created: the log bucket is imported, the dead-letter bucket is the stack's.
	x.tpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(1))
	dlBucket, dl := x.props(t, "AWS::S3::Bucket", "IngestDeadLetterBucket")
	checkPrivateBucket(t, x, dlBucket, dl)

	queue, q := x.props(t, "AWS::SQS::Queue", "IngestQueue")
	dlq, _ := x.props(t, "AWS::SQS::Queue", "IngestDeadLetterQueue")
	eq(t, "queue visibility (6 × 300 s timeout)", q["VisibilityTimeout"], 1800)
	eq(t, "queue redrive", q["RedrivePolicy"], map[string]any{"deadLetterTargetArn": getAtt(dlq, "Arn"), "maxReceiveCount": 5})

	// Notifications on the existing bucket: unmanaged (existing ones kept), one per suffix.
	_, n := x.props(t, "Custom::S3BucketNotifications", "IngestLogBucketNotifications")
	eq(t, "notified bucket", n["BucketName"], "acme-elb-logs")
	eq(t, "managed", n["Managed"], false)
	var qc []any
	for _, sfx := range []string{".log", ".log.gz"} {
		qc = append(qc, map[string]any{
			"Events":   []any{"s3:ObjectCreated:*"},
			"Filter":   map[string]any{"Key": map[string]any{"FilterRules": []any{map[string]any{"Name": "suffix", "Value": sfx}, map[string]any{"Name": "prefix", "Value": "AWSLogs/"}}}},
			"QueueArn": getAtt(queue, "Arn"),
		})
	}
	eq(t, "notifications", n["NotificationConfiguration"], map[string]any{"QueueConfigurations": qc})
	x.tpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(0))

	fn, f := x.props(t, "AWS::Lambda::Function", "IngestFunction")
	eq(t, "runtime", f["Runtime"], "provided.al2023")
	eq(t, "architectures", f["Architectures"], []any{"arm64"})
	eq(t, "handler", f["Handler"], "bootstrap")
	eq(t, "memory", f["MemorySize"], settings.DefaultIngestMemoryMiB)
	eq(t, "timeout", f["Timeout"], 300)
	if _, ok := f["VpcConfig"]; ok {
		t.Error("VpcConfig without subnetIds")
	}
	eq(t, "ingest environment", f["Environment"], map[string]any{"Variables": map[string]any{
		"LOGSTASH_URL":           "https://logstash.internal:8080",
		"LOGSTASH_CREDENTIALS":   logstashSecret,
		"DEAD_LETTER_URI":        map[string]any{"Fn::Join": []any{"", []any{"s3://", ref(dlBucket), "/logferry/dead-letters/"}}},
		"CONTINUATION_QUEUE_URL": ref(queue),
		"DEADLINE_MARGIN":        "20s",
		"METRICS_NAMESPACE":      "logferry",
	}})

	_, m := x.props(t, "AWS::Lambda::EventSourceMapping", "IngestFunction")
	eq(t, "mapping function", m["FunctionName"], ref(fn))
	eq(t, "mapping queue", m["EventSourceArn"], getAtt(queue, "Arn"))
	eq(t, "mapping response types", m["FunctionResponseTypes"], []any{"ReportBatchItemFailures"})
	eq(t, "mapping maximum concurrency", m["ScalingConfig"], map[string]any{"MaximumConcurrency": 5})
	eq(t, "mapping batch size", m["BatchSize"], 10)

	logs := logGroupOf(t, x, "IngestFunctionLogs")
	checkStatements(t, x, "IngestFunctionRole", []statement{
		{[]string{"logs:CreateLogStream", "logs:PutLogEvents"}, []any{getAtt(logs, "Arn")}},
		{[]string{"s3:GetObject"}, []any{join("arn:", ref("AWS::Partition"), ":s3:::acme-elb-logs/AWSLogs/*")}},
		{[]string{"s3:PutObject"}, []any{join(getAtt(dlBucket, "Arn"), "/logferry/dead-letters/*")}},
		{[]string{"sqs:SendMessage", "sqs:GetQueueUrl"}, []any{getAtt(queue, "Arn")}},
		{[]string{"secretsmanager:GetSecretValue"}, []any{logstashSecret}},
		{[]string{"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}, []any{getAtt(queue, "Arn")}},
	})
	checkReindex(t, x)
	_, sm := x.props(t, "AWS::StepFunctions::StateMachine", "ReindexStateMachine")
	eq(t, "state machine name of the default stack", sm["StateMachineName"], "Logferry-reindex")
	checkAlarms(t, x)
	checkLeastPrivilege(t, x, []string{logstashSecret, esSecret})

	subs := x.resources("AWS::SNS::Subscription")
	if len(subs) != 1 {
		t.Fatalf("subscriptions: %d", len(subs))
	}
	for _, s := range subs {
		p := s["Properties"].(map[string]any)
		eq(t, "subscription", []any{p["Protocol"], p["Endpoint"]}, []any{"email", "ops@example.com"})
	}
}

func TestNewBucketEventBridgeVPCAndKMS(t *testing.T) {
	ctx := everything()
	ca := writeCA(t)
	ctx["logstashCaCert"], ctx["elasticsearchCaCert"] = ca, ca
	x := synth(t, ctx)
	noNagErrors(t, x)
	cfnLint(t, x)

	logBucket, b := x.props(t, "AWS::S3::Bucket", "IngestLogBucket")
	checkPrivateBucket(t, x, logBucket, b)
	eq(t, "EventBridge on the new bucket", b["NotificationConfiguration"], map[string]any{"EventBridgeConfiguration": map[string]any{"EventBridgeEnabled": true}})
	rules := b["LifecycleConfiguration"].(map[string]any)["Rules"].([]any)
	eq(t, "log expiry", rules[1], map[string]any{"ExpirationInDays": 90, "Id": "expire-logs", "Status": "Enabled"})
	x.tpl.ResourceCountIs(jsii.String("Custom::S3BucketNotifications"), jsii.Number(0))

	queue, q := x.props(t, "AWS::SQS::Queue", "IngestQueue")
	eq(t, "queue visibility (6 × 600 s)", q["VisibilityTimeout"], 3600)
	_, rule := x.props(t, "AWS::Events::Rule", "IngestObjectCreated")
	eq(t, "event pattern", rule["EventPattern"], map[string]any{
		"detail": map[string]any{
			"bucket": map[string]any{"name": []any{ref(logBucket)}},
			"object": map[string]any{"key": []any{map[string]any{"wildcard": "prod/AWSLogs/*.log"}, map[string]any{"wildcard": "prod/AWSLogs/*.log.gz"}}},
		},
		"detail-type": []any{"Object Created"},
		"source":      []any{"aws.s3"},
	})
	eq(t, "rule target", rule["Targets"].([]any)[0].(map[string]any)["Arn"], getAtt(queue, "Arn"))

	vpc := map[string]any{"SecurityGroupIds": []any{"sg-0123abcd"}, "SubnetIds": []any{"subnet-0123abcd", "subnet-4567ef01"}}
	_, f := x.props(t, "AWS::Lambda::Function", "IngestFunction")
	eq(t, "ingest VPC", f["VpcConfig"], vpc)
	env := f["Environment"].(map[string]any)["Variables"].(map[string]any)
	eq(t, "mirror", []any{env["LOGSTASH_CREDENTIALS"], env["LOGSTASH_MIRROR_URL"], env["LOGSTASH_MIRROR_CREDENTIALS"]},
		[]any{"ssm:/logferry/logstash", "https://logstash-next.internal:8080", mirrorSecret})
	eq(t, "Logstash CA", env["LOGSTASH_CA_CERT"], "/var/task/logstash-ca.pem")
	checkPackaged(t, IngestAsset, "logstash-ca.pem", ca)
	_, rf := x.props(t, "AWS::Lambda::Function", "ReindexFunction")
	eq(t, "reindex VPC", rf["VpcConfig"], vpc)
	eq(t, "Elasticsearch CA", rf["Environment"].(map[string]any)["Variables"].(map[string]any)["ES_CA_CERT"], "/var/task/es-ca.pem")
	checkPackaged(t, ReindexAsset, "es-ca.pem", ca)
	_, m := x.props(t, "AWS::Lambda::EventSourceMapping", "IngestFunction")
	eq(t, "mapping maximum concurrency", m["ScalingConfig"], map[string]any{"MaximumConcurrency": 3})

	dlBucket, _ := x.props(t, "AWS::S3::Bucket", "IngestDeadLetterBucket")
	logs := logGroupOf(t, x, "IngestFunctionLogs")
	eni := []string{"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}
	checkStatements(t, x, "IngestFunctionRole", []statement{
		{[]string{"logs:CreateLogStream", "logs:PutLogEvents"}, []any{getAtt(logs, "Arn")}},
		{eni, []any{"*"}},
		{[]string{"s3:GetObject"}, []any{join(getAtt(logBucket, "Arn"), "/prod/AWSLogs/*")}},
		{[]string{"kms:Decrypt"}, []any{logKey}},
		{[]string{"s3:PutObject"}, []any{join(getAtt(dlBucket, "Arn"), "/logferry/dead-letters/*")}},
		{[]string{"sqs:SendMessage", "sqs:GetQueueUrl"}, []any{getAtt(queue, "Arn")}},
		{[]string{"ssm:GetParameter"}, []any{join("arn:", ref("AWS::Partition"), ":ssm:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":parameter/logferry/logstash")}},
		{[]string{"ssm:GetParameter"}, []any{mirrorSecret}},
		{[]string{"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}, []any{getAtt(queue, "Arn")}},
	})
	_, sm := x.props(t, "AWS::StepFunctions::StateMachine", "ReindexStateMachine")
	eq(t, "tracing", sm["TracingConfiguration"], map[string]any{"Enabled": true})
	eq(t, "state machine name from stackName", sm["StateMachineName"], "logferry-prod-reindex")
	checkReindex(t, x)
	checkAlarms(t, x)
	checkLeastPrivilege(t, x, []string{esSecret})
}

func TestIngestOnly(t *testing.T) {
	x := synth(t, map[string]any{"logBucket": "acme-elb-logs", "logstashUrl": "http://10.1.2.3:8080", "reindex": "false", "delivery": "eventbridge"})
	cfnLint(t, x)
	noNagErrors(t, x)
	x.tpl.ResourceCountIs(jsii.String("AWS::StepFunctions::StateMachine"), jsii.Number(0))
	x.tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(1))
	// EventBridge on an existing bucket: nothing on the bucket is touched.
	x.tpl.ResourceCountIs(jsii.String("Custom::S3BucketNotifications"), jsii.Number(0))
	x.tpl.ResourceCountIs(jsii.String("AWS::S3::BucketPolicy"), jsii.Number(1)) // the dead-letter bucket's own
	checkAlarms(t, x)
	checkLeastPrivilege(t, x, nil)
}

// checkPrivateBucket: encrypted, public access blocked, retained, and a TLS-only policy.
func checkPrivateBucket(t *testing.T, x synthesized, id string, p map[string]any) {
	t.Helper()
	eq(t, id+" encryption", p["BucketEncryption"], map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}}})
	eq(t, id+" public access", p["PublicAccessBlockConfiguration"], map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true})
	r := x.raw["Resources"].(map[string]any)[id].(map[string]any)
	eq(t, id+" deletion policy", r["DeletionPolicy"], "Retain")
	if rules := p["LifecycleConfiguration"].(map[string]any)["Rules"].([]any); len(rules) == 0 {
		t.Errorf("%s has no lifecycle rule", id)
	}
	for _, pol := range x.resources("AWS::S3::BucketPolicy") {
		pp := pol["Properties"].(map[string]any)
		if js(pp["Bucket"]) != js(ref(id)) {
			continue
		}
		for _, st := range pp["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if st["Effect"] == "Deny" && js(st["Condition"]) == `{"Bool":{"aws:SecureTransport":"false"}}` && st["Action"] == "s3:*" {
				return
			}
		}
	}
	t.Errorf("%s has no TLS-only bucket policy", id)
}

func logGroupOf(t *testing.T, x synthesized, prefix string) string {
	t.Helper()
	id, p := x.props(t, "AWS::Logs::LogGroup", prefix)
	eq(t, id+" retention", p["RetentionInDays"], x.s.LogRetentionDays)
	return id
}

func join(parts ...any) map[string]any { return map[string]any{"Fn::Join": []any{"", parts}} }

type statement struct {
	actions   []string
	resources []any
}

// policyStatements returns the Allow statements of every AWS::IAM::Policy attached to the
// role whose logical id starts with rolePrefix.
func policyStatements(t *testing.T, x synthesized, rolePrefix string) []statement {
	t.Helper()
	role, _ := x.props(t, "AWS::IAM::Role", rolePrefix)
	var out []statement
	for _, pol := range x.resources("AWS::IAM::Policy") {
		p := pol["Properties"].(map[string]any)
		if js(p["Roles"]) != js([]any{ref(role)}) {
			continue
		}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, toStatement(t, st.(map[string]any)))
		}
	}
	return out
}

func toStatement(t *testing.T, st map[string]any) statement {
	t.Helper()
	if st["Effect"] != "Allow" {
		t.Errorf("statement is not Allow: %s", js(st))
	}
	var s statement
	switch a := st["Action"].(type) {
	case string:
		s.actions = []string{a}
	case []any:
		for _, e := range a {
			s.actions = append(s.actions, e.(string))
		}
	}
	switch r := st["Resource"].(type) {
	case []any:
		s.resources = r
	default:
		s.resources = []any{r}
	}
	return s
}

// checkStatements: the role's policy is exactly these statements (order free).
func checkStatements(t *testing.T, x synthesized, rolePrefix string, want []statement) {
	t.Helper()
	key := func(s statement) string {
		a := append([]string(nil), s.actions...)
		sort.Strings(a)
		return strings.Join(a, ",") + " on " + js(s.resources)
	}
	var got, exp []string
	for _, s := range policyStatements(t, x, rolePrefix) {
		got = append(got, key(s))
	}
	for _, s := range want {
		exp = append(exp, key(s))
	}
	sort.Strings(got)
	sort.Strings(exp)
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("%s statements:\n got %s\nwant %s", rolePrefix, strings.Join(got, "\n     "), strings.Join(exp, "\n     "))
	}
}

// checkLeastPrivilege looks at every statement in the template, the CDK's own included:
// no "*" resource for S3, SQS, Lambda, Secrets Manager, Elasticsearch or Step Functions
// actions, and secretsmanager:GetSecretValue only on the named secrets.
func checkLeastPrivilege(t *testing.T, x synthesized, secrets []string) {
	t.Helper()
	guarded := []string{"s3:", "sqs:", "lambda:", "secretsmanager:", "es:", "states:"}
	n := 0
	for id, pol := range x.resources("AWS::IAM::Policy") {
		for _, st := range pol["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			s := toStatement(t, st.(map[string]any))
			n++
			for _, a := range s.actions {
				if strings.HasSuffix(a, "*") {
					t.Errorf("%s: wildcard action %s", id, a)
				}
				for _, g := range guarded {
					if !strings.HasPrefix(a, g) {
						continue
					}
					for _, r := range s.resources {
						if r == "*" {
							t.Errorf("%s: %s on *", id, a)
						}
					}
				}
				if a == "secretsmanager:GetSecretValue" {
					for _, r := range s.resources {
						if rs, ok := r.(string); !ok || !contains(secrets, rs) {
							t.Errorf("%s: GetSecretValue on %s, not a named secret", id, js(r))
						}
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no IAM statements found")
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// checkReindex: the function, the definition (the ASL file as it is, whatever it holds,
// with the function's ARN substituted), logging, and the role's one right.
func checkReindex(t *testing.T, x synthesized) {
	t.Helper()
	fn, f := x.props(t, "AWS::Lambda::Function", "ReindexFunction")
	eq(t, "reindex runtime", []any{f["Runtime"], f["Architectures"], f["Handler"]}, []any{"provided.al2023", []any{"arm64"}, "bootstrap"})
	if to := f["Timeout"].(float64); to < 60 || to != 120 {
		t.Errorf("reindex timeout %v, want the agreed 120 s (≥ 60)", to)
	}
	vars := map[string]any{"ES_URL": "https://es.internal:9200", "ES_SECRET_ARN": esSecret, "REINDEX_POLL_SECONDS": "10"}
	if x.s.ESCACert != "" {
		vars["ES_CA_CERT"] = "/var/task/es-ca.pem"
	}
	eq(t, "reindex environment", f["Environment"], map[string]any{"Variables": vars})
	logs := logGroupOf(t, x, "ReindexFunctionLogs")
	checkStatements(t, x, "ReindexFunctionRole", append([]statement{
		{[]string{"logs:CreateLogStream", "logs:PutLogEvents"}, []any{getAtt(logs, "Arn")}},
		{[]string{"secretsmanager:GetSecretValue"}, []any{esSecret}},
	}, vpcStatements(x)...))

	_, sm := x.props(t, "AWS::StepFunctions::StateMachine", "ReindexStateMachine")
	file, err := os.ReadFile(filepath.Join("..", "..", ASLFile))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "definition substitutions", sm["DefinitionSubstitutions"], map[string]any{FunctionArnVar: getAtt(fn, "Arn")})
	// Substitute as Step Functions does, with the same stand-in ARN on both sides.
	arn := "arn:aws:lambda:eu-west-1:123456789012:function:reindex"
	sub := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(strings.ReplaceAll(s, "${"+FunctionArnVar+"}", arn)), &v); err != nil {
			t.Fatalf("definition is not JSON after substitution: %v", err)
		}
		return v
	}
	def, ok := sm["DefinitionString"].(string)
	if !ok {
		t.Fatalf("DefinitionString is not the definition itself: %s", js(sm["DefinitionString"]))
	}
	eq(t, "definition = ASL file", sub(def), sub(string(file)))
	if !strings.Contains(def, arn) && !strings.Contains(string(file), "${"+FunctionArnVar+"}") {
		t.Errorf("%s does not use ${%s}", ASLFile, FunctionArnVar)
	}
	smLogs := logGroupOf(t, x, "ReindexStateMachineLogs")
	eq(t, "state machine logging", sm["LoggingConfiguration"], map[string]any{
		"Destinations":         []any{map[string]any{"CloudWatchLogsLogGroup": map[string]any{"LogGroupArn": getAtt(smLogs, "Arn")}}},
		"IncludeExecutionData": true,
		"Level":                "ALL",
	})
	checkStateMachineRole(t, x, fn, sm)
}

// checkStateMachineRole: the state machine has its fixed name, and its role exactly these
// rights — the one function, the Distributed Map's on itself and its child executions by
// ARNs formatted from that name, and the CDK's log delivery (and X-Ray) on * — and its ARN
// is a stack output. (A cycle, such as the role's policy naming the state machine by Ref,
// fails earlier: Template_FromStack refuses a template with one.)
func checkStateMachineRole(t *testing.T, x synthesized, fn string, sm map[string]any) {
	t.Helper()
	name := StateMachineName(x.s.StackName)
	eq(t, "state machine name", sm["StateMachineName"], name)
	arn := func(resource string) map[string]any {
		return join("arn:", ref("AWS::Partition"), ":states:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":"+resource)
	}
	want := []statement{
		{[]string{"lambda:InvokeFunction"}, []any{getAtt(fn, "Arn")}},
		{[]string{"states:StartExecution"}, []any{arn("stateMachine:" + name)}},
		{[]string{"states:DescribeExecution", "states:StopExecution"}, []any{arn("execution:" + name + "/*")}},
		{[]string{"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
			"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}, []any{"*"}},
	}
	if x.s.StateMachineXRay {
		want = append(want, statement{[]string{"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"}, []any{"*"}})
	}
	checkStatements(t, x, "ReindexStateMachineRole", want)

	smID, _ := x.props(t, "AWS::StepFunctions::StateMachine", "ReindexStateMachine")
	var outs []string
	for id, o := range x.raw["Outputs"].(map[string]any) {
		if js(o.(map[string]any)["Value"]) == js(ref(smID)) && strings.HasPrefix(id, "ReindexStateMachineArn") {
			outs = append(outs, id)
		}
	}
	eq(t, "ReindexStateMachineArn… outputs giving the state machine's ARN", len(outs), 1)
}

func vpcStatements(x synthesized) []statement {
	if len(x.s.SubnetIDs) == 0 {
		return nil
	}
	return []statement{{[]string{"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}, []any{"*"}}}
}

// checkAlarms: each alarm by metric, with its threshold, all to the one topic; the dashboard.
func checkAlarms(t *testing.T, x synthesized) {
	t.Helper()
	topic, _ := x.props(t, "AWS::SNS::Topic", "AlarmTopic")
	fn, _ := x.props(t, "AWS::Lambda::Function", "IngestFunction")
	queue, _ := x.props(t, "AWS::SQS::Queue", "IngestQueue")
	dlq, _ := x.props(t, "AWS::SQS::Queue", "IngestDeadLetterQueue")
	type want struct {
		ns, metric, stat string
		dims             map[string]any
		op               string
		threshold        float64
	}
	fnDim := map[string]any{"FunctionName": ref(fn)}
	ns := x.s.MetricsNamespace
	wants := map[string]want{
		"Errors":                             {"AWS/Lambda", "Errors", "Sum", fnDim, "GreaterThanOrEqualToThreshold", x.s.ErrorsThreshold},
		"Throttles":                          {"AWS/Lambda", "Throttles", "Sum", fnDim, "GreaterThanOrEqualToThreshold", x.s.ThrottlesThreshold},
		"ApproximateNumberOfMessagesVisible": {"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", map[string]any{"QueueName": getAtt(dlq, "QueueName")}, "GreaterThanThreshold", 0},
		"ApproximateAgeOfOldestMessage":      {"AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", map[string]any{"QueueName": getAtt(queue, "QueueName")}, "GreaterThanOrEqualToThreshold", x.s.QueueAgeThresholdSec},
		"LagSeconds":                         {ns, "LagSeconds", "Maximum", fnDim, "GreaterThanOrEqualToThreshold", x.s.LagThresholdSec},
		"DeadLettered":                       {ns, "DeadLettered", "Sum", fnDim, "GreaterThanThreshold", 0},
		"ObjectsRejected":                    {ns, "ObjectsRejected", "Sum", fnDim, "GreaterThanThreshold", 0},
	}
	if x.s.MirrorURL != "" {
		wants["MirrorDeadLettered"] = want{ns, "MirrorDeadLettered", "Sum", fnDim, "GreaterThanThreshold", 0}
	}
	if x.s.Reindex {
		sm, _ := x.props(t, "AWS::StepFunctions::StateMachine", "ReindexStateMachine")
		for _, m := range []string{"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"} {
			wants[m] = want{"AWS/States", m, "Sum", map[string]any{"StateMachineArn": ref(sm)}, "GreaterThanThreshold", 0}
		}
	}
	alarms := x.resources("AWS::CloudWatch::Alarm")
	if len(alarms) != len(wants) {
		t.Errorf("%d alarms, want %d", len(alarms), len(wants))
	}
	for id, a := range alarms {
		p := a["Properties"].(map[string]any)
		w, ok := wants[p["MetricName"].(string)]
		if !ok {
			t.Errorf("unexpected alarm %s on %v", id, p["MetricName"])
			continue
		}
		delete(wants, p["MetricName"].(string))
		var dims = map[string]any{}
		for _, d := range p["Dimensions"].([]any) {
			d := d.(map[string]any)
			dims[d["Name"].(string)] = d["Value"]
		}
		eq(t, id, []any{p["Namespace"], p["Statistic"], dims, p["ComparisonOperator"], p["Threshold"], p["Period"], p["AlarmActions"]},
			[]any{w.ns, w.stat, w.dims, w.op, w.threshold, 300, []any{ref(topic)}})
	}
	for m := range wants {
		t.Errorf("no alarm on %s", m)
	}
	x.tpl.ResourceCountIs(jsii.String("AWS::SNS::Topic"), jsii.Number(1))

	_, d := x.props(t, "AWS::CloudWatch::Dashboard", "AlarmsDashboard")
	body := js(d["DashboardBody"])
	metrics := []string{"Lines", "Bytes", "LagSeconds", "DeadLettered", "ObjectsFailed", "ObjectsRejected", "ParseFailures", "Errors", "ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"}
	if x.s.Reindex {
		metrics = append(metrics, "ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
	}
	for _, m := range metrics {
		if !strings.Contains(body, `\"`+m+`\"`) {
			t.Errorf("dashboard lacks %s", m)
		}
	}
}

func TestMissingAssetNamesTheMakeTarget(t *testing.T) {
	s, err := settings.Load(func(k string) any { return existingBucket()[k] })
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())}), s, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "bin/lambda/ingest/bootstrap is missing") || !strings.Contains(err.Error(), "make lambdas") {
		t.Fatalf("error = %v", err)
	}
}

// A definition using any other substitution is refused, naming it.
func TestDefinitionWithOtherSubstitutionRefused(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{IngestAsset, ReindexAsset, filepath.Dir(ASLFile)} {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{IngestAsset + "/bootstrap", ReindexAsset + "/bootstrap"} {
		if err := os.WriteFile(filepath.Join(root, p), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	asl := `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${OtherArn}","End":true}}}`
	if err := os.WriteFile(filepath.Join(root, ASLFile), []byte(asl), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ := settings.Load(func(k string) any { return existingBucket()[k] })
	_, err := New(awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())}), s, root)
	if err == nil || !strings.Contains(err.Error(), "${OtherArn}") {
		t.Fatalf("error = %v", err)
	}
}

// A new bucket with S3 notifications: the CDK's notifications handler (managed: the bucket
// is the stack's own) has rights on that bucket only, and nag finds nothing unexplained.
func TestNewBucketWithS3Notifications(t *testing.T) {
	x := synth(t, map[string]any{"logstashUrl": "https://logstash.internal:8080", "reindex": "false"})
	noNagErrors(t, x)
	cfnLint(t, x)
	logBucket, _ := x.props(t, "AWS::S3::Bucket", "IngestLogBucket")
	_, n := x.props(t, "Custom::S3BucketNotifications", "IngestLogBucketNotifications")
	eq(t, "notified bucket", n["BucketName"], ref(logBucket))
	checkStatements(t, x, "BucketNotificationsHandler", []statement{
		{[]string{"s3:PutBucketNotification"}, []any{getAtt(logBucket, "Arn")}},
	})
	checkLeastPrivilege(t, x, nil)
	// ELB log delivery may write below the prefix, from this account only.
	var delivery []string
	for _, pol := range x.resources("AWS::S3::BucketPolicy") {
		pp := pol["Properties"].(map[string]any)
		if js(pp["Bucket"]) != js(ref(logBucket)) {
			continue
		}
		for _, st := range pp["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if st["Effect"] == "Allow" && st["Action"] == "s3:PutObject" {
				eq(t, "delivery resource", st["Resource"], join(getAtt(logBucket, "Arn"), "/AWSLogs/*"))
				eq(t, "delivery condition", st["Condition"], map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": ref("AWS::AccountId")}})
				delivery = append(delivery, st["Principal"].(map[string]any)["Service"].(string))
			}
		}
	}
	sort.Strings(delivery)
	eq(t, "log delivery principals", delivery, []string{"delivery.logs.amazonaws.com", "logdelivery.elasticloadbalancing.amazonaws.com"})
}

// writeCA writes a self-signed CA certificate (PEM) and returns its path.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "logferry test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkPackaged: the function's package holds bootstrap and the CA file as given.
func checkPackaged(t *testing.T, asset, name, src string) {
	t.Helper()
	root, err := FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "tmp", "infra", "assets", filepath.Base(asset))
	for file, from := range map[string]string{name: src, "bootstrap": filepath.Join(root, asset, "bootstrap")} {
		got, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("packaged %s differs from %s", file, from)
		}
	}
}
