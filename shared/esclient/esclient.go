// Package esclient configures an Elasticsearch client from the environment: the cluster
// URL (checked by shared/endpoint), one of basic auth, an API key or a Secrets Manager
// secret, and the CA that signed the cluster's certificate. The reindex function and the
// CLI's local reindex runs read the same variables through it, so a command that works
// locally works in the Lambda with the same settings.
package esclient

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/elastic/go-elasticsearch/v8"

	"github.com/logferry/logferry/shared/config"
	"github.com/logferry/logferry/shared/endpoint"
)

// Environment variables Config reads.
const (
	EnvURL       = "ES_URL"        // required: https://host:9200 (http only for local nodes)
	EnvUsername  = "ES_USERNAME"   // basic auth, with ES_PASSWORD
	EnvPassword  = "ES_PASSWORD"   //
	EnvAPIKey    = "ES_API_KEY"    // base64 API key (id:key encoded), instead of basic auth
	EnvSecretARN = "ES_SECRET_ARN" // Secrets Manager secret: {"username","password"} or {"api_key"}
	EnvCACert    = "ES_CA_CERT"    // PEM file of the CA that signed the cluster's certificate
	// EnvAllowInsecure=true permits credentials over plain http:// to a cluster that is not
	// on loopback; without it such an ES_URL is refused.
	EnvAllowInsecure = "ES_ALLOW_INSECURE"
)

// Auth names the authentication method chosen, for logs: never a credential.
type Auth string

// The methods Config chooses from.
const (
	AuthNone   Auth = "none"
	AuthBasic  Auth = "basic"
	AuthAPIKey Auth = "api_key"
	AuthSecret Auth = "secret"
)

// Options are what Config takes besides the environment.
type Options struct {
	// Secrets reads ES_SECRET_ARN. Default: a Secrets Manager client from the default AWS
	// configuration, made only when ES_SECRET_ARN is set.
	Secrets config.SecretsManagerAPI
}

// Config turns the environment (see the Env constants) into an elasticsearch.Config and
// names the method of authentication it chose. Errors name the variable that is wrong and
// never quote a credential.
func Config(ctx context.Context, getenv func(string) string, o Options) (cfg elasticsearch.Config, auth Auth, err error) {
	raw := strings.TrimSpace(getenv(EnvURL))
	if raw == "" {
		return cfg, "", fmt.Errorf("%s is not set: give the cluster URL, e.g. https://search.example.com:9200", EnvURL)
	}
	user, pass, key, arn := getenv(EnvUsername), getenv(EnvPassword), getenv(EnvAPIKey), getenv(EnvSecretARN)
	allow, err := strconv.ParseBool(cmp.Or(strings.TrimSpace(getenv(EnvAllowInsecure)), "false"))
	if err != nil {
		return cfg, "", fmt.Errorf("%s=%q: want true or false", EnvAllowInsecure, getenv(EnvAllowInsecure))
	}
	if _, err := endpoint.Check(raw, endpoint.Options{
		Name: EnvURL, Credentials: user != "" || pass != "" || key != "" || arn != "",
		AllowInsecure: allow, AllowName: EnvAllowInsecure,
	}); err != nil {
		return cfg, "", err
	}
	cfg.Addresses = []string{strings.TrimRight(raw, "/")}

	methods := 0
	for _, set := range []bool{user != "" || pass != "", key != "", arn != ""} {
		if set {
			methods++
		}
	}
	if methods > 1 {
		return cfg, "", fmt.Errorf("set only one of %s/%s, %s and %s", EnvUsername, EnvPassword, EnvAPIKey, EnvSecretARN)
	}
	switch {
	case user != "" || pass != "":
		if user == "" || pass == "" {
			return cfg, "", fmt.Errorf("%s and %s go together", EnvUsername, EnvPassword)
		}
		cfg.Username, cfg.Password, auth = user, pass, AuthBasic
	case key != "":
		cfg.APIKey, auth = key, AuthAPIKey
	case arn != "":
		if cfg.Username, cfg.Password, cfg.APIKey, err = fromSecret(ctx, arn, o); err != nil {
			return cfg, "", err
		}
		auth = AuthSecret
	default:
		auth = AuthNone
	}
	if p := getenv(EnvCACert); p != "" {
		pem, err := os.ReadFile(p)
		if err != nil {
			return cfg, "", fmt.Errorf("%s: %w", EnvCACert, err)
		}
		if !bytes.Contains(pem, []byte("-----BEGIN CERTIFICATE-----")) {
			return cfg, "", fmt.Errorf("%s=%s holds no PEM certificate", EnvCACert, p)
		}
		cfg.CACert = pem
	}
	return cfg, auth, nil
}

// fromSecret reads {"username","password"} or {"api_key"} from Secrets Manager, the same
// way the ingest function reads its Logstash credentials. Errors name the secret, never
// the values.
func fromSecret(ctx context.Context, arn string, o Options) (user, pass, key string, err error) {
	if o.Secrets == nil {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return "", "", "", fmt.Errorf("AWS configuration for %s: %w", EnvSecretARN, err)
		}
		o.Secrets = secretsmanager.NewFromConfig(awsCfg)
	}
	c, err := config.Secrets{SecretsManager: o.Secrets}.Resolve(ctx, arn)
	if err != nil {
		return "", "", "", fmt.Errorf("%s: %w", EnvSecretARN, err)
	}
	if c.APIKey != "" && c.Username != "" {
		return "", "", "", fmt.Errorf(`%s: secret %s holds both "api_key" and "username": keep one`, EnvSecretARN, arn)
	}
	return c.Username, c.Password, c.APIKey, nil
}
