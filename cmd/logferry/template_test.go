package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/logferry/logferry/shared/indextemplate"
)

func TestTemplateCommand(t *testing.T) {
	e, out, errb := testEnv(nil)
	if code := run(context.Background(), e, []string{"template", "--name", "elb", "--pattern", "elb-logs-*,alb-*"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	want, _ := indextemplate.Template(indextemplate.Options{Name: "elb", Patterns: []string{"elb-logs-*", "alb-*"}})
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if string(wb) != string(gb) {
		t.Errorf("printed template differs from indextemplate.Template:\n got  %.300s\n want %.300s", gb, wb)
	}

	for _, args := range [][]string{
		{"template", "--name", "Bad Name"},
		{"template", "--pattern", "elb logs"},
		{"template", "extra"},
	} {
		e, out, errb := testEnv(nil)
		if code := run(context.Background(), e, args); code != 2 || out.Len() != 0 {
			t.Errorf("%q: exit %d, %d bytes on stdout", args, code, out.Len())
		}
		if !strings.Contains(errb.String(), "usage: logferry template") {
			t.Errorf("%q: no usage: %s", args, errb)
		}
	}
}
