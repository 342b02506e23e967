package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNoLambdaPackage holds the project's rule that the CLI never imports a Lambda
// package: everything the CLI shares with the functions lives in shared/. It asks the go
// command for every package the CLI and its tests depend on, directly or not, and fails
// on any under functions/.
func TestImportsNoLambdaPackage(t *testing.T) {
	const module = "github.com/logferry/logferry/"
	out, err := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}", module+"cmd/logferry").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	deps := strings.Fields(string(out))
	var shared int
	for _, d := range deps {
		switch {
		case strings.HasPrefix(d, module+"functions/"):
			t.Errorf("cmd/logferry depends on the Lambda package %s: move what it needs into shared/", d)
		case strings.HasPrefix(d, module+"shared/"):
			shared++
		}
	}
	// The list must be the real one: the CLI runs the ingest and reindex functions' code.
	for _, want := range []string{module + "shared/ingestevent", module + "shared/reindexstep"} {
		if !strings.Contains("\n"+string(out), "\n"+want+"\n") {
			t.Errorf("go list -deps does not list %s (%d packages, %d of shared/): not the CLI's dependencies?", want, len(deps), shared)
		}
	}
}
