package logstashtest_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

func post(t *testing.T, url, contentType, encoding string, body []byte, auth ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func gz(b string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(b))
	zw.Close()
	return buf.Bytes()
}

const two = `[{"@metadata":{"_id":"a"},"x":1},{"@metadata":{"_id":"b"},"x":2}]`

func TestAcceptsJSONArrayGzipped(t *testing.T) {
	s := logstashtest.New(t, logstashtest.Options{})
	resp, body := post(t, s.URL, "application/json", "gzip", gz(two))
	if resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("answer %d %q; want 200 ok", resp.StatusCode, body)
	}
	post(t, s.URL, "application/json", "", []byte(two))
	docs := s.Docs()
	if len(docs) != 2 || string(docs["a"]) != `{"@metadata":{"_id":"a"},"x":1}` {
		t.Errorf("docs = %v", docs)
	}
	if s.Deliveries("a") != 2 || len(s.Redelivered()) != 2 {
		t.Errorf("deliveries of a = %d, redelivered %v; want 2 each", s.Deliveries("a"), s.Redelivered())
	}
	r := s.Requests()[0]
	if r.Events != 2 || r.ContentEncoding != "gzip" || r.BodyBytes != int64(len(two)) || r.WireBytes != int64(len(gz(two))) {
		t.Errorf("request record %+v", r)
	}
}

func TestBadGzipIs400(t *testing.T) {
	s := logstashtest.New(t, logstashtest.Options{})
	resp, body := post(t, s.URL, "application/json", "gzip", []byte(two))
	if resp.StatusCode != 400 || !strings.Contains(body, "gzip") {
		t.Fatalf("answer %d %q; want 400 naming gzip", resp.StatusCode, body)
	}
	if len(s.Docs()) != 0 {
		t.Error("stored events from a bad body")
	}
}

func TestBasicAuth401(t *testing.T) {
	s := logstashtest.New(t, logstashtest.Options{Username: "u", Password: "p"})
	resp, _ := post(t, s.URL, "application/json", "", []byte(two))
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no credentials: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ = post(t, s.URL, "application/json", "", []byte(two), "u", "bad"); resp.StatusCode != 401 {
		t.Fatalf("bad password: %d", resp.StatusCode)
	}
	if resp, _ = post(t, s.URL, "application/json", "", []byte(two), "u", "p"); resp.StatusCode != 200 {
		t.Fatalf("good password: %d", resp.StatusCode)
	}
	if len(s.Docs()) != 2 {
		t.Errorf("docs %d", len(s.Docs()))
	}
}

func TestMaxContentLength413(t *testing.T) {
	s := logstashtest.New(t, logstashtest.Options{MaxContentLength: 40})
	// Small on the wire, large once decoded: still refused.
	resp, _ := post(t, s.URL, "application/json", "gzip", gz(`[`+strings.Repeat(`{"@metadata":{"_id":"a"}},`, 20)+`{}]`))
	if resp.StatusCode != 413 {
		t.Fatalf("answer %d; want 413", resp.StatusCode)
	}
	if resp, _ = post(t, s.URL, "application/json", "", []byte(`{"@metadata":{"_id":"a"}}`)); resp.StatusCode != 200 {
		t.Fatalf("small body: %d", resp.StatusCode)
	}
}

func TestMaxPendingRequests429ClosesConnection(t *testing.T) {
	s := logstashtest.New(t, logstashtest.Options{MaxPendingRequests: 1})
	s.Pause()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		post(t, s.URL, "application/json", "", []byte(two))
	}()
	for deadline := time.Now().Add(10 * time.Second); s.Pending() < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the first request never reached the stand-in")
		}
		time.Sleep(time.Millisecond) // how often the condition is looked at
	}
	resp, _ := post(t, s.URL, "application/json", "", []byte(two))
	if resp.StatusCode != 429 || !resp.Close {
		t.Errorf("second pending request: %d close=%v; want 429 and the connection closed", resp.StatusCode, resp.Close)
	}
	s.Resume()
	wg.Wait()
	if c := s.StatusCounts(); c[200] != 1 || c[429] != 1 {
		t.Errorf("status counts %v", c)
	}
}

func TestJSONLinesCodecPushesLinesBeforeAFailure(t *testing.T) {
	s := logstashtest.New(t, logstashtest.Options{Codecs: map[string]string{"application/x-ndjson": "json_lines"}})
	body := `{"@metadata":{"_id":"a"}}` + "\n" + `{"@metadata":{"_id":"b"}}` + "\n" + `{broken` + "\n" + `{"@metadata":{"_id":"c"}}` + "\n"
	resp, _ := post(t, s.URL, "application/x-ndjson", "", []byte(body))
	if resp.StatusCode != 500 {
		t.Fatalf("answer %d; want 500 for the codec failure", resp.StatusCode)
	}
	if d := s.Docs(); len(d) != 2 || d["a"] == nil || d["b"] == nil {
		t.Errorf("docs %v; want a and b, pushed before the bad line", d)
	}
}

func TestUnmappedContentTypeUsesPlainCodec(t *testing.T) {
	s := logstashtest.New(t, logstashtest.Options{})
	post(t, s.URL, "application/x-ndjson", "", []byte(`{"@metadata":{"_id":"a"}}`+"\n"))
	if len(s.Docs()) != 0 || len(s.Plain()) != 1 {
		t.Errorf("docs %v plain %v; want one plain event", s.Docs(), s.Plain())
	}
}

func TestScriptedFaults(t *testing.T) {
	s := logstashtest.New(t, logstashtest.Options{})
	s.Script(logstashtest.Storm429(2), logstashtest.Fail500(1, 1), logstashtest.Slow(1, 100*time.Millisecond), logstashtest.Reset(1))
	for i, want := range []int{429, 429, 500} {
		resp, _ := post(t, s.URL, "application/json", "", []byte(two))
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d, want %d", i, resp.StatusCode, want)
		}
		if want == 429 && !resp.Close {
			t.Errorf("429 storm did not close the connection")
		}
	}
	if d := s.Docs(); len(d) != 1 || d["a"] == nil {
		t.Errorf("after a 500 with Push 1: %v; want a only", d)
	}
	start := time.Now()
	if resp, _ := post(t, s.URL, "application/json", "", []byte(two)); resp.StatusCode != 200 || time.Since(start) < 100*time.Millisecond {
		t.Errorf("slow fault: %d after %s", resp.StatusCode, time.Since(start))
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL, bytes.NewReader([]byte(two)))
	_, err := http.DefaultClient.Do(req)
	if err == nil {
		t.Fatal("reset fault answered")
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("reset looked like a timeout: %v", err)
	}
	if resp, _ := post(t, s.URL, "application/json", "", []byte(two)); resp.StatusCode != 200 {
		t.Errorf("after the script: %d", resp.StatusCode)
	}
	if c := s.StatusCounts(); c[0] != 1 || c[429] != 2 || c[500] != 1 || c[200] != 2 {
		t.Errorf("status counts %v", c)
	}
}

func TestBlockedTooLong429(t *testing.T) {
	s := logstashtest.New(t, logstashtest.Options{BlockTimeout: 50 * time.Millisecond})
	s.Pause()
	start := time.Now()
	resp, _ := post(t, s.URL, "application/json", "", []byte(two))
	if resp.StatusCode != 429 || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("blocked request: %d after %s; want 429 after the block timeout", resp.StatusCode, time.Since(start))
	}
	if len(s.Docs()) != 0 {
		t.Error("blocked request stored events")
	}
}
