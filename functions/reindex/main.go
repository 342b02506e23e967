// Command reindex is the Lambda function behind the reindex state machine: each
// invocation runs one step of shared/reindex. It only starts the Lambda runtime: the
// event's dispatch and the configuration live in shared/reindexstep, so that tests and
// `logferry reindex`/`logferry invoke` run exactly this code.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/logferry/logferry/shared/reindexstep"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	h, err := reindexstep.NewWithOptions(context.Background(), os.Getenv, reindexstep.Options{Logger: log})
	if err != nil {
		log.Error("reindex: configuration", "error", err)
		os.Exit(1)
	}
	lambda.Start(h.Invoke)
}
