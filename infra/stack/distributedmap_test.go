package stack

import (
	"regexp"
	"strings"
	"testing"
)

// Step Functions' rule for a state machine name: 1–80 of these characters.
var smName = regexp.MustCompile(`^[A-Za-z0-9+!@.()\-=_']{1,80}$`)

func TestStateMachineName(t *testing.T) {
	if got := StateMachineName("Logferry"); got != "Logferry-reindex" {
		t.Errorf("default stack: %q, want Logferry-reindex", got)
	}
	if got := StateMachineName("logferry-prod-eu-west-1"); got != "logferry-prod-eu-west-1-reindex" {
		t.Errorf("short stack name: %q", got)
	}
	// The longest name that fits as it is, and the first that does not.
	fits := strings.Repeat("a", 72)
	if got := StateMachineName(fits); got != fits+"-reindex" || len(got) != 80 {
		t.Errorf("72 characters: %q (%d)", got, len(got))
	}
	// CloudFormation allows 128 characters; two long names alike in their first 63 still
	// get two names, each the same on every synthesis.
	a := "A" + strings.Repeat("b", 100) + "-one"
	b := "A" + strings.Repeat("b", 100) + "-two"
	na, nb := StateMachineName(a), StateMachineName(b)
	for _, n := range []string{na, nb, StateMachineName(fits + "x"), StateMachineName("A" + strings.Repeat("-", 127))} {
		if !smName.MatchString(n) || !strings.HasSuffix(n, "-reindex") {
			t.Errorf("%q (%d characters) is not a valid state machine name ending in -reindex", n, len(n))
		}
	}
	if na == nb {
		t.Errorf("two stacks, one name: %q", na)
	}
	if StateMachineName(a) != na {
		t.Error("the name is not deterministic")
	}
	if !strings.HasPrefix(na, a[:63]+"-") {
		t.Errorf("%q does not keep the stack name's first 63 characters", na)
	}
}
