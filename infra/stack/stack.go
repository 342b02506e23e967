// Package stack holds logferry's CloudFormation stack: the ingest path (log bucket → queue →
// ingest function → Logstash), the reindex state machine, and the alarms and dashboard that
// watch both. It is built from checked settings (package settings); every IAM statement is
// written here by hand, scoped to the resources it names.
package stack

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/logferry/logferry/infra/settings"
)

// Paths inside the repository the stack reads.
const (
	IngestAsset  = "bin/lambda/ingest"  // `make lambdas`
	ReindexAsset = "bin/lambda/reindex" // `make lambdas`
	ASLFile      = "infra/statemachine/reindex.asl.json"
)

// Logferry is the synthesized stack and the parts tests look at.
type Logferry struct {
	Stack   awscdk.Stack
	Ingest  *Ingest
	Reindex *Reindex // nil when settings.Reindex is false
	Topic   awssns.Topic
}

// New adds the logferry stack to app. root is the repository root (assets and the state
// machine definition are read from it); a missing asset is an error naming the make target.
func New(app constructs.Construct, s settings.Settings, root string) (*Logferry, error) {
	need := []string{filepath.Join(IngestAsset, "bootstrap")}
	if s.Reindex {
		need = append(need, filepath.Join(ReindexAsset, "bootstrap"), ASLFile)
	}
	for _, p := range need {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			return nil, fmt.Errorf("%s is missing under %s (run `make lambdas` from the repository root): %w", p, root, err)
		}
	}
	st := awscdk.NewStack(app, jsii.String(s.StackName), &awscdk.StackProps{
		Description: jsii.String("logferry: ELB access logs from S3 to Logstash, and safe Elasticsearch reindexing"),
	})
	l := &Logferry{Stack: st}

	// One topic for every alarm. CloudWatch cannot publish to a topic encrypted with the
	// AWS-managed SNS key, so the topic is unencrypted; alarm messages carry no log data.
	// Publishers must use TLS (AwsSolutions-SNS3).
	l.Topic = awssns.NewTopic(st, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("logferry alarms"),
		EnforceSSL:  jsii.Bool(true),
	})
	if s.AlarmEmail != "" {
		l.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(s.AlarmEmail), nil))
	}

	in, err := newIngest(st, s, root)
	if err != nil {
		return nil, err
	}
	l.Ingest = in
	if s.Reindex {
		r, err := newReindex(st, s, root)
		if err != nil {
			return nil, err
		}
		l.Reindex = r
	}
	newAlarms(st, s, l)
	suppressCDKInternals(st)
	return l, nil
}

// FindRoot returns the repository root: the nearest directory at or above dir holding
// cdk.json. The app runs from the root (cdk.json) and the tests from infra/stack.
func FindRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "cdk.json")); err == nil {
			return d, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", fmt.Errorf("no cdk.json in %s or any directory above it", dir)
		}
		d = up
	}
}
