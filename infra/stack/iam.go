package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/logferry/logferry/infra/settings"
)

// allow adds one statement to role.
func allow(role awsiam.Role, actions []string, resources ...*string) {
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	}))
}

// functionRole is a Lambda execution role that may write to its own log group only (no
// AWS-managed policy, whose logs:* rights span every log group).
func functionRole(scope constructs.Construct, id string, logs awslogs.LogGroup) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	allow(role, []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logs.LogGroupArn())
	return role
}

// grantSecret lets role read one credentials reference (Secrets Manager or SSM).
func grantSecret(role awsiam.Role, s settings.Settings, ref string) {
	sec := settings.ParseSecret(ref)
	switch {
	case sec.SecretsManagerARN != "":
		allow(role, []string{"secretsmanager:GetSecretValue"}, jsii.String(sec.SecretsManagerARN))
	case sec.SSMParameterARN != "":
		allow(role, []string{"ssm:GetParameter"}, jsii.String(sec.SSMParameterARN))
	case sec.SSMParameter != "":
		arn := awscdk.Stack_Of(role).FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("ssm"),
			Resource:     jsii.String("parameter"),
			ResourceName: jsii.String(strings.TrimPrefix(sec.SSMParameter, "/")),
		})
		allow(role, []string{"ssm:GetParameter"}, arn)
	default:
		return
	}
	if s.SecretsKMSKey != "" {
		allow(role, []string{"kms:Decrypt"}, jsii.String(s.SecretsKMSKey))
	}
}

// placeInVPC puts fn in the configured subnets and security groups. The L1 property is set
// directly: the L2 needs an IVpc, which offline synthesis cannot look up.
func placeInVPC(fn awslambda.Function, role awsiam.Role, s settings.Settings) {
	if len(s.SubnetIDs) == 0 {
		return
	}
	cfn := fn.Node().DefaultChild().(awslambda.CfnFunction)
	cfn.AddPropertyOverride(jsii.String("VpcConfig"), map[string]any{
		"SubnetIds":        s.SubnetIDs,
		"SecurityGroupIds": s.SecurityGroupIDs,
	})
	// What AWSLambdaVPCAccessExecutionRole grants: Lambda manages the function's network
	// interfaces with the role's rights, and EC2 has no resource-level permissions for them.
	allow(role, []string{
		"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
		"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
	}, jsii.String("*"))
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("Lambda VPC placement: EC2 network-interface actions support no resource-level permissions (the same rights as AWSLambdaVPCAccessExecutionRole)."),
		AppliesTo: &[]any{jsii.String("Resource::*")},
	}}, jsii.Bool(true))
}

// suppress records why a cdk-nag rule does not apply to c (and its children).
func suppress(c constructs.IConstruct, rule, reason string, appliesTo ...any) {
	sup := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		sup.AppliesTo = &appliesTo
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{sup}, jsii.Bool(true))
}

// regex is a cdk-nag appliesTo pattern.
func regex(re string) any { return &cdknag.RegexAppliesTo{Regex: jsii.String(re)} }

// suppressCDKInternals covers the constructs the CDK adds itself: the singleton Lambda
// behind Custom::S3BucketNotifications (S3 delivery) exists only when used.
func suppressCDKInternals(st awscdk.Stack) {
	h := st.Node().TryFindChild(jsii.String("BucketNotificationsHandler050a0587b7544547bf325f094a3db834"))
	if h == nil {
		return
	}
	suppress(h, "AwsSolutions-IAM4", "The CDK's bucket-notifications custom resource uses AWSLambdaBasicExecutionRole for its own logs; its S3 rights are scoped to the log bucket (s3:GetBucketNotification/PutBucketNotification).",
		"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
}

// AddChecks runs cdk-nag's AwsSolutions pack over everything in app at synthesis. Its
// findings become error annotations; the app and the tests fail on any.
func AddChecks(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// retention maps the days settings accepts to the CDK's enum (the CDK's names, not numbers).
func retention(days int) awslogs.RetentionDays {
	return map[int]awslogs.RetentionDays{
		1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
		7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
		60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
		150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
		400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
		1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
		2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
		3653: awslogs.RetentionDays_TEN_YEARS,
	}[days]
}
