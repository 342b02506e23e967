package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/logferry/logferry/shared/indextemplate"
)

func init() {
	register(&command{
		name:  "template",
		usage: "[--name " + indextemplate.DefaultName + "] [--pattern " + indextemplate.DefaultPattern + "[,…]]",
		summary: "print the composable index template that types logferry's documents as the Elastic AWS integration does " +
			"(the body of PUT _index_template/NAME, or Logstash's template file with template_api => \"composable\")",
		run: runTemplate,
	})
}

func runTemplate(ctx context.Context, e *env, args []string) error {
	c := commands["template"]
	fs := newFlagSet(e, c)
	name := fs.String("name", indextemplate.DefaultName, "template name (recorded in _meta; use it in the PUT URL)")
	pattern := fs.String("pattern", indextemplate.DefaultPattern, "index pattern(s) the template applies to, comma-separated")
	priority := fs.Int("priority", indextemplate.DefaultPriority, "priority among composable templates matching the same index")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *name == "" || strings.ContainsAny(*name, " /\\\"*?,#") || *name != strings.ToLower(*name) {
		return usagef("--name %q: want a lower-case template name without spaces, / \\ \" * ? , #", *name)
	}
	if *priority < 0 {
		return usagef("--priority %d: must not be negative", *priority)
	}
	b, err := indextemplate.JSON(indextemplate.Options{Name: *name, Patterns: strings.Split(*pattern, ","), Priority: *priority})
	if err != nil {
		return usagef("--pattern: %v", err)
	}
	if _, err := fmt.Fprintf(e.Stdout, "%s\n", b); err != nil {
		return err
	}
	if e.Terminal {
		fmt.Fprintf(e.Stderr, "install: logferry template --name %s | curl -XPUT \"$ES_URL/_index_template/%s\" -H 'Content-Type: application/json' -d @-\n", *name, *name)
	}
	return nil
}
