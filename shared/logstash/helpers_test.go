package logstash_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

func httptestServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
