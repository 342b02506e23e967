package demo

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// The demo's queue and notification configuration is the CDK stack's (infra/, its own
// module, which this one never imports): the defaults DefaultStack mirrors are read from
// the stack's source, so a change there fails here until the demo follows.
func TestStackMirrorsTheCDKDefaults(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile("../../" + p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	settings, ingest := read("infra/settings/settings.go"), read("infra/stack/ingest.go")
	st := DefaultStack(2)
	quoted := func(ss []string) string { return `[]string{"` + strings.Join(ss, `", "`) + `"}` }
	for _, want := range []string{
		fmt.Sprintf(`r.str("logPrefix", %q)`, st.LogPrefix),
		fmt.Sprintf(`r.list("logSuffixes", %s)`, quoted(st.LogSuffixes)),
		fmt.Sprintf(`r.int("ingestTimeoutSeconds", %d,`, st.FunctionTimeoutSec),
		fmt.Sprintf(`r.int("ingestBatchSize", %d,`, st.BatchSize),
		fmt.Sprintf(`r.int("maxReceiveCount", %d,`, st.MaxReceiveCount),
		fmt.Sprintf(`r.int("deadlineMarginSeconds", %d,`, 20),
		fmt.Sprintf(`r.str("deadLetterPrefix", %q)`, st.DeadLetterPrefix),
	} {
		if !strings.Contains(settings, want) {
			t.Errorf("infra/settings/settings.go no longer has %s: update DefaultStack", want)
		}
	}
	for _, want := range []string{
		"VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * timeout))",
		"MaxReceiveCount: jsii.Number(float64(s.MaxReceiveCount))",
		"awss3.EventType_OBJECT_CREATED",
		"Prefix: jsii.String(s.LogPrefix), Suffix: jsii.String(sfx)",
		"ReportBatchItemFailures: jsii.Bool(true)",
	} {
		if !strings.Contains(ingest, want) {
			t.Errorf("infra/stack/ingest.go no longer has %q: check what the demo's stack (aws.go) mirrors", want)
		}
	}
}
