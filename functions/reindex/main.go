// Command reindex is the Lambda function behind the reindex state machine: each
// invocation runs one step of shared/reindex (see functions/reindex/handler).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/logferry/logferry/functions/reindex/handler"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	h, err := handler.NewWithOptions(context.Background(), os.Getenv, handler.Options{Logger: log})
	if err != nil {
		log.Error("reindex: configuration", "error", err)
		os.Exit(1)
	}
	lambda.Start(h.Invoke)
}
