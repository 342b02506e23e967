package config

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/logferry/logferry/shared/motoserver"
)

// motoURL is a real Secrets Manager and SSM protocol server (moto); "" under -short.
var motoURL string

func TestMain(m *testing.M) {
	u, stop := motoserver.ForTests(m)
	motoURL = u
	code := m.Run()
	stop()
	os.Exit(code)
}

func realSecrets(t *testing.T) (Secrets, *secretsmanager.Client, *ssm.Client) {
	t.Helper()
	if motoURL == "" {
		t.Skip("no moto server under -short")
	}
	cfg := motoserver.Config(motoURL)
	sm, ps := secretsmanager.NewFromConfig(cfg), ssm.NewFromConfig(cfg)
	return Secrets{SecretsManager: sm, SSM: ps}, sm, ps
}

func uniqueName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func putSecret(t *testing.T, sm *secretsmanager.Client, value string) (name, arn string) {
	t.Helper()
	name = uniqueName("logferry-logstash")
	out, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: &name, SecretString: &value})
	if err != nil {
		t.Fatal(err)
	}
	return name, aws.ToString(out.ARN)
}

func TestResolveSecretsManagerAndSSM(t *testing.T) {
	s, sm, ps := realSecrets(t)
	ctx := context.Background()
	_, arn := putSecret(t, sm, `{"username":"shipper","password":"s3cr3t"}`)
	c, err := s.Resolve(ctx, arn)
	if err != nil || c.Username != "shipper" || c.Password != "s3cr3t" {
		t.Fatalf("secrets manager by ARN: %+v %v", c, err)
	}
	if strings.Contains(c.String(), "s3cr3t") {
		t.Fatalf("String leaks the password: %s", c)
	}
	// A SecureString: only a request WithDecryption gets the JSON back.
	param := "/" + uniqueName("logferry") + "/logstash"
	if _, err := ps.PutParameter(ctx, &ssm.PutParameterInput{Name: &param, Value: aws.String(`{"api_key":"k3y"}`), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	c, err = s.Resolve(ctx, "ssm:"+param)
	if err != nil || c.APIKey != "k3y" {
		t.Fatalf("ssm SecureString: %+v %v", c, err)
	}
}

func TestResolveErrorsNeverQuoteTheValue(t *testing.T) {
	s, sm, _ := realSecrets(t)
	ctx := context.Background()
	name, _ := putSecret(t, sm, `password=hunter2`)
	_, err := s.Resolve(ctx, name)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), name) {
		t.Fatalf("err = %v", err)
	}
	name, _ = putSecret(t, sm, `{"username":"only"}`)
	if _, err := s.Resolve(ctx, name); err == nil {
		t.Fatal("a username without a password must be refused")
	}
	missing := uniqueName("logferry-missing")
	if _, err := s.Resolve(ctx, missing); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err = %v; want the service's error and the name", err)
	}
}
