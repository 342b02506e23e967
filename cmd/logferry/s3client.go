package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// newS3Client builds an S3 client from the usual AWS environment (profile, region,
// credentials, AWS_ENDPOINT_URL_S3), read through e.Getenv so tests can point it at the
// in-process server. LOGFERRY_S3_PATH_STYLE=1 selects path-style addressing, which
// S3-compatible endpoints without bucket subdomains need.
func newS3Client(ctx context.Context, e *env) (*s3.Client, error) {
	cfg, err := loadAWSConfig(ctx, e)
	if err != nil {
		return nil, err
	}
	endpoint := e.Getenv("AWS_ENDPOINT_URL_S3")
	pathStyle := e.Getenv("LOGFERRY_S3_PATH_STYLE")
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			// S3-compatible servers rarely implement the SDK's default request checksums.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
		o.UsePathStyle = pathStyle == "1" || pathStyle == "true"
	}), nil
}
