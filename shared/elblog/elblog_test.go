package elblog

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const albKey = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2018/07/02/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.50dc6c495c0c9188_20180702T2225Z_192.168.131.39_2lj5d1oa.log.gz"

// doc encodes line and decodes the result, failing on invalid JSON.
func doc(t *testing.T, e *Encoder, line string) (map[string]any, Result) {
	t.Helper()
	out, res := e.Append(nil, []byte(line), 1234)
	if !json.Valid(out) {
		t.Fatalf("invalid JSON for %q:\n%s", line, out)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m, res
}

// get follows a dotted path through nested objects; ok is false when absent.
func get(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// want maps dotted paths to expected values: string, float64 (JSON number), []any,
// or absent (the field must not be in the document).
type want map[string]any

var absent = struct{}{}

func check(t *testing.T, m map[string]any, w want) {
	t.Helper()
	for path, exp := range w {
		v, ok := get(m, path)
		if exp == absent {
			if ok {
				t.Errorf("%s = %v, want absent", path, v)
			}
			continue
		}
		if !ok {
			t.Errorf("%s absent, want %v", path, exp)
			continue
		}
		gb, _ := json.Marshal(v)
		eb, _ := json.Marshal(exp)
		if string(gb) != string(eb) {
			t.Errorf("%s = %s, want %s", path, gb, eb)
		}
	}
}

// noDottedKeys fails if any object key contains a dot (Logstash addresses [a][b], not "a.b").
func noDottedKeys(t *testing.T, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if strings.Contains(k, ".") {
				t.Errorf("dotted key %q under %q", k, path)
			}
			if s, ok := c.(string); ok && (s == "-" || s == "") && k != "original" && k != "path" {
				t.Errorf("%s.%s = %q: absent fields must be omitted", path, k, s)
			}
			if f, ok := c.(float64); ok && f == -1 {
				t.Errorf("%s.%s = -1: absent fields must be omitted", path, k)
			}
			noDottedKeys(t, c, path+"."+k)
		}
	case []any:
		for _, c := range x {
			noDottedKeys(t, c, path)
		}
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		name string
		line string
		want want
	}{
		{"alb http (AWS docs)", `http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90`,
			want{
				"@timestamp": "2018-07-02T22:23:00.186641Z", "@metadata._id": DocumentID("my-logs", albKey, 1234),
				"event.kind": "event", "event.category": []any{"web"}, "event.outcome": "success",
				"event.dataset": "aws.elb_logs", "event.module": "aws", "event.start": "2018-07-02T22:22:48.364000Z", "event.end": "2018-07-02T22:23:00.186641Z",
				"event.original": absent, "cloud.provider": "aws", "cloud.account.id": "123456789012", "cloud.region": "us-east-2",
				"aws.s3.bucket.name": "my-logs", "aws.s3.object.key": albKey, "log.file.path": "s3://my-logs/" + albKey, "log.offset": 1234.0,
				"aws.elb.type": "http", "aws.elb.name": "app/my-loadbalancer/50dc6c495c0c9188",
				"source.address": "192.168.131.39", "source.ip": "192.168.131.39", "source.port": 2817.0, "source.bytes": absent,
				"aws.elb.backend.ip": "10.0.0.1", "aws.elb.backend.port": 80.0,
				"aws.elb.request_processing_time.sec": 0.0, "aws.elb.backend_processing_time.sec": 0.001, "aws.elb.response_processing_time.sec": 0.0,
				"http.response.status_code": 200.0, "aws.elb.backend.http.response.status_code": 200.0,
				"http.request.body.bytes": 34.0, "http.response.body.bytes": 366.0, "http.request.method": "GET", "http.version": "1.1",
				"url.original": "http://www.example.com:80/", "url.scheme": "http", "url.domain": "www.example.com", "url.port": 80.0, "url.path": "/", "url.query": absent, "url.extension": absent,
				"user_agent.original": "curl/7.46.0", "tls": absent, "aws.elb.ssl_cipher": absent, "aws.elb.protocol": "http",
				"aws.elb.target_group.arn": "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067",
				"aws.elb.trace_id":         "Root=1-58337262-36d228ad5d99923122bbe354", "trace.id": "Root=1-58337262-36d228ad5d99923122bbe354",
				"destination": absent, "aws.elb.chosen_cert": absent, "aws.elb.matched_rule_priority": 0.0,
				"aws.elb.action_executed": []any{"forward"}, "aws.elb.redirect_url": absent, "aws.elb.error": absent,
				"aws.elb.target_port": []any{"10.0.0.1:80"}, "aws.elb.target_status_code": []any{"200"},
				"aws.elb.classification": absent, "aws.elb.connection_trace_id": "TID_1234abcd5678ef90",
			}},
		{"alb https with newest fields", `https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/p/a%20b?x=1&y=2 HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "Acceptable" "-" TID_1234abcd5678ef90 "internal.example.com" "/v2/p/a%20b?x=1&y=2" "TransformSuccess"`,
			want{
				"aws.elb.type": "https", "tls.cipher": "ECDHE-RSA-AES128-GCM-SHA256", "aws.elb.ssl_cipher": "ECDHE-RSA-AES128-GCM-SHA256",
				"tls.version": "1.2", "tls.version_protocol": "tls", "aws.elb.ssl_protocol": "TLSv1.2",
				"destination.domain": "www.example.com", "aws.elb.chosen_cert.arn": "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012",
				"aws.elb.matched_rule_priority": 1.0, "aws.elb.action_executed": []any{"authenticate", "forward"},
				"url.scheme": "https", "url.port": 443.0, "url.path": "/p/a%20b", "url.query": "x=1&y=2",
				"aws.elb.classification": "Acceptable", "aws.elb.classification_reason": absent,
				"aws.elb.transformed_host": "internal.example.com", "aws.elb.transformed_uri": "/v2/p/a%20b?x=1&y=2", "aws.elb.request_transform_status": "TransformSuccess",
				"aws.elb.request_processing_time.sec": 0.086,
			}},
		{"alb h2 redirect (AWS docs)", `h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 10.0.0.66:9000 0.000 0.002 0.000 200 200 5 257 "GET https://10.0.2.105:773/ HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337327-72bd00b0343d75b906739c42" "-" "-" 1 2018-07-02T22:22:48.364000Z "redirect" "https://example.com:80/" "-" "10.0.0.66:9000" "200" "-" "-" TID_1234abcd5678ef90`,
			want{"aws.elb.type": "h2", "http.version": "2.0", "url.domain": "10.0.2.105", "url.port": 773.0,
				"aws.elb.action_executed": []any{"redirect"}, "aws.elb.redirect_url": "https://example.com:80/"}},
		{"alb websocket (AWS docs)", `ws 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:40914 10.0.1.192:8010 0.001 0.003 0.000 101 101 218 587 "GET http://10.0.0.30:80/ HTTP/1.1" "-" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.1.192:8010" "101" "-" "-" TID_1234abcd5678ef90`,
			want{"aws.elb.type": "ws", "http.response.status_code": 101.0, "event.outcome": "success", "user_agent": absent}},
		{"alb secured websocket", `wss 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:44244 10.0.0.171:8010 0.000 0.001 0.000 101 101 218 786 "GET https://10.0.0.30:443/ HTTP/1.1" "-" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.171:8010" "101" "-" "-" TID_1234abcd5678ef90`,
			want{"aws.elb.type": "wss", "url.scheme": "https"}},
		{"alb lambda failed (error reason, no target)", `http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-" TID_1234abcd5678ef90`,
			want{"event.outcome": "failure", "aws.elb.error.reason": "LambdaInvalidResponse", "aws.elb.backend": absent,
				"aws.elb.target_port": absent, "aws.elb.target_status_code": absent}},
		{"alb fixed-response redirect with -1 times", `https 2024-01-09T10:00:00.000001Z app/my-loadbalancer/50dc6c495c0c9188 203.0.113.7:5000 - -1 -1 -1 301 - 120 480 "GET https://www.example.com:443/old HTTP/1.1" "Mozilla/5.0" TLS_AES_128_GCM_SHA256 TLSv1.3 - "Root=1-65ba0e00-0123456789abcdef01234567" "www.example.com" "session-reused" -1 2024-01-09T10:00:00.000000Z "redirect" "https://www.example.com:443/new" "-" "-" "-" "-" "-" "-"`,
			want{"aws.elb.request_processing_time": absent, "aws.elb.backend_processing_time": absent, "aws.elb.response_processing_time": absent,
				"aws.elb.matched_rule_priority": absent, "aws.elb.target_group": absent, "aws.elb.connection_trace_id": absent,
				"aws.elb.chosen_cert.arn": "session-reused", "tls.version": "1.3", "http.response.status_code": 301.0, "event.outcome": "success"}},
		{"alb url with spaces and IPv6 client", `https 2024-01-09T10:00:00.123456Z app/my-loadbalancer/50dc6c495c0c9188 [2001:db8::1]:43210 [2001:db8::ff]:8080 0.001 0.002 0.000 404 404 100 200 "GET https://www.example.com:443/a b c.html?q=x y HTTP/1.1" "UA with \"quotes\"" - - - "-" "-" "-" 0 2024-01-09T10:00:00.100000Z "forward" "-" "-" "[2001:db8::ff]:8080" "404" "Ambiguous" "SpaceInUri" TID_0001`,
			want{"source.ip": "2001:db8::1", "source.port": 43210.0, "aws.elb.backend.ip": "2001:db8::ff", "aws.elb.backend.port": 8080.0,
				"url.original": "https://www.example.com:443/a b c.html?q=x y", "url.path": "/a b c.html", "url.query": "q=x y", "url.extension": "html",
				"http.request.method": "GET", "http.version": "1.1", "event.outcome": "failure",
				"user_agent.original": `UA with \"quotes\"`, "aws.elb.classification_reason": "SpaceInUri"}},
		{"alb unknown trailing fields ignored", `https 2024-01-09T10:00:00.123456Z app/lb/1 1.2.3.4:5 10.0.0.1:80 0.001 0.002 0.000 200 200 1 2 "GET https://e.com:443/ HTTP/1.1" "-" - - - "-" "-" "-" 0 2024-01-09T10:00:00.100000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1 "-" "-" "-" future1 "future two" 42`,
			want{"http.response.status_code": 200.0}},
		{"alb malformed request", `http 2024-01-09T10:00:00.123456Z app/lb/1 1.2.3.4:5 - -1 -1 -1 400 - 0 272 "- http://e.com:80- -" "-" - - - "-" "-" "-" - - "-" "-" "-" "-" "-" "-" "-" -`,
			want{"http.request.method": absent, "http.version": absent, "url.original": "http://e.com:80-", "http.response.status_code": 400.0}},
		{"classic http (AWS docs)", `2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -`,
			want{"@timestamp": "2015-05-13T23:39:43.945958Z", "aws.elb.name": "my-loadbalancer", "aws.elb.type": absent,
				"aws.elb.request_processing_time.sec": 0.000073, "http.request.body.bytes": 0.0, "http.response.body.bytes": 29.0,
				"aws.elb.protocol": "http", "event.category": []any{"web"}}},
		{"classic https (AWS docs)", `2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000086 0.001048 0.001337 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2`,
			want{"tls.cipher": "DHE-RSA-AES128-SHA", "tls.version": "1.2"}},
		{"classic tcp (AWS docs)", `2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 "- - - " "-" - -`,
			want{"source.bytes": 82.0, "destination.bytes": 305.0, "http": absent, "url": absent, "aws.elb.protocol": "tcp",
				"event.category": []any{"network"}, "event.outcome": absent, "user_agent": absent}},
		{"classic ssl (AWS docs)", `2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001065 0.000015 0.000023 - - 57 502 "- - - " "-" ECDHE-ECDSA-AES128-GCM-SHA256 TLSv1.2`,
			want{"source.bytes": 57.0, "destination.bytes": 502.0, "aws.elb.protocol": "tcp", "tls.version": "1.2"}},
		{"classic not dispatched", `2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 - -1 -1 -1 503 0 0 0 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -`,
			want{"aws.elb.backend.ip": absent, "aws.elb.backend.http.response.status_code": 0.0, "aws.elb.request_processing_time": absent, "event.outcome": "failure"}},
		{"classic -1 byte counts (no backend answered)", `2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 - -1 -1 -1 504 - -1 -1 "GET http://www.example.com:80/img/logo.PNG HTTP/1.1" "curl/7.38.0" - -`,
			want{"http.request.body": absent, "http.response.body": absent, "http.response.status_code": 504.0, "url.extension": "PNG",
				"event.end": "2015-05-13T23:39:43.945958Z"}},
		{"classic tcp -1 byte counts", `2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 - -1 -1 -1 - - -1 -1 "- - - " "-" - -`,
			want{"source.bytes": absent, "destination.bytes": absent, "aws.elb.protocol": "tcp"}},
		{"classic old 12-field line", `2014-02-15T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1"`,
			want{"user_agent": absent, "http.response.status_code": 200.0}},
		{"nlb (AWS docs)", `tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com h2 h2 "h2","http/1.1" 2020-02-26T00:03:36`,
			want{"@timestamp": "2018-12-20T02:59:40Z", "aws.elb.type": "tls", "aws.elb.log_version": "2.0", "aws.elb.listener": "g3d4b5e8bb8464cd",
				"aws.elb.name": "net/my-network-loadbalancer/c6e77e28c25b2234", "source.ip": "72.21.218.154", "source.port": 51341.0,
				"aws.elb.backend.ip": "172.100.100.185", "aws.elb.backend.port": 443.0,
				"aws.elb.connection_time.ms": 5.0, "aws.elb.tls_handshake_time.ms": 2.0, "source.bytes": 98.0, "destination.bytes": 246.0,
				"aws.elb.incoming_tls_alert": absent, "aws.elb.chosen_cert.arn": "arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99",
				"aws.elb.chosen_cert.serial": absent, "tls.cipher": "ECDHE-RSA-AES128-SHA", "aws.elb.ssl_protocol": "tlsv12", "tls.version": "1.2",
				"destination.domain":       "my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com",
				"aws.elb.alpn_fe_protocol": "h2", "aws.elb.alpn_be_protocol": "h2", "aws.elb.alpn_client_preference_list": []any{"h2", "http/1.1"},
				"event.start": "2020-02-26T00:03:36Z", "aws.elb.tls_connection_creation_time": "2020-02-26T00:03:36Z",
				"event.end": "2018-12-20T02:59:40Z", "aws.elb.protocol": "tcp",
				"event.category": []any{"network"}, "http": absent, "event.outcome": absent}},
		{"nlb handshake failed, encoded domain", `tls 2.0 2024-03-01T12:00:00 net/my-nlb/c6e77e28c25b2234 g3d4b5e8bb8464cd [2001:db8::7]:51341 10.0.0.5:443 12 - 0 0 UnknownCA - - - - X25519 caf%C3%A9.example.com - - - 2024-03-01T11:59:59`,
			want{"aws.elb.tls_handshake_time": absent, "aws.elb.incoming_tls_alert": "UnknownCA", "aws.elb.ssl_named_group": "X25519", "aws.elb.tls_named_group": "X25519",
				"destination.domain": "café.example.com", "source.ip": "2001:db8::7", "tls": absent}},
		{"alb connection log", `2023-11-14T16:04:28.482101Z 192.0.2.1 18721 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 0.001 "CN=example.com,OU=Eng,O=Example Corp,C=US" NotBefore=2023-08-16T20:24:41Z;NotAfter=2024-08-15T20:24:41Z FEF257E3A03A3C9E Success TID_1234abcd5678ef90`,
			want{"event.dataset": "aws.elb_connection_logs", "source.ip": "192.0.2.1", "source.port": 18721.0, "destination.port": 443.0,
				"client.ip": "192.0.2.1", "client.port": 18721.0, "aws.elb.listener": "443", "aws.elb.protocol": "tcp",
				"event.end": "2023-11-14T16:04:28.482101Z", "aws.elb.ssl_protocol": "TLSv1.2", "aws.elb.ssl_cipher": "ECDHE-RSA-AES128-GCM-SHA256",
				"aws.elb.leaf_client_cert_subject":    "CN=example.com,OU=Eng,O=Example Corp,C=US",
				"aws.elb.leaf_client_cert_not_before": "2023-08-16T20:24:41Z", "aws.elb.leaf_client_cert_not_after": "2024-08-15T20:24:41Z",
				"aws.elb.leaf_client_cert_serial_number": "FEF257E3A03A3C9E", "aws.elb.tls_error_code": absent,
				"tls.version": "1.2", "tls.cipher": "ECDHE-RSA-AES128-GCM-SHA256", "aws.elb.tls_handshake_latency": 0.001,
				"tls.client.x509.subject.distinguished_name": "CN=example.com,OU=Eng,O=Example Corp,C=US",
				"tls.client.x509.not_before":                 "2023-08-16T20:24:41Z", "tls.client.x509.not_after": "2024-08-15T20:24:41Z",
				"tls.client.x509.serial_number": "FEF257E3A03A3C9E", "aws.elb.tls_verify_status": "Success", "event.outcome": "success",
				"aws.elb.connection_trace_id": "TID_1234abcd5678ef90"}},
		{"alb connection log without client cert", `2023-11-14T16:04:28.482101Z 2001:db8::9 18721 443 TLSv1.3 TLS_AES_128_GCM_SHA256 0.000 "-" - - Failed:UnmatchedTrustStore TID_1`,
			want{"tls.client": absent, "event.outcome": "failure", "source.ip": "2001:db8::9", "client.ip": "2001:db8::9",
				"aws.elb.tls_verify_status": "Failed", "aws.elb.tls_error_code": "UnmatchedTrustStore", "aws.elb.leaf_client_cert_subject": absent}},
	}
	e := NewEncoder(Source{Bucket: "my-logs", Key: albKey})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, res := doc(t, e, tc.line)
			if res.Err != nil {
				t.Fatalf("Err = %v", res.Err)
			}
			if res.Time == 0 {
				t.Error("Result.Time = 0")
			}
			check(t, m, tc.want)
			noDottedKeys(t, m, "")
			if _, ok := get(m, "tags"); ok {
				t.Error("tags on a good line")
			}
		})
	}
}

func TestResultTime(t *testing.T) {
	e := NewEncoder(Source{})
	_, res := e.Append(nil, []byte(`2015-05-13T23:39:43.945958Z lb 1.2.3.4:5 - -1 -1 -1 503 0 0 0 "GET http://e:80/ HTTP/1.1" "-" - -`), 0)
	if res.Time != 1431560383945958000 {
		t.Errorf("Time = %d", res.Time)
	}
	_, res = e.Append(nil, []byte(`tls 2.0 2018-12-20T02:59:40 net/n/1 l 1.2.3.4:5 10.0.0.1:443 5 2 98 246`), 0)
	if res.Time != 1545274780000000000 {
		t.Errorf("NLB Time = %d", res.Time)
	}
}

func TestParseFailures(t *testing.T) {
	tests := []struct{ name, line, errHas string }{
		{"empty", "", "empty line"},
		{"garbage", "hello world", "not an ELB log line"},
		{"too few alb fields", `https 2018-07-02T22:23:00.186641Z app/lb/1 1.2.3.4:5`, "at least 13"},
		{"bad time", `http 2018-13-02T22:23:00Z app/lb/1 1.2.3.4:5 - 0 0 0 200 200 1 1 "GET / HTTP/1.1"`, "field time"},
		{"bad client", `http 2018-07-02T22:23:00Z app/lb/1 nonsense - 0 0 0 200 200 1 1 "GET / HTTP/1.1"`, "client:port"},
		{"bad ip", `http 2018-07-02T22:23:00Z app/lb/1 300.1.1.1:5 - 0 0 0 200 200 1 1 "GET / HTTP/1.1"`, "not an IP"},
		{"bad number", `http 2018-07-02T22:23:00Z app/lb/1 1.2.3.4:5 - 0.0.1 0 0 200 200 1 1 "GET / HTTP/1.1"`, "request_processing_time"},
		{"bad status", `http 2018-07-02T22:23:00Z app/lb/1 1.2.3.4:5 - 0 0 0 2x0 200 1 1 "GET / HTTP/1.1"`, "elb_status_code"},
		{"unterminated quote", `http 2018-07-02T22:23:00Z app/lb/1 1.2.3.4:5 - 0 0 0 200 200 1 1 "GET / HTTP/1.1`, "not terminated"},
		{"json injection", `"},"x":1,{ "a`, "not a space"},
		{"quote closing a field early", `http 2018-07-02T22:23:00Z app/lb/1 1.2.3.4:5 - 0 0 0 200 200 1 1 "GET /a"b HTTP/1.1" "curl" - -`, `field 13: quoted field starting at byte 65 ends at byte 72 with 'b' after it, not a space`},
		{"unescaped quote in a user agent", `http 2018-07-02T22:23:00Z app/lb/1 1.2.3.4:5 - 0 0 0 200 200 1 1 "GET / HTTP/1.1" "say "hi" x" - -`, "not a space"},
		{"json injection 2", `x"},"x":1,{"a`, "not an ELB log line"},
	}
	e := NewEncoder(Source{Bucket: "b", Key: "k.log"})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, res := doc(t, e, tc.line)
			if res.Err == nil || !strings.Contains(res.Err.Error(), tc.errHas) {
				t.Fatalf("Err = %v, want it to mention %q", res.Err, tc.errHas)
			}
			check(t, m, want{"event.original": tc.line, "error.message": res.Err.Error(), "tags": []any{"_elb_parse_failure"},
				"@metadata._id": DocumentID("b", "k.log", 1234), "log.offset": 1234.0, "aws.s3.object.key": "k.log"})
			noDottedKeys(t, m, "")
		})
	}
}

// A failure after the time parsed keeps @timestamp, so the document lands in the right index.
func TestFailureKeepsTimestamp(t *testing.T) {
	m, res := doc(t, NewEncoder(Source{}), `http 2018-07-02T22:23:00.5Z app/lb/1 1.2.3.4:notaport - 0 0 0 200 200 1 1 "GET / HTTP/1.1"`)
	if res.Err == nil {
		t.Fatal("no error")
	}
	check(t, m, want{"@timestamp": "2018-07-02T22:23:00.5Z"})
	if res.Time == 0 {
		t.Error("Time = 0")
	}
}

func TestAppendFailure(t *testing.T) {
	e := NewEncoder(Source{Bucket: "b", Key: "k"})
	boom := errors.New("line at offset 9 is 2000000 bytes, longer than the 1048576-byte maximum (truncated)")
	out, res := e.AppendFailure([]byte("prefix:"), []byte("xxxx"), 9, boom)
	if !errors.Is(res.Err, boom) || !strings.HasPrefix(string(out), "prefix:{") || !json.Valid(out[7:]) {
		t.Fatalf("out %s err %v", out, res.Err)
	}
	var m map[string]any
	json.Unmarshal(out[7:], &m)
	check(t, m, want{"event.original": "xxxx", "error.message": boom.Error(), "tags": []any{"_elb_parse_failure"}, "log.offset": 9.0})
}

func TestIncludeOriginal(t *testing.T) {
	line := `2015-05-13T23:39:43.945958Z lb 1.2.3.4:5 - -1 -1 -1 503 0 0 0 "GET http://e:80/ HTTP/1.1" "-" - -`
	m, _ := doc(t, NewEncoder(Source{IncludeOriginal: true}), line)
	check(t, m, want{"event.original": line, "aws.s3.bucket": absent, "log.file.path": "", "cloud.account": absent})
}

func TestEscaping(t *testing.T) {
	e := NewEncoder(Source{Bucket: "b\"q", Key: "AWSLogs/1/elasticloadbalancing/r\\x/k\x01.log"})
	ua := "a\\\"b\\c\x00\x1f\t\n\xff\xfe ok é 日本 \u2028"
	line := `2015-05-13T23:39:43.945958Z lb 1.2.3.4:5 - -1 -1 -1 503 0 0 0 "GET http://e:80/ HTTP/1.1" "` + ua + `" - -`
	m, res := doc(t, e, line)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	check(t, m, want{"user_agent.original": "a\\\"b\\c\x00\x1f\t\n\ufffd\ufffd ok é 日本 \u2028", "aws.s3.bucket.name": "b\"q", "cloud.region": "r\\x"})
}

func TestDocumentID(t *testing.T) {
	a := DocumentID("b", "k", 0)
	if a != DocumentID("b", "k", 0) {
		t.Fatal("not deterministic")
	}
	for _, other := range []string{DocumentID("b", "k", 1), DocumentID("b2", "k", 0), DocumentID("b", "k2", 0), DocumentID("", "b/k", 1)} {
		if other == a {
			t.Errorf("collision: %s", a)
		}
	}
	out, _ := NewEncoder(Source{Bucket: "b", Key: "k"}).Append(nil, []byte("x"), 77)
	if !strings.Contains(string(out), `"_id":"`+DocumentID("b", "k", 77)+`"`) {
		t.Errorf("Append id differs from DocumentID: %s", out)
	}
}

func TestClassify(t *testing.T) {
	tests := map[string]Kind{
		"AWSLogs/123456789012/elasticloadbalancing/us-west-2/2014/02/15/123456789012_elasticloadbalancing_us-west-2_my-loadbalancer_20140215T2340Z_172.160.001.192_20sg8hgm.log":          KindAccessLog,
		"p/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2024/05/01/123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234567890abcdef_20240501T0005Z_10.0.0.1_abc.log.gz":      KindAccessLog,
		"AWSLogs/123456789012/elasticloadbalancing/us-east-2/2024/05/01/123456789012_elasticloadbalancing_us-east-2_net.my-nlb.1234567890abcdef_20240501T0005Z_abc.log.gz":                KindAccessLog,
		"AWSLogs/123456789012/elasticloadbalancing/us-east-2/2024/05/01/conn_log.123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234567890abcdef_20240501T0005Z_10.0.0.1_a.log.gz": KindConnectionLog,
		"prefix/AWSLogs/123456789012/ELBAccessLogTestFile":              KindTestFile,
		"ELBAccessLogTestFile":                                          KindTestFile,
		"AWSLogs/123456789012/elasticloadbalancing/us-east-2/notes.txt": KindUnknown,
		"AWSLogs/":  KindUnknown,
		"":          KindUnknown,
		"x.log.bak": KindUnknown,
	}
	for key, k := range tests {
		if got := Classify(key); got != k {
			t.Errorf("Classify(%q) = %v, want %v", key, got, k)
		}
	}
}

func TestCloudFromKey(t *testing.T) {
	for key, w := range map[string][2]string{
		"AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2024/01/01/x.log":            {"111122223333", "eu-west-1"},
		"logs/prod/AWSLogs/111122223333/elasticloadbalancing/ap-south-1/2024/01/01/x.log": {"111122223333", "ap-south-1"},
		"xAWSLogs/111122223333/elasticloadbalancing/eu-west-1/2024/01/01/x.log":           {"", ""},
		"AWSLogs/111122223333/vpcflowlogs/eu-west-1/x.log":                                {"", ""},
		"local/file.log": {"", ""},
	} {
		a, r, _ := keyAccountRegion(key)
		if a != w[0] || r != w[1] {
			t.Errorf("%q: got %q %q, want %q %q", key, a, r, w[0], w[1])
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, wantNS := range map[string]int64{
		"1970-01-01T00:00:00Z":           0,
		"2018-12-20T02:59:40":            1545274780000000000,
		"2024-02-29T23:59:59.999999999Z": 1709251199999999999,
		"2000-03-01T00:00:00.5Z":         951868800500000000,
	} {
		got, ok := parseTime([]byte(in))
		if !ok || got != wantNS {
			t.Errorf("parseTime(%q) = %d %v, want %d", in, got, ok, wantNS)
		}
	}
	for _, bad := range []string{"", "2023-02-29T00:00:00Z", "2024-01-01 00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00Zx", "2024-01-01T00:00:00+01:00"} {
		if _, ok := parseTime([]byte(bad)); ok {
			t.Errorf("parseTime(%q) accepted", bad)
		}
	}
}
