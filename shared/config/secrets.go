package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Credentials authenticate to Logstash (basic auth) or to a proxy in front of it (API key).
// Its String method never prints the secret parts.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	APIKey   string `json:"api_key"`
}

func (c Credentials) String() string {
	switch {
	case c.APIKey != "":
		return "api_key(redacted)"
	case c.Username != "":
		return "basic(" + c.Username + ", redacted)"
	}
	return "none"
}

// SecretsManagerAPI is the part of the Secrets Manager client used here.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SSMAPI is the part of the SSM client used here.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// Secrets resolves credential references. A nil client is only an error when a reference
// needs it.
type Secrets struct {
	SecretsManager SecretsManagerAPI
	SSM            SSMAPI
}

// IsSSM reports whether ref names an SSM parameter rather than a Secrets Manager secret.
func IsSSM(ref string) bool {
	return strings.HasPrefix(ref, "ssm:") || strings.HasPrefix(ref, "arn:aws:ssm:") ||
		strings.Contains(ref, ":ssm:") // other partitions: arn:aws-cn:ssm:…
}

// Resolve fetches and decodes the credentials ref points to. The value is JSON
// {"username","password"} or {"api_key"}; errors name the reference, never the value.
func (s Secrets) Resolve(ctx context.Context, ref string) (Credentials, error) {
	var raw string
	if IsSSM(ref) {
		if s.SSM == nil {
			return Credentials{}, fmt.Errorf("credentials %s: no SSM client", ref)
		}
		name := strings.TrimPrefix(ref, "ssm:")
		out, err := s.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: &name, WithDecryption: ptr(true)})
		if err != nil {
			return Credentials{}, fmt.Errorf("credentials: get SSM parameter %s: %w", name, err)
		}
		if out.Parameter == nil || out.Parameter.Value == nil {
			return Credentials{}, fmt.Errorf("credentials: SSM parameter %s has no value", name)
		}
		raw = *out.Parameter.Value
	} else {
		if s.SecretsManager == nil {
			return Credentials{}, fmt.Errorf("credentials %s: no Secrets Manager client", ref)
		}
		out, err := s.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &ref})
		if err != nil {
			return Credentials{}, fmt.Errorf("credentials: get secret %s: %w", ref, err)
		}
		if out.SecretString == nil {
			return Credentials{}, fmt.Errorf("credentials: secret %s has no SecretString (binary secrets are not supported)", ref)
		}
		raw = *out.SecretString
	}
	var c Credentials
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		// Deliberately not wrapping err: json errors can quote the secret's bytes.
		return Credentials{}, fmt.Errorf("credentials %s: value is not JSON like {\"username\":…,\"password\":…} or {\"api_key\":…}", ref)
	}
	if c.APIKey == "" && (c.Username == "" || c.Password == "") {
		return Credentials{}, errors.New("credentials " + ref + `: need "username" and "password", or "api_key"`)
	}
	return c, nil
}

func ptr[T any](v T) *T { return &v }
