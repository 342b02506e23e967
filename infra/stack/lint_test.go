package stack

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CfnLintArgs are the arguments every cfn-lint run here takes (the Makefile's synth too).
// W3005 (a DependsOn that a GetAtt already implies) is ignored: the CDK makes every
// function depend on its role and the role's policy, and the policy dependency matters
// (the function must not start before its rights exist); the redundant one is harmless.
var CfnLintArgs = []string{"--ignore-checks", "W3005"}

// cfnLint runs cfn-lint (PyPI; `make cfn-lint` installs it under tmp/) on the template.
// CFN_LINT names another binary.
func cfnLint(t *testing.T, x synthesized) {
	t.Helper()
	bin := os.Getenv("CFN_LINT")
	if bin == "" {
		root, err := FindRoot(".")
		if err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(root, "tmp", "cfn-lint", "bin", "cfn-lint")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("cfn-lint not found at %s (run `make cfn-lint` from the repository root): %v", bin, err)
	}
	b, err := json.MarshalIndent(x.raw, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), x.s.StackName+".template.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, append(CfnLintArgs, "--format", "parseable", "--", path)...).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint %s: %v\n%s", path, err, out)
	}
}
