package stack

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3notifications"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/logferry/logferry/infra/settings"
)

// Ingest is the log bucket → queue → function path.
type Ingest struct {
	LogBucket        awss3.IBucket
	DeadLetterBucket awss3.IBucket
	Queue            awssqs.Queue
	DLQ              awssqs.Queue
	Function         awslambda.Function
	Role             awsiam.Role
}

func newIngest(scope constructs.Construct, s settings.Settings, root string) (*Ingest, error) {
	c := constructs.NewConstruct(scope, jsii.String("Ingest"))
	in := &Ingest{}

	in.LogBucket = logBucket(c, s)
	if s.DeadLetterBucket != "" {
		in.DeadLetterBucket = awss3.Bucket_FromBucketName(c, jsii.String("DeadLetterBucket"), jsii.String(s.DeadLetterBucket))
	} else {
		in.DeadLetterBucket = newPrivateBucket(c, "DeadLetterBucket", false, nil)
	}

	timeout := float64(s.IngestTimeoutSec)
	// Messages that fail maxReceiveCount times wait here for a redrive (README: replay).
	in.DLQ = awssqs.NewQueue(c, jsii.String("DeadLetterQueue"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
	})
	in.Queue = awssqs.NewQueue(c, jsii.String("Queue"), &awssqs.QueueProps{
		// Lambda's advice for SQS event sources: at least six times the function timeout,
		// so a message is not redelivered while an invocation still works on it.
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * timeout)),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(14)),
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: in.DLQ, MaxReceiveCount: jsii.Number(float64(s.MaxReceiveCount))},
	})
	deliver(c, s, in)

	env := map[string]*string{
		"LOGSTASH_URL":           jsii.String(s.LogstashURL),
		"DEAD_LETTER_URI":        jsii.String("s3://" + *in.DeadLetterBucket.BucketName() + "/" + s.DeadLetterPrefix),
		"CONTINUATION_QUEUE_URL": in.Queue.QueueUrl(),
		"DEADLINE_MARGIN":        jsii.String(fmt.Sprintf("%ds", s.DeadlineMarginSec)),
		"METRICS_NAMESPACE":      jsii.String(s.MetricsNamespace),
	}
	if s.LogstashSecret != "" {
		env["LOGSTASH_CREDENTIALS"] = jsii.String(s.LogstashSecret)
	}
	if s.MirrorURL != "" {
		env["LOGSTASH_MIRROR_URL"] = jsii.String(s.MirrorURL)
	}
	if s.MirrorSecret != "" {
		env["LOGSTASH_MIRROR_CREDENTIALS"] = jsii.String(s.MirrorSecret)
	}
	spec := fnSpec{
		asset:       IngestAsset,
		description: "logferry ingest: ELB access logs from S3 to Logstash",
		memoryMiB:   float64(s.IngestMemoryMiB),
		timeoutSec:  timeout,
		env:         env,
	}
	if s.LogstashCACert != "" {
		spec.extra = map[string]string{"logstash-ca.pem": s.LogstashCACert}
		env["LOGSTASH_CA_CERT"] = jsii.String(TaskRoot + "/logstash-ca.pem")
	}
	var err error
	if in.Function, in.Role, err = goFunction(c, s, root, spec); err != nil {
		return nil, err
	}

	// Read only the log prefix; decrypt only with the given key.
	allow(in.Role, []string{"s3:GetObject"}, jsii.String(*in.LogBucket.BucketArn()+"/"+s.LogPrefix+"*"))
	if s.LogBucketKMSKey != "" {
		allow(in.Role, []string{"kms:Decrypt"}, jsii.String(s.LogBucketKMSKey))
	}
	// Write only the dead-letter prefix (S3DeadLetter makes single PutObject calls).
	allow(in.Role, []string{"s3:PutObject"}, jsii.String(*in.DeadLetterBucket.BucketArn()+"/"+s.DeadLetterPrefix+"*"))
	if s.DeadLetterKMSKey != "" {
		allow(in.Role, []string{"kms:GenerateDataKey"}, jsii.String(s.DeadLetterKMSKey))
	}
	// Continuations go back to the queue the record came from, found by GetQueueUrl.
	allow(in.Role, []string{"sqs:SendMessage", "sqs:GetQueueUrl"}, in.Queue.QueueArn())
	grantSecret(in.Role, s, s.LogstashSecret)
	grantSecret(in.Role, s, s.MirrorSecret)
	suppress(in.Role, "AwsSolutions-IAM5",
		"Object rights are limited to the ELB log prefix (read) and the dead-letter prefix (write); the wildcard stands for the object keys below each prefix.",
		regex(`/^Resource::.*\/\*$/g`))

	in.Function.AddEventSource(awslambdaeventsources.NewSqsEventSource(in.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(float64(s.BatchSize)),
		MaxConcurrency:          jsii.Number(float64(s.MaxConcurrency)),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	return in, nil
}

// logBucket imports the named bucket or creates one the load balancers can log to.
func logBucket(c constructs.Construct, s settings.Settings) awss3.IBucket {
	if s.LogBucket != "" {
		return awss3.Bucket_FromBucketName(c, jsii.String("LogBucket"), jsii.String(s.LogBucket))
	}
	b := newPrivateBucket(c, "LogBucket", s.Delivery == settings.DeliveryEventBridge, &awss3.LifecycleRule{
		Id:         jsii.String("expire-logs"),
		Expiration: awscdk.Duration_Days(jsii.Number(float64(s.LogExpirationDays))),
	})
	// ELB log delivery (Regions since August 2022 use this service principal; older ones
	// also accept it for ALB/NLB through log delivery) and NLB's vended-logs delivery.
	acct := awscdk.Stack_Of(c).Account()
	logs := jsii.String(*b.BucketArn() + "/" + s.LogPrefix + "*")
	for _, p := range []string{"logdelivery.elasticloadbalancing.amazonaws.com", "delivery.logs.amazonaws.com"} {
		b.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(p), nil)},
			Actions:    jsii.Strings("s3:PutObject"),
			Resources:  &[]*string{logs},
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": acct}},
		}))
	}
	b.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("delivery.logs.amazonaws.com"), nil)},
		Actions:    jsii.Strings("s3:GetBucketAcl"),
		Resources:  &[]*string{b.BucketArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": acct}},
	}))
	return b
}

// newPrivateBucket is encrypted (SSE-S3), TLS-only, never public, and kept when the stack
// is deleted (it holds logs or dead letters).
func newPrivateBucket(c constructs.Construct, id string, eventBridge bool, rule *awss3.LifecycleRule) awss3.Bucket {
	rules := []*awss3.LifecycleRule{{
		Id:                                  jsii.String("abort-incomplete-uploads"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
	}}
	if rule != nil {
		rules = append(rules, rule)
	}
	b := awss3.NewBucket(c, jsii.String(id), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules:    &rules,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	if eventBridge {
		// The native property: the L2's EventBridgeEnabled would add the CDK's
		// notifications custom resource (a Lambda function) for the same effect.
		b.Node().DefaultChild().(awss3.CfnBucket).AddPropertyOverride(
			jsii.String("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled"), true)
	}
	suppress(b, "AwsSolutions-S1", "Server access logs of this bucket would need yet another bucket; object-level access is recorded by CloudTrail data events where the account enables them.")
	return b
}

// deliver connects the log bucket to the queue for the prefix and suffixes.
func deliver(c constructs.Construct, s settings.Settings, in *Ingest) {
	if s.Delivery == settings.DeliveryS3 {
		// On an imported bucket the CDK's notifications resource runs unmanaged: it reads
		// the bucket's configuration, keeps every notification it did not create and adds
		// these; on delete it removes only its own (README "Delivery").
		for _, sfx := range s.LogSuffixes {
			in.LogBucket.AddEventNotification(awss3.EventType_OBJECT_CREATED,
				awss3notifications.NewSqsDestination(in.Queue),
				&awss3.NotificationKeyFilter{Prefix: jsii.String(s.LogPrefix), Suffix: jsii.String(sfx)})
		}
		return
	}
	// EventBridge: the bucket must send events to EventBridge (a new bucket does; an
	// existing one is switched on once by its owner, see README). Nothing on the bucket
	// is changed by the stack.
	keys := make([]any, 0, len(s.LogSuffixes))
	for _, sfx := range s.LogSuffixes {
		keys = append(keys, map[string]any{"wildcard": escapeWildcard(s.LogPrefix) + "*" + escapeWildcard(sfx)})
	}
	awsevents.NewRule(c, jsii.String("ObjectCreated"), &awsevents.RuleProps{
		Description: jsii.String("logferry: new ELB log objects to the ingest queue"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.s3"),
			DetailType: jsii.Strings("Object Created"),
			Detail: &map[string]any{
				"bucket": map[string]any{"name": []any{in.LogBucket.BucketName()}},
				"object": map[string]any{"key": keys},
			},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSqsQueue(in.Queue, nil)},
	})
}

// escapeWildcard escapes what an EventBridge wildcard pattern treats specially.
func escapeWildcard(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`).Replace(s)
}
