package reindexstep

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/elastic/go-elasticsearch/v8"

	"github.com/logferry/logferry/shared/esnode"
	"github.com/logferry/logferry/shared/reindex"
)

var update = flag.Bool("update", false, "rewrite events/reindex-*.json from a run against the node")

var esURL string

func TestMain(m *testing.M) {
	url, stop := esnode.ForTests(m)
	esURL = url
	code := m.Run()
	stop()
	os.Exit(code)
}

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

func TestConfigFromEnvironment(t *testing.T) {
	ctx := context.Background()
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:es-AbCdEf"
	// The cluster's settings are shared/esclient's (tested there); these are what New adds
	// or must pass on: its own settings, and a refusal without a credential in it.
	cases := []struct {
		name    string
		env     map[string]string
		secret  *fakeSecrets
		wantErr string // "" = success
	}{
		{name: "no url", env: map[string]string{}, wantErr: "ES_URL is not set"},
		{name: "credentials in url", env: map[string]string{EnvURL: "https://elastic:hunter2@es:9200"}, wantErr: "must not carry credentials"},
		{name: "basic", env: map[string]string{EnvURL: "https://es:9200", EnvUsername: "u", EnvPassword: "s3cret-pw"}},
		{name: "secret basic", env: map[string]string{EnvURL: "https://es:9200", EnvSecretARN: arn},
			secret: &fakeSecrets{value: str(`{"username":"svc","password":"s3cret-pw"}`)}},
		{name: "secret both", env: map[string]string{EnvURL: "https://es:9200", EnvSecretARN: arn},
			secret: &fakeSecrets{value: str(`{"username":"svc","password":"s3cret-pw","api_key":"s3cret-key"}`)}, wantErr: "keep one"},
		{name: "poll", env: map[string]string{EnvURL: "https://es:9200", EnvPoll: "soon"}, wantErr: "REINDEX_POLL_SECONDS"},
		{name: "poll ok", env: map[string]string{EnvURL: "https://es:9200", EnvPoll: "5"}},
		{name: "timeout", env: map[string]string{EnvURL: "https://es:9200", EnvTimeout: "30"}, wantErr: "ES_REQUEST_TIMEOUT"},
		{name: "timeout zero", env: map[string]string{EnvURL: "https://es:9200", EnvTimeout: "0s"}, wantErr: "ES_REQUEST_TIMEOUT"},
		{name: "timeout ok", env: map[string]string{EnvURL: "https://es:9200", EnvTimeout: "45s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			o := Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			if c.secret != nil {
				o.Secrets = c.secret
			}
			_, err := NewWithOptions(ctx, env(c.env), o)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, c.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			} else if !strings.Contains(logs.String(), "reindex handler ready") {
				t.Errorf("no start-up line logged: %q", logs.String())
			}
			for _, secret := range []string{"hunter2", "s3cret-pw", "s3cret-key"} {
				if strings.Contains(logs.String(), secret) || err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("a secret leaked: log %q err %v", logs.String(), err)
				}
			}
			if c.secret != nil && (len(c.secret.asked) != 1 || c.secret.asked[0] != arn) {
				t.Errorf("secret asked for %v, want [%s]", c.secret.asked, arn)
			}
		})
	}
}

// TLS is verified: a server with a certificate the system does not trust is refused
// unless ES_CA_CERT names its CA.
func TestTLSVerifiedByDefault(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not elasticsearch", http.StatusTeapot)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, cs http.ConnState) {
		if cs == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	ctx := context.Background()
	invoke := func(e map[string]string) messages.InvokeResponse_Error {
		h, err := New(ctx, env(e))
		if err != nil {
			t.Fatal(err)
		}
		_, err = lambda.NewHandler(h.Handle).Invoke(ctx, []byte(`{"source":"logs"}`))
		var ie messages.InvokeResponse_Error
		if !errors.As(err, &ie) {
			t.Fatalf("err = %v, want an InvokeResponse_Error", err)
		}
		return ie
	}
	// Not ElasticsearchError: the state machine retries only that, and a retry cannot help.
	if ie := invoke(map[string]string{EnvURL: srv.URL}); ie.Type != reindex.UntrustedCertificate || !strings.Contains(ie.Message, "certificate") {
		t.Errorf("untrusted certificate: %+v, want UntrustedCertificate about the certificate", ie)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for one refused certificate: the client retried it", n)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	cert, err := x509.ParseCertificate(srv.TLS.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if ie := invoke(map[string]string{EnvURL: srv.URL, EnvCACert: ca}); strings.Contains(ie.Message, "certificate") {
		t.Errorf("with ES_CA_CERT the handshake still fails: %+v", ie)
	}
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	if _, err := New(ctx, env(map[string]string{EnvURL: srv.URL, EnvCACert: notPEM})); err == nil || !strings.Contains(err.Error(), "no PEM") {
		t.Errorf("non-PEM CA: %v", err)
	}
}

// A cluster that accepts connections and never answers fails the step after
// ES_REQUEST_TIMEOUT with ElasticsearchError, long before the invocation's deadline.
func TestHungClusterTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	h, err := New(context.Background(), env(map[string]string{EnvURL: srv.URL, EnvTimeout: "300ms"}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the invocation's deadline
	defer cancel()
	start := time.Now()
	_, err = lambda.NewHandler(h.Handle).Invoke(ctx, []byte(`{"source":"logs"}`))
	if got := errorType(t, err); got != reindex.ElasticsearchError || !strings.Contains(err.Error(), "no answer within 300ms") {
		t.Errorf("errorType %q (%v), want ElasticsearchError naming the timeout", got, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the step took %s with ES_REQUEST_TIMEOUT=300ms", took)
	}
}

// Events too large or malformed to be a state are InvalidRequest (caught into rollback, not
// retried), and refused before any request: the server here fails the test if asked.
func TestOversizedOrMalformedEventIsInvalidRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request %s %s for a refused event", r.Method, r.URL)
	}))
	defer srv.Close()
	h, err := New(context.Background(), env(map[string]string{EnvURL: srv.URL}))
	if err != nil {
		t.Fatal(err)
	}
	var tasks strings.Builder
	for i := 0; i < 150000; i++ {
		fmt.Fprintf(&tasks, `"abcdefghijklmnopqrstuv:%d",`, i)
	}
	state := `"source":"logs","dest":"logs-r1","run":"r1","mode":"alias","phase":"copy","from":"logs","to":"logs-r1","source_index":"logs","source_count":1`
	cases := map[string]string{
		"4.8 MB of task ids":    `{"step":"cleanup",` + state + `,"tasks":[` + strings.TrimSuffix(tasks.String(), ",") + `]}`,
		"over MaxEventBytes":    `{"step":"cleanup",` + state + `,"run":"` + strings.Repeat("r", MaxEventBytes) + `"}`,
		"JSON not a state":      `["step","cleanup"]`,
		"wrong type":            `{"step":"cleanup",` + strings.Replace(state, `"source_count":1`, `"source_count":"many"`, 1) + `}`,
		"100 tasks under limit": `{"step":"cleanup",` + state + `,"tasks":[` + strings.Repeat(`"n1:1",`, 100) + `"n1:2"]}`,
	}
	for name, event := range cases {
		_, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), []byte(event))
		if got := errorType(t, err); got != reindex.InvalidRequest {
			t.Errorf("%s: errorType %q (%.200v), want InvalidRequest", name, got, err)
		}
		if len(err.Error()) > 1000 {
			t.Errorf("%s: the error is %d bytes: it quotes the event", name, len(err.Error()))
		}
	}
}

// ---- against the real node ----

const (
	sampleSource = "logs-2026.11"
	sampleTask   = "oTUltX4IQMOUUVeiohTt8A:12345"
	sampleDocs   = 120
	eventsDir    = "../../events"
)

type rig struct {
	t      *testing.T
	es     *elasticsearch.Client
	h      lambda.Handler
	source string // the test's name for sampleSource
	task   string // the live task id standing in for sampleTask
}

func newRig(t *testing.T, tag string) *rig {
	t.Helper()
	if esURL == "" {
		t.Skip("no Elasticsearch under -short")
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(context.Background(), env(map[string]string{EnvURL: esURL, EnvPoll: "10"}))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, es: es, h: lambda.NewHandler(h.Handle),
		source: fmt.Sprintf("rxh-%s-%d", tag, time.Now().UnixNano()%1e9)}
	t.Cleanup(func() { r.do("DELETE", "/"+r.source+"*", nil) })
	return r
}

func (r *rig) do(method, path string, body any) (int, map[string]any) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.es.Perform(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// seed makes the source the sample events describe: sampleDocs log lines whose status
// code is a keyword, which the events' mappings turn into a long. bad adds one whose
// status code is not a number.
func (r *rig) seed(bad bool) {
	r.t.Helper()
	code, out := r.do("PUT", "/"+r.source, map[string]any{
		"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 1, "refresh_interval": "5s"},
		"mappings": map[string]any{"properties": map[string]any{
			"@timestamp": map[string]any{"type": "date"},
			"message":    map[string]any{"type": "text"},
			"http":       map[string]any{"properties": map[string]any{"response": map[string]any{"properties": map[string]any{"status_code": map[string]any{"type": "keyword"}}}}},
		}},
	})
	if code != 200 {
		r.t.Fatalf("create source: %d %v", code, out)
	}
	var b bytes.Buffer
	for i := 0; i < sampleDocs; i++ {
		status := []string{"200", "404", "503"}[i%3]
		if bad && i == 7 {
			status = "OK"
		}
		fmt.Fprintf(&b, "{\"index\":{\"_id\":\"%d\"}}\n{\"@timestamp\":\"2026-11-25T10:%02d:%02dZ\",\"message\":\"GET /item/%d\",\"http\":{\"response\":{\"status_code\":%q}}}\n", i, i/60, i%60, i, status)
	}
	resp, err := r.es.Bulk(&b, r.es.Bulk.WithIndex(r.source), r.es.Bulk.WithRefresh("true"))
	if err != nil || resp.IsError() {
		r.t.Fatalf("bulk: %v %v", err, resp)
	}
	resp.Body.Close()
	if code, out := r.do("PUT", "/"+r.source+"/_alias/"+r.source+"-errors", map[string]any{
		"filter": map[string]any{"term": map[string]any{"http.response.status_code": "503"}},
	}); code != 200 {
		r.t.Fatalf("alias: %d %v", code, out)
	}
}

// event reads events/reindex-<name>.json with the sample names replaced by the test's.
func (r *rig) event(name string) []byte {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, "reindex-"+name+".json"))
	if err != nil {
		r.t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), sampleSource, r.source)
	if r.task != "" {
		s = strings.ReplaceAll(s, sampleTask, r.task)
	}
	return []byte(s)
}

// save writes st as events/reindex-<name>.json (with -update), in the sample's names.
func (r *rig) save(name string, st reindex.State, step reindex.Step) {
	if !*update {
		return
	}
	st.Step = step
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		r.t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), r.source, sampleSource)
	if r.task != "" {
		s = strings.ReplaceAll(s, r.task, sampleTask)
	}
	if err := os.WriteFile(filepath.Join(eventsDir, "reindex-"+name+".json"), []byte(s+"\n"), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) invoke(payload []byte) (reindex.State, error) {
	out, err := r.h.Invoke(context.Background(), payload)
	if err != nil {
		return reindex.State{}, err
	}
	var st reindex.State
	if err := json.Unmarshal(out, &st); err != nil {
		r.t.Fatalf("decode %s: %v", out, err)
	}
	return st, nil
}

func (r *rig) mustInvoke(name string, payload []byte) reindex.State {
	r.t.Helper()
	st, err := r.invoke(payload)
	if err != nil {
		r.t.Fatalf("%s: %v", name, err)
	}
	return st
}

// errorType is what Lambda would report as errorType for err.
func errorType(t *testing.T, err error) string {
	t.Helper()
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) {
		t.Fatalf("err = %T %v, want messages.InvokeResponse_Error", err, err)
	}
	b, _ := json.Marshal(ie)
	var wire struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	json.Unmarshal(b, &wire)
	if wire.Message == "" {
		t.Errorf("no errorMessage in %s", b)
	}
	return wire.Type
}

// The sample events, in workflow order, each run through lambda.NewHandler(h.Handle).Invoke
// as Lambda would. Each step's event must be a faithful sample: the step run on it against
// a source seeded as the samples describe succeeds and leads to the next one.
func TestEventsRunAgainstTheNode(t *testing.T) {
	r := newRig(t, "events")
	r.seed(false)

	st := r.mustInvoke("workflow", r.event("workflow"))
	if st.Next != reindex.StepPreflight || st.Dest != r.source+"-r20261125" {
		t.Fatalf("workflow input: next %q dest %q", st.Next, st.Dest)
	}
	r.save("preflight", st, reindex.StepPreflight)
	order := []reindex.Step{reindex.StepValidate, reindex.StepPreflight, reindex.StepBlock, reindex.StepCreate, reindex.StepStart,
		reindex.StepCheck, reindex.StepVerify, reindex.StepRestore, reindex.StepSwap, reindex.StepCleanup}
	for i, step := range order {
		payload := r.event(string(step))
		var in reindex.State
		if err := json.Unmarshal(payload, &in); err != nil || in.Step != step {
			t.Fatalf("events/reindex-%s.json: step %q err %v", step, in.Step, err)
		}
		st = r.mustInvoke(string(step), payload)
		pause := pacer(t, "check of the sample copy")
		for step == reindex.StepCheck && st.Status == reindex.StatusRunning {
			pause()
			st = r.mustInvoke(string(step), payload)
		}
		if step == reindex.StepStart {
			r.task = st.TaskID
			r.save("rollback", withError(st), reindex.StepRollback)
		}
		want := reindex.Step("")
		if i+1 < len(order) {
			want = order[i+1]
			r.save(string(want), st, want)
		}
		if st.Next != want {
			t.Fatalf("%s: next %q, want %q", step, st.Next, want)
		}
	}
	if st.Status != reindex.StatusDone || *st.ToCount != sampleDocs {
		t.Errorf("final state: %+v", st)
	}
	_, al := r.do("GET", "/"+r.source+"/_alias", nil)
	if _, ok := al[r.source+"-r20261125"]; !ok || len(al) != 1 {
		t.Errorf("%s does not point at the copy: %v", r.source, al)
	}
	if _, cnt := r.do("GET", "/"+r.source+"-errors/_count", nil); cnt["count"] != float64(sampleDocs/3) {
		t.Errorf("the filtered alias counts %v, want %d", cnt["count"], sampleDocs/3)
	}
}

func withError(st reindex.State) reindex.State {
	st.Error = &reindex.CaughtError{Error: reindex.ReindexFailed, Cause: "reindex check: ReindexFailed: task " + st.TaskID + ": 1 documents failed"}
	return st
}

// The rollback sample, after the sample start: the copy is stopped, the destination
// deleted, the source writable again.
func TestRollbackEventAgainstTheNode(t *testing.T) {
	if *update {
		t.Skip("the events are being rewritten")
	}
	r := newRig(t, "rollback")
	r.seed(false)
	for _, step := range []string{"validate", "preflight", "block", "create", "start"} {
		st := r.mustInvoke(step, r.event(step))
		r.task = st.TaskID
	}
	st := r.mustInvoke("rollback", r.event("rollback"))
	if st.Status != reindex.StatusRolledBack || st.Error == nil {
		t.Errorf("rollback: %+v", st)
	}
	if code, _ := r.do("HEAD", "/"+r.source+"-r20261125", nil); code != http.StatusNotFound {
		t.Errorf("destination still exists (HTTP %d)", code)
	}
	if code, out := r.do("PUT", "/"+r.source+"/_doc/after", map[string]any{"message": "x"}); code/100 != 2 {
		t.Errorf("source not writable: %d %v", code, out)
	}
}

// The stable error names arrive as errorType.
func TestErrorTypes(t *testing.T) {
	r := newRig(t, "errors")
	r.seed(true)
	cases := []struct {
		name, payload, want string
	}{
		{"typo", `{"sorce":"x"}`, reindex.InvalidRequest},
		{"wildcard", `{"source":"logs-*"}`, reindex.InvalidRequest},
		{"system index", `{"source":".security"}`, reindex.InvalidRequest},
		{"missing source", `{"step":"preflight","source":"` + r.source + `-missing","dest":"` + r.source + `-missing-r1","run":"r1","mode":"alias"}`, reindex.InvalidRequest},
		{"not ours", `{"source":"` + r.source + `-zz","dest":"` + r.source + `","run":"r1"}`, reindex.NotOurs},
	}
	for _, c := range cases {
		_, err := r.invoke([]byte(c.payload))
		if got := errorType(t, err); got != c.want {
			t.Errorf("%s: errorType %q (%v), want %q", c.name, got, err, c.want)
		}
	}

	// The copy fails on the document whose status code is "OK".
	st, err := r.invoke(r.event("workflow"))
	pause := pacer(t, "the failing copy")
	for err == nil && st.Next != "" {
		st, err = r.invoke(mustJSON(t, st))
		if st.Status == reindex.StatusRunning {
			pause()
		}
	}
	if got := errorType(t, err); got != reindex.ReindexFailed {
		t.Fatalf("failing copy: errorType %q (%v)", got, err)
	}

	// A run whose task id names a task Elasticsearch does not know.
	st, _ = r.invoke(r.event("workflow"))
	for st.Next != reindex.StepCheck {
		if st, err = r.invoke(mustJSON(t, st)); err != nil {
			t.Fatal(err)
		}
	}
	lost := st
	lost.TaskID = strings.Split(st.TaskID, ":")[0] + ":987654321"
	_, err = r.invoke(mustJSON(t, lost))
	if got := errorType(t, err); got != reindex.TaskLost {
		t.Errorf("lost task: errorType %q (%v)", got, err)
	}
	// Rolling back that run works from the same state.
	rb := st
	rb.Step = reindex.StepRollback
	if _, err := r.invoke(mustJSON(t, rb)); err != nil {
		t.Fatal(err)
	}
}

// A count mismatch reaches Step Functions as CountMismatch.
func TestCountMismatchErrorType(t *testing.T) {
	r := newRig(t, "mismatch")
	r.seed(false)
	st, err := r.invoke(r.event("workflow"))
	pause := pacer(t, "the copy before verify")
	for err == nil && st.Next != reindex.StepVerify {
		st, err = r.invoke(mustJSON(t, st))
		if st.Status == reindex.StatusRunning {
			pause()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	r.do("PUT", "/"+st.Dest+"/_doc/intruder", map[string]any{"message": "not from the source"})
	_, err = r.invoke(mustJSON(t, st))
	if got := errorType(t, err); got != reindex.CountMismatch {
		t.Errorf("errorType %q (%v), want CountMismatch", got, err)
	}
}

// pacer paces a loop that invokes check until the copy is done (the state machine's Wait,
// shortened), and fails the test once the loop has run for two minutes: every polling loop
// has a deadline.
func pacer(t *testing.T, what string) func() {
	end := time.Now().Add(2 * time.Minute)
	return func() {
		t.Helper()
		if time.Now().After(end) {
			t.Fatalf("%s: still running after two minutes", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Both workflow inputs run to the end through the handler alone, feeding each output back
// in as the state machine does (Choice on next; Wait wait_seconds while status is running).
func TestWorkflowsThroughTheHandler(t *testing.T) {
	for _, name := range []string{"workflow", "workflow-rename-back"} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, strings.ReplaceAll(name, "workflow", "wf"))
			r.seed(false)
			st := r.mustInvoke(name, r.event(name))
			invocations := 1
			pause := pacer(t, name)
			for st.Next != "" {
				if st.Status == reindex.StatusRunning {
					if st.WaitSeconds != 10 {
						t.Fatalf("wait_seconds = %d, want REINDEX_POLL_SECONDS=10", st.WaitSeconds)
					}
					pause()
				}
				st = r.mustInvoke(string(st.Next), mustJSON(t, st))
				invocations++
			}
			if st.Status != reindex.StatusDone || *st.ToCount != sampleDocs {
				t.Fatalf("final state: status %q to_count %d", st.Status, *st.ToCount)
			}
			_, cnt := r.do("GET", "/"+r.source+"/_count", nil)
			_, errs := r.do("GET", "/"+r.source+"-errors/_count", nil)
			_, m := r.do("GET", "/"+r.source+"/_mapping/field/http.response.status_code", nil)
			if cnt["count"] != float64(sampleDocs) || errs["count"] != float64(sampleDocs/3) || !strings.Contains(fmt.Sprint(m), "type:long") {
				t.Errorf("after %d invocations: count %v, filtered alias %v, mapping %v", invocations, cnt["count"], errs["count"], m)
			}
			b, _ := json.Marshal(st)
			if len(b) > 8<<10 {
				t.Errorf("final state is %d bytes; it should stay a few KiB", len(b))
			}
		})
	}
}
