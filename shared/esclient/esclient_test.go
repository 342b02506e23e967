package esclient

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/elastic/go-elasticsearch/v8"

	"github.com/logferry/logferry/shared/endpoint"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

type fakeSecrets struct {
	value *string
	err   error
	asked []string
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.asked = append(f.asked, *in.SecretId)
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: f.value}, nil
}

func str(s string) *string { return &s }

func TestConfig(t *testing.T) {
	ctx := context.Background()
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:es-AbCdEf"
	cases := []struct {
		name    string
		env     map[string]string
		secret  *fakeSecrets
		wantErr string // "" = success
		check   func(t *testing.T, cfg elasticsearch.Config, auth Auth)
	}{
		{name: "no url", env: map[string]string{}, wantErr: "ES_URL is not set"},
		{name: "bad scheme", env: map[string]string{EnvURL: "ftp://es:9200"}, wantErr: "want http:// or https://"},
		{name: "credentials in url", env: map[string]string{EnvURL: "https://elastic:hunter2@es:9200"}, wantErr: "must not carry credentials"},
		{name: "two methods", env: map[string]string{EnvURL: "https://es:9200", EnvAPIKey: "k", EnvUsername: "u", EnvPassword: "p"}, wantErr: "only one"},
		{name: "user without password", env: map[string]string{EnvURL: "https://es:9200", EnvUsername: "u"}, wantErr: "go together"},
		{name: "no auth", env: map[string]string{EnvURL: "https://es:9200/"}, check: func(t *testing.T, cfg elasticsearch.Config, auth Auth) {
			if auth != "none" || cfg.Addresses[0] != "https://es:9200" {
				t.Errorf("auth %q address %q", auth, cfg.Addresses[0])
			}
		}},
		{name: "basic", env: map[string]string{EnvURL: "https://es:9200", EnvUsername: "u", EnvPassword: "p"}, check: func(t *testing.T, cfg elasticsearch.Config, auth Auth) {
			if auth != "basic" || cfg.Username != "u" || cfg.Password != "p" {
				t.Errorf("auth %q user %q", auth, cfg.Username)
			}
		}},
		{name: "api key", env: map[string]string{EnvURL: "https://es:9200", EnvAPIKey: "a2V5"}, check: func(t *testing.T, cfg elasticsearch.Config, auth Auth) {
			if auth != "api_key" || cfg.APIKey != "a2V5" {
				t.Errorf("auth %q key %q", auth, cfg.APIKey)
			}
		}},
		{name: "secret basic", env: map[string]string{EnvURL: "https://es:9200", EnvSecretARN: arn},
			secret: &fakeSecrets{value: str(`{"username":"svc","password":"s3cret-pw"}`)},
			check: func(t *testing.T, cfg elasticsearch.Config, auth Auth) {
				if auth != "secret" || cfg.Username != "svc" || cfg.Password != "s3cret-pw" || cfg.APIKey != "" {
					t.Errorf("auth %q user %q", auth, cfg.Username)
				}
			}},
		{name: "secret api key", env: map[string]string{EnvURL: "https://es:9200", EnvSecretARN: arn},
			secret: &fakeSecrets{value: str(`{"api_key":"s3cret-key"}`)},
			check: func(t *testing.T, cfg elasticsearch.Config, auth Auth) {
				if cfg.APIKey != "s3cret-key" || cfg.Username != "" {
					t.Errorf("api key %q user %q", cfg.APIKey, cfg.Username)
				}
			}},
		{name: "secret not json", env: map[string]string{EnvURL: "https://es:9200", EnvSecretARN: arn},
			secret: &fakeSecrets{value: str(`s3cret-pw`)}, wantErr: "value is not JSON"},
		{name: "secret half", env: map[string]string{EnvURL: "https://es:9200", EnvSecretARN: arn},
			secret: &fakeSecrets{value: str(`{"username":"svc"}`)}, wantErr: `need "username" and "password"`},
		{name: "secret both", env: map[string]string{EnvURL: "https://es:9200", EnvSecretARN: arn},
			secret: &fakeSecrets{value: str(`{"username":"svc","password":"s3cret-pw","api_key":"s3cret-key"}`)}, wantErr: "keep one"},
		{name: "secret binary", env: map[string]string{EnvURL: "https://es:9200", EnvSecretARN: arn},
			secret: &fakeSecrets{}, wantErr: "no SecretString"},
		{name: "secret denied", env: map[string]string{EnvURL: "https://es:9200", EnvSecretARN: arn},
			secret: &fakeSecrets{err: errors.New("AccessDeniedException: not allowed")}, wantErr: "AccessDeniedException"},
		{name: "ca missing", env: map[string]string{EnvURL: "https://es:9200", EnvCACert: "/nonexistent/ca.pem"}, wantErr: "ES_CA_CERT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var o Options
			if c.secret != nil {
				o.Secrets = c.secret
			}
			cfg, auth, err := Config(ctx, env(c.env), o)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, c.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			for _, secret := range []string{"hunter2", "s3cret-pw", "s3cret-key"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("a secret leaked: err %v", err)
				}
			}
			if c.secret != nil && (len(c.secret.asked) != 1 || c.secret.asked[0] != arn) {
				t.Errorf("secret asked for %v, want [%s]", c.secret.asked, arn)
			}
			if c.check != nil {
				c.check(t, cfg, auth)
			}
		})
	}
}

func TestSecretsPlainHTTPElasticsearchRefused(t *testing.T) {
	creds := map[string]string{EnvURL: "http://search.example.com:9200", EnvUsername: "u", EnvPassword: "p"}
	_, _, err := Config(context.Background(), env(creds), Options{})
	if !errors.Is(err, endpoint.ErrInsecure) || !strings.Contains(err.Error(), "ES_ALLOW_INSECURE=true") {
		t.Fatalf("basic auth over plain http to a remote node: got %v, want a refusal naming ES_ALLOW_INSECURE", err)
	}
	creds[EnvAllowInsecure] = "true"
	if _, _, err := Config(context.Background(), env(creds), Options{}); err != nil {
		t.Errorf("with ES_ALLOW_INSECURE=true: %v", err)
	}
	creds[EnvAllowInsecure] = "maybe"
	if _, _, err := Config(context.Background(), env(creds), Options{}); err == nil || !strings.Contains(err.Error(), EnvAllowInsecure) {
		t.Errorf("ES_ALLOW_INSECURE=maybe: got %v, want an error naming it", err)
	}
	for _, ok := range []map[string]string{
		{EnvURL: "http://127.0.0.1:9200", EnvAPIKey: "k"},
		{EnvURL: "http://search.example.com:9200"},
		{EnvURL: "https://search.example.com:9200", EnvAPIKey: "k"},
	} {
		if _, _, err := Config(context.Background(), env(ok), Options{}); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}
