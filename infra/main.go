// Command infra is logferry's CDK app (cdk.json runs it). It reads the context into
// settings, adds the stack, checks it with cdk-nag's AwsSolutions pack and synthesizes.
// Unlike a plain CDK app it exits 1 when synthesis reports an error, so a cdk-nag finding
// fails the run even when the binary is started directly.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/logferry/logferry/infra/settings"
	"github.com/logferry/logferry/infra/stack"
)

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "logferry infra:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	s, err := settings.Load(func(k string) any { return app.Node().TryGetContext(jsii.String(k)) })
	if err != nil {
		return err
	}
	warnUnknown(app)
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := stack.FindRoot(wd)
	if err != nil {
		return err
	}
	if _, err := stack.New(app, s, root); err != nil {
		return err
	}
	stack.AddChecks(app)
	asm := app.Synth(nil)
	var errs []string
	for _, st := range *asm.Stacks() {
		for _, m := range *st.Messages() {
			if m.Level == cxapi.SynthesisMessageLevel_ERROR {
				errs = append(errs, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d synthesis error(s):\n  %s", len(errs), strings.Join(errs, "\n  "))
	}
	return nil
}

// warnUnknown names context keys that look like ours but are not (a misspelt key would
// otherwise silently fall back to its default). CDK's own keys contain ":" or start with "@".
func warnUnknown(app awscdk.App) {
	all, _ := app.Node().GetAllContext(nil).(map[string]any)
	known := map[string]bool{}
	for _, k := range settings.Keys {
		known[k] = true
	}
	var unknown []string
	for k := range all {
		if !known[k] && !strings.ContainsAny(k, ":@/") && !strings.HasPrefix(k, "aws-cdk") {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		fmt.Fprintf(os.Stderr, "logferry infra: warning: context key %q is not one logferry reads (README: Deploy with `cdk deploy`)\n", k)
	}
}
