package logstash_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logferry/logferry/shared/endpoint"
	"github.com/logferry/logferry/shared/logstash"
)

// A proxy in front of Logstash that answers 400 with the request it got, headers
// included, in the three shapes such echoes take: header lines, JSON, a Ruby hash.
func echoingProxy(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "bad request\nAuthorization: %s\n", r.Header.Get("Authorization"))
	fmt.Fprintf(w, `{"headers":{"authorization":"%s","X-Api-Key":"%s"}}`+"\n", r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))
	fmt.Fprintf(w, `{"http_authorization"=>"%s", "cookie"=>"session=abc123"}`+"\n", r.Header.Get("Authorization"))
}

func TestSecretsScrubbedFromLogstashAnswers(t *testing.T) {
	url := httptestServer(t, http.HandlerFunc(echoingProxy))
	const user, pass = "shipper", "pw-Xq81vZ"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	for name, cfg := range map[string]logstash.Config{
		"basic":   {Username: user, Password: pass},
		"api key": {APIKey: "key-Xq81vZ", Headers: http.Header{"X-Api-Key": {"hdr-Xq81vZ"}}},
		"bearer":  {BearerToken: "tok-Xq81vZ"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			dl, err := logstash.NewDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			cfg.URL, cfg.DeadLetter, cfg.MaxRetries = url, dl, 1
			cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ix := newIndexer(t, cfg)
			addAll(t, ix, 0, 3)
			closeErr := ix.Close(context.Background())
			if closeErr == nil {
				t.Fatal("Close: want a delivery error after 400")
			}
			var header []byte
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(p, logstash.Ext) {
					f, _ := os.Open(p)
					defer f.Close()
					fb, err := logstash.ReadFailedBatch(f)
					if err != nil {
						t.Fatal(err)
					}
					header = []byte(fb.Err)
				}
				return nil
			})
			if len(header) == 0 {
				t.Fatal("no dead letter written")
			}
			for what, text := range map[string]string{"log": logs.String(), "dead-letter header": string(header), "error": closeErr.Error()} {
				for _, s := range []string{"Xq81vZ", basic, "abc123"} {
					if strings.Contains(text, s) {
						t.Errorf("%s keeps %q:\n%s", what, s, text)
					}
				}
			}
			// What is not a credential stays, so the operator still sees the answer.
			if !strings.Contains(string(header), "bad request") || !strings.Contains(string(header), "REDACTED") || !strings.Contains(string(header), "400") {
				t.Errorf("dead-letter header lost the answer: %s", header)
			}
		})
	}
}

func TestSecretsSinkURLChecks(t *testing.T) {
	for _, u := range []string{"ftp://u:S3CRET@host:1", "https://u:S3C%zzRET@host:1", "https://u:S3CRET@host:8o80", "https://u:S3CRET@host:8080"} {
		err := logstash.Config{URL: u}.Validate()
		if err == nil || strings.Contains(err.Error(), "S3C") || strings.Contains(err.Error(), "3CR") {
			t.Errorf("%s: got %v, want an error that quotes nothing of the password", u, err)
		}
	}
	remote := logstash.Config{URL: "http://logstash.example.com:8080", Username: "u", Password: "p"}
	if err := remote.Validate(); !errors.Is(err, endpoint.ErrInsecure) {
		t.Errorf("basic auth over plain http to a remote host: got %v, want ErrInsecure", err)
	}
	hdr := logstash.Config{URL: "http://logstash.example.com:8080", Headers: http.Header{"Authorization": {"Bearer x"}}}
	if err := hdr.Validate(); !errors.Is(err, endpoint.ErrInsecure) {
		t.Errorf("an Authorization header over plain http: got %v, want ErrInsecure", err)
	}
	remote.AllowInsecureHTTP = true
	if err := remote.Validate(); err != nil {
		t.Errorf("AllowInsecureHTTP: %v", err)
	}
	for _, ok := range []logstash.Config{
		{URL: "http://logstash.example.com:8080"},
		{URL: "http://127.0.0.1:8080", APIKey: "k"},
		{URL: "https://logstash.example.com:8080", BearerToken: "t"},
	} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}

// A network error quotes the request's URL; a token in its query stays out of it.
func TestSecretsNotInNetworkErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/?token=tok-Xq81vZ"
	srv.Close() // nothing listens there any more: every request fails without an answer
	var logs bytes.Buffer
	ix := newIndexer(t, logstash.Config{URL: url, MaxRetries: 1,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	addAll(t, ix, 0, 1)
	err := ix.Close(context.Background())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("Close = %v; want a network error naming the host", err)
	}
	if strings.Contains(err.Error(), "Xq81vZ") || strings.Contains(logs.String(), "Xq81vZ") {
		t.Errorf("the token leaked: err %v\nlogs %s", err, logs.String())
	}
}
