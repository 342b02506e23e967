package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
)

// The definition's Map runs in DISTRIBUTED mode: each index is a child execution of the
// state machine itself, started, watched and (when the Map fails or the execution is
// stopped) stopped with the state machine's own role. Its policy must therefore name the
// state machine, and a Ref to it from the role's policy is a circular dependency (the state
// machine depends on its role and that policy). So the state machine gets a fixed name
// and its ARNs are formatted from the name, as the CDK's own fromStateMachineName does.

const (
	smSuffix     = "-reindex"
	smNameMaxLen = 80 // Step Functions' limit on a state machine name
)

// StateMachineName is the reindex state machine's name in the stack named stackName:
// "<stack>-reindex" (so "Logferry-reindex" by default), unique per account and Region as
// stack names are. A stack name too long for the 80 characters Step Functions allows is
// cut and given 8 hex digits of its SHA-256, so two long stack names never share one.
// Stack names are letters, digits and hyphens, all allowed in the state machine's name.
func StateMachineName(stackName string) string {
	if len(stackName)+len(smSuffix) <= smNameMaxLen {
		return stackName + smSuffix
	}
	sum := sha256.Sum256([]byte(stackName))
	keep := smNameMaxLen - len(smSuffix) - 1 - 8
	return stackName[:keep] + "-" + hex.EncodeToString(sum[:4]) + smSuffix
}

// statesARN formats an ARN of the stack's partition, Region and account in Step
// Functions' colon form (arn:…:states:…:<resource>:<name>).
func statesARN(scope awscdk.Stack, resource, name string) *string {
	return scope.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("states"),
		Resource:     jsii.String(resource),
		ResourceName: jsii.String(name),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// grantDistributedMap gives the state machine named name what AWS documents a Distributed
// Map needs ("IAM policies for using Distributed Map states"): StartExecution on itself,
// DescribeExecution and StopExecution on its child executions, whose ARNs are
// execution:<name>/<map run label>:<id>. Nothing on the parent's own executions
// (execution:<name>:<id>), which the role never touches, and no map-run or redrive
// rights: Step Functions runs the map run itself, and a failed reindex is run again as a
// new execution (each index was rolled back), never redriven.
func grantDistributedMap(sm awsstepfunctions.StateMachine, name string) {
	st := awscdk.Stack_Of(sm)
	sm.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("states:StartExecution"),
		Resources: &[]*string{statesARN(st, "stateMachine", name)},
	}))
	sm.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("states:DescribeExecution", "states:StopExecution"),
		Resources: &[]*string{statesARN(st, "execution", name+"/*")},
	}))
	suppress(sm, "AwsSolutions-IAM5",
		"A Distributed Map's child executions are named by Step Functions at run time (<map run label>:<id>); the wildcard covers only this state machine's child executions, the narrowest form AWS documents.",
		fmt.Sprintf("Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:%s/*", name))
}
