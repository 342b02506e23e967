package reindexstep

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
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
