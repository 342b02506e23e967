package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/logferry/logferry/infra/settings"
)

// Reindex is the reindex function and the state machine that drives it.
type Reindex struct {
	Function     awslambda.Function
	Role         awsiam.Role
	StateMachine awsstepfunctions.StateMachine
}

// FunctionArnVar is the one substitution the ASL file may use.
const FunctionArnVar = "ReindexFunctionArn"

var substitution = regexp.MustCompile(`\$\{([^}]*)\}`)

func newReindex(scope constructs.Construct, s settings.Settings, root string) (*Reindex, error) {
	asl, err := os.ReadFile(filepath.Join(root, ASLFile))
	if err != nil {
		return nil, fmt.Errorf("state machine definition: %w", err)
	}
	for _, m := range substitution.FindAllStringSubmatch(string(asl), -1) {
		if m[1] != FunctionArnVar {
			return nil, fmt.Errorf("%s uses ${%s}; the only substitution is ${%s}", ASLFile, m[1], FunctionArnVar)
		}
	}
	c := constructs.NewConstruct(scope, jsii.String("Reindex"))
	r := &Reindex{}

	env := map[string]*string{
		"ES_URL":               jsii.String(s.ElasticsearchURL),
		"REINDEX_POLL_SECONDS": jsii.String(strconv.Itoa(s.ReindexPollSec)),
	}
	if s.ESSecret != "" {
		env["ES_SECRET_ARN"] = jsii.String(s.ESSecret)
	}
	spec := fnSpec{
		asset:       ReindexAsset,
		description: "logferry reindex: one step of a verified Elasticsearch reindex",
		memoryMiB:   256,
		// Rollback waits up to 30 s for a cancelled copy; the state machine's Tasks time out
		// at 150 s, above this.
		timeoutSec: float64(s.ReindexTimeoutSec),
		env:        env,
	}
	if s.ESCACert != "" {
		spec.extra = map[string]string{"es-ca.pem": s.ESCACert}
		env["ES_CA_CERT"] = jsii.String(TaskRoot + "/es-ca.pem")
	}
	if r.Function, r.Role, err = goFunction(c, s, root, spec); err != nil {
		return nil, err
	}
	grantSecret(r.Role, s, s.ESSecret)

	smLogs := awslogs.NewLogGroup(c, jsii.String("StateMachineLogs"), &awslogs.LogGroupProps{
		Retention:     retention(s.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	name := StateMachineName(s.StackName)
	r.StateMachine = awsstepfunctions.NewStateMachine(c, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(name),
		Comment:                 jsii.String("logferry reindex: copy, verify, then swap; rollback on any failure"),
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(string(asl))),
		DefinitionSubstitutions: &map[string]*string{FunctionArnVar: r.Function.FunctionArn()},
		Logs: &awsstepfunctions.LogOptions{
			Destination:          smLogs,
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(true), // the State: names, ids and counts, never documents or credentials
		},
		TracingEnabled: jsii.Bool(s.StateMachineXRay),
	})
	// Exactly the one function: no versions, aliases or others.
	r.StateMachine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{r.Function.FunctionArn()},
	}))
	grantDistributedMap(r.StateMachine, name)
	suppress(r.StateMachine, "AwsSolutions-IAM5",
		"CloudWatch Logs log delivery (logs:CreateLogDelivery and the rest) and X-Ray segment uploads support no resource-level permissions; the CDK grants them on * as the Step Functions documentation requires.",
		jsii.String("Resource::*"))
	if !s.StateMachineXRay {
		suppress(r.StateMachine, "AwsSolutions-SF2", "X-Ray tracing is optional (context stateMachineTracing); every execution is logged at level ALL to a log group with retention.")
	}
	awscdk.NewCfnOutput(c, jsii.String("StateMachineArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("The reindex state machine: start executions here, or give it to `logferry reindex --state-machine`"),
		Value:       r.StateMachine.StateMachineArn(),
	})
	return r, nil
}
