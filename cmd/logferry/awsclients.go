package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// newSQSClient builds an SQS client from the usual AWS environment, read through e.Getenv
// like newS3Client; AWS_ENDPOINT_URL_SQS (or AWS_ENDPOINT_URL) points it at an
// SQS-compatible server such as moto.
func newSQSClient(ctx context.Context, e *env) (*sqs.Client, error) {
	cfg, err := loadAWSConfig(ctx, e)
	if err != nil {
		return nil, err
	}
	endpoint := e.Getenv("AWS_ENDPOINT_URL_SQS")
	if endpoint == "" {
		endpoint = e.Getenv("AWS_ENDPOINT_URL")
	}
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// loadAWSConfig reads region, profile and static credentials through e.Getenv, so tests
// can set them without touching the process environment.
func loadAWSConfig(ctx context.Context, e *env) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if r := e.Getenv("AWS_REGION"); r != "" {
		opts = append(opts, awsconfig.WithRegion(r))
	}
	if p := e.Getenv("AWS_PROFILE"); p != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(p))
	}
	if id, secret := e.Getenv("AWS_ACCESS_KEY_ID"), e.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: e.Getenv("AWS_SESSION_TOKEN"), Source: "environment"}, nil
		})))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, nil
}
