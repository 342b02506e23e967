package reindexstep

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/logferry/logferry/shared/endpoint"
)

func TestSecretsNotEchoedForESURL(t *testing.T) {
	for _, u := range []string{"ftp://u:S3CRET@es:1", "https://u:S3C%zzRET@es:9200", "https://u:S3CRET@es:92x0", "https://u:S3CRET@es:9200"} {
		var logs bytes.Buffer
		_, err := NewWithOptions(context.Background(), env(map[string]string{EnvURL: u}), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err == nil {
			t.Errorf("%s: accepted", u)
			continue
		}
		for _, piece := range []string{"S3C", "3CR", "%zz"} {
			if strings.Contains(err.Error(), piece) || strings.Contains(logs.String(), piece) {
				t.Errorf("%s: %q quoted: err %v, log %s", u, piece, err, logs.String())
			}
		}
	}
}

func TestSecretsPlainHTTPElasticsearchRefused(t *testing.T) {
	creds := map[string]string{EnvURL: "http://search.example.com:9200", EnvUsername: "u", EnvPassword: "p"}
	_, _, err := clientConfig(context.Background(), env(creds), &Options{})
	if !errors.Is(err, endpoint.ErrInsecure) || !strings.Contains(err.Error(), "ES_ALLOW_INSECURE=true") {
		t.Fatalf("basic auth over plain http to a remote node: got %v, want a refusal naming ES_ALLOW_INSECURE", err)
	}
	creds[EnvAllowInsecure] = "true"
	if _, _, err := clientConfig(context.Background(), env(creds), &Options{}); err != nil {
		t.Errorf("with ES_ALLOW_INSECURE=true: %v", err)
	}
	creds[EnvAllowInsecure] = "maybe"
	if _, _, err := clientConfig(context.Background(), env(creds), &Options{}); err == nil || !strings.Contains(err.Error(), EnvAllowInsecure) {
		t.Errorf("ES_ALLOW_INSECURE=maybe: got %v, want an error naming it", err)
	}
	for _, ok := range []map[string]string{
		{EnvURL: "http://127.0.0.1:9200", EnvAPIKey: "k"},
		{EnvURL: "http://search.example.com:9200"},
		{EnvURL: "https://search.example.com:9200", EnvAPIKey: "k"},
	} {
		if _, _, err := clientConfig(context.Background(), env(ok), &Options{}); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}
