package config

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestLoadIngestDefaults(t *testing.T) {
	c, err := LoadIngest(env(map[string]string{"LOGSTASH_URL": "https://ls:8080"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Codec != "json" || !c.Gzip || c.DeadlineMargin != 20*time.Second || c.MaxRetries != 0 || c.MetricsNamespace != "logferry" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadIngestParsesEverything(t *testing.T) {
	c, err := LoadIngest(env(map[string]string{
		"LOGSTASH_URL": "http://ls:8080", "LOGSTASH_BATCH_DOCS": "250", "LOGSTASH_BATCH_BYTES": "1048576",
		"LOGSTASH_CONCURRENCY": "8", "LOGSTASH_TIMEOUT": "45", "LOGSTASH_MAX_RETRIES": "3",
		"LOGSTASH_CODEC": "json_lines", "LOGSTASH_GZIP": "false", "DEAD_LETTER_URI": "s3://dl/prefix/",
		"DEADLINE_MARGIN": "1m30s", "INCLUDE_ORIGINAL": "true", "MAX_LINE_BYTES": "65536",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Ingest{LogstashURL: "http://ls:8080", BatchDocs: 250, BatchBytes: 1 << 20, Concurrency: 8,
		RequestTimeout: 45 * time.Second, MaxRetries: 3, Codec: "json_lines", Gzip: false,
		DeadLetter: "s3://dl/prefix/", DeadlineMargin: 90 * time.Second, IncludeOriginal: true,
		MaxLineBytes: 65536, MetricsNamespace: "logferry"}
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestLoadIngestNamesEveryBadVariable(t *testing.T) {
	_, err := LoadIngest(env(map[string]string{
		"LOGSTASH_BATCH_DOCS": "many", "LOGSTASH_GZIP": "perhaps", "LOGSTASH_CODEC": "plain", "DEADLINE_MARGIN": "soon",
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"LOGSTASH_URL", "LOGSTASH_BATCH_DOCS", "LOGSTASH_GZIP", "LOGSTASH_CODEC", "DEADLINE_MARGIN"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

type fakeSM struct {
	value *string
	err   error
	asked string
}

func (f *fakeSM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.asked = *in.SecretId
	return &secretsmanager.GetSecretValueOutput{SecretString: f.value}, f.err
}

type fakeSSM struct {
	value   string
	asked   string
	decrypt bool
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.asked, f.decrypt = *in.Name, in.WithDecryption != nil && *in.WithDecryption
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: &f.value}}, nil
}

func TestResolveSecretsManagerAndSSM(t *testing.T) {
	sm := &fakeSM{value: ptr(`{"username":"shipper","password":"s3cr3t"}`)}
	ps := &fakeSSM{value: `{"api_key":"k3y"}`}
	s := Secrets{SecretsManager: sm, SSM: ps}

	c, err := s.Resolve(context.Background(), "arn:aws:secretsmanager:eu-west-1:123456789012:secret:logstash-AbCdEf")
	if err != nil || c.Username != "shipper" || c.Password != "s3cr3t" || sm.asked == "" {
		t.Fatalf("secrets manager: %+v %v", c, err)
	}
	if strings.Contains(c.String(), "s3cr3t") {
		t.Fatalf("String leaks the password: %s", c)
	}
	c, err = s.Resolve(context.Background(), "ssm:/logferry/logstash")
	if err != nil || c.APIKey != "k3y" || ps.asked != "/logferry/logstash" || !ps.decrypt {
		t.Fatalf("ssm: %+v %v (asked %q, decrypt %v)", c, err, ps.asked, ps.decrypt)
	}
}

func TestResolveErrorsNeverQuoteTheValue(t *testing.T) {
	s := Secrets{SecretsManager: &fakeSM{value: ptr(`password=hunter2`)}}
	_, err := s.Resolve(context.Background(), "logstash")
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "logstash") {
		t.Fatalf("err = %v", err)
	}
	s = Secrets{SecretsManager: &fakeSM{value: ptr(`{"username":"only"}`)}}
	if _, err := s.Resolve(context.Background(), "x"); err == nil {
		t.Fatal("a username without a password must be refused")
	}
	s = Secrets{SecretsManager: &fakeSM{err: errors.New("AccessDenied")}}
	if _, err := s.Resolve(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("err = %v", err)
	}
}

func TestSecretsNotEchoedByLoadIngest(t *testing.T) {
	for _, u := range []string{"ftp://u:S3CRET@host:1", "https://u:S3C%zzRET@host:1", "https://u:S3CRET@host:8o80"} {
		_, err := LoadIngest(env(map[string]string{"LOGSTASH_URL": u}))
		if err == nil {
			t.Errorf("%s: accepted", u)
			continue
		}
		for _, piece := range []string{"S3C", "3CR", "%zz"} {
			if strings.Contains(err.Error(), piece) {
				t.Errorf("%s: the configuration error quotes %q: %v", u, piece, err)
			}
		}
		if !strings.Contains(err.Error(), "LOGSTASH_URL") {
			t.Errorf("%s: error does not name LOGSTASH_URL: %v", u, err)
		}
	}
}

func TestSecretsPlainHTTPLogstashWithCredentials(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"username": {"LOGSTASH_USERNAME": "shipper", "LOGSTASH_PASSWORD": "pw"},
		"api key":  {"LOGSTASH_API_KEY": "k"},
		"secret":   {"LOGSTASH_CREDENTIALS": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ls"},
	} {
		vars["LOGSTASH_URL"] = "http://logstash.internal:8080"
		_, err := LoadIngest(env(vars))
		if err == nil || !strings.Contains(err.Error(), "LOGSTASH_ALLOW_INSECURE=true") {
			t.Errorf("%s over plain http to a remote host: got %v, want a refusal naming LOGSTASH_ALLOW_INSECURE", name, err)
		}
		vars["LOGSTASH_ALLOW_INSECURE"] = "true"
		if c, err := LoadIngest(env(vars)); err != nil || !c.AllowInsecure {
			t.Errorf("%s with LOGSTASH_ALLOW_INSECURE=true: %v (AllowInsecure %v)", name, err, c.AllowInsecure)
		}
		vars["LOGSTASH_ALLOW_INSECURE"], vars["LOGSTASH_URL"] = "", "http://127.0.0.1:8080"
		if _, err := LoadIngest(env(vars)); err != nil {
			t.Errorf("%s to loopback: %v", name, err)
		}
	}
	if _, err := LoadIngest(env(map[string]string{"LOGSTASH_URL": "http://logstash.internal:8080"})); err != nil {
		t.Errorf("plain http without credentials: %v", err)
	}
}
