package stack

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/logferry/logferry/infra/settings"
)

// TaskRoot is where Lambda unpacks a function's package (LAMBDA_TASK_ROOT).
const TaskRoot = "/var/task"

// fnSpec is what differs between logferry's two functions.
type fnSpec struct {
	asset       string // directory holding bootstrap, under the repository root
	description string
	memoryMiB   float64
	timeoutSec  float64
	env         map[string]*string
	// extra files packaged beside bootstrap: name in the package → local path (CA bundles).
	extra map[string]string
}

// goFunction adds a Go function as `make lambdas` builds it (arm64, provided.al2023,
// bootstrap) under c as "Function", with its own log group and a role that can write only
// to it, placed in the VPC when one is configured.
func goFunction(c constructs.Construct, s settings.Settings, root string, spec fnSpec) (awslambda.Function, awsiam.Role, error) {
	code := filepath.Join(root, spec.asset)
	if len(spec.extra) > 0 {
		var err error
		if code, err = stage(root, spec); err != nil {
			return nil, nil, err
		}
	}
	logs := awslogs.NewLogGroup(c, jsii.String("FunctionLogs"), &awslogs.LogGroupProps{
		Retention:     retention(s.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := functionRole(c, "FunctionRole", logs)
	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String(spec.description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(code), nil),
		MemorySize:   jsii.Number(spec.memoryMiB),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(spec.timeoutSec)),
		Environment:  &spec.env,
		Role:         role,
		LogGroup:     logs,
	})
	placeInVPC(fn, role, s)
	return fn, role, nil
}

// stage copies bootstrap and the extra files into tmp/infra/assets/<asset name>, the
// directory the function is packaged from (the same content gives the same asset hash).
func stage(root string, spec fnSpec) (string, error) {
	dir := filepath.Join(root, "tmp", "infra", "assets", filepath.Base(spec.asset))
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	files := map[string]string{"bootstrap": filepath.Join(root, spec.asset, "bootstrap")}
	for name, src := range spec.extra {
		files[name] = src
	}
	for name, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			return "", fmt.Errorf("packaging %s for %s: %w", name, spec.asset, err)
		}
		mode := os.FileMode(0o644)
		if name == "bootstrap" {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, mode); err != nil {
			return "", err
		}
	}
	return dir, nil
}
