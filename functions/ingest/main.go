// Command ingest is the Lambda function that ships ELB access logs from S3 to Logstash.
// It only starts the Lambda runtime: all of its behaviour lives in shared/ingestevent, so
// that tests and `logferry invoke` run exactly this code.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/logferry/logferry/shared/ingestevent"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(log)
	h, err := ingestevent.New(context.Background(), os.Getenv)
	if err != nil {
		log.Error("ingest: configuration", "error", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
