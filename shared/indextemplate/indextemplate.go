// Package indextemplate holds the Elasticsearch composable index template that types the
// documents shared/elblog writes, field by field as the Elastic AWS integration
// (aws.elb_logs) types them, so that the integration's dashboards, saved searches and
// detection rules read logferry's indices unchanged.
//
// Types come from the integration's packages/aws/data_stream/elb_logs/fields/*.yml
// (fields.yml for aws.elb.*, ecs.yml and base-fields.yml for the ECS fields, which take
// ECS's types) and, for the connection-log fields the stored fields.yml predates, from
// the types its ingest pipeline gives them (tls_handshake_latency :float, the certificate
// validity dates through a date processor). Where the integration and ECS would use a
// type the Elasticsearch 7.17 default distribution without X-Pack lacks (wildcard,
// constant_keyword), keyword stands in: the same queries and aggregations work on it.
package indextemplate

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Options say how the template is named and what it applies to. The zero value is the
// default: DefaultName over DefaultPattern, unknown fields mapped to keyword.
type Options struct {
	Name     string   // the template's name (PUT _index_template/<Name>); default DefaultName
	Patterns []string // index patterns it applies to; default []string{DefaultPattern}
	Priority int      // composable-template priority; default DefaultPriority
	// Strict sets dynamic: strict, so an index rejects any field the template does not
	// map. For tests that prove the template covers every field; in production leave it
	// false, so the fields AWS adds later are kept (as keyword).
	Strict bool
}

const (
	DefaultName     = "logferry-elb-logs"
	DefaultPattern  = "elb-logs-*"
	DefaultPriority = 200
	// ignoreAbove bounds indexed keyword values (ECS uses the same): a longer value is
	// kept in _source but not indexed, where a term over 32 KiB would reject the document.
	ignoreAbove = 1024
)

// Field is one leaf of a document and its mapping type.
type Field struct {
	Path string // dotted, as Kibana and the integration name it
	Type string // Elasticsearch mapping type
}

// Fields lists every field shared/elblog writes, with the integration's type. The test
// TestFieldsCoverDocuments keeps it complete against the golden documents.
var Fields = []Field{
	{"@timestamp", "date"},
	{"tags", "keyword"},

	{"event.kind", "keyword"},
	{"event.module", "keyword"},  // constant_keyword in the integration (X-Pack)
	{"event.dataset", "keyword"}, // constant_keyword there; two datasets share these indices
	{"event.category", "keyword"},
	{"event.outcome", "keyword"},
	{"event.start", "date"},
	{"event.end", "date"},
	{"event.original", "keyword-unindexed"},
	{"error.message", "match_only_text"},

	{"cloud.provider", "keyword"},
	{"cloud.account.id", "keyword"},
	{"cloud.region", "keyword"},
	{"log.file.path", "keyword"},
	{"log.offset", "long"},
	{"aws.s3.bucket.name", "keyword"},
	{"aws.s3.object.key", "keyword"},

	{"source.address", "keyword"},
	{"source.ip", "ip"},
	{"source.port", "long"},
	{"source.bytes", "long"},
	{"client.address", "keyword"},
	{"client.ip", "ip"},
	{"client.port", "long"},
	{"destination.domain", "keyword"},
	{"destination.port", "long"},
	{"destination.bytes", "long"},

	{"http.request.method", "keyword"},
	{"http.request.body.bytes", "long"},
	{"http.response.status_code", "long"},
	{"http.response.body.bytes", "long"},
	{"http.version", "keyword"},
	{"url.original", "keyword"}, // wildcard in ECS (X-Pack)
	{"url.scheme", "keyword"},
	{"url.domain", "keyword"},
	{"url.port", "long"},
	{"url.path", "keyword"},
	{"url.extension", "keyword"},
	{"url.query", "keyword"},
	{"url.fragment", "keyword"},
	{"user_agent.original", "keyword"},
	{"trace.id", "keyword"},

	{"tls.cipher", "keyword"},
	{"tls.version", "keyword"},
	{"tls.version_protocol", "keyword"},
	{"tls.client.x509.subject.distinguished_name", "keyword"},
	{"tls.client.x509.serial_number", "keyword"},
	{"tls.client.x509.not_before", "date"},
	{"tls.client.x509.not_after", "date"},

	// aws.elb.*: fields.yml of the integration.
	{"aws.elb.name", "keyword"},
	{"aws.elb.type", "keyword"},
	{"aws.elb.log_version", "keyword"},
	{"aws.elb.listener", "keyword"},
	{"aws.elb.protocol", "keyword"},
	{"aws.elb.request_processing_time.sec", "float"},
	{"aws.elb.backend_processing_time.sec", "float"},
	{"aws.elb.response_processing_time.sec", "float"},
	{"aws.elb.connection_time.ms", "long"},
	{"aws.elb.tls_handshake_time.ms", "long"},
	{"aws.elb.backend.ip", "keyword"},   // keyword there, not ip
	{"aws.elb.backend.port", "keyword"}, // keyword there, not long
	{"aws.elb.backend.http.response.status_code", "long"},
	{"aws.elb.ssl_cipher", "keyword"},
	{"aws.elb.ssl_protocol", "keyword"},
	{"aws.elb.ssl_named_group", "keyword"},
	{"aws.elb.tls_named_group", "keyword"},
	{"aws.elb.chosen_cert.arn", "keyword"},
	{"aws.elb.chosen_cert.serial", "keyword"},
	{"aws.elb.incoming_tls_alert", "keyword"},
	{"aws.elb.target_group.arn", "keyword"},
	{"aws.elb.trace_id", "keyword"},
	{"aws.elb.matched_rule_priority", "keyword"}, // keyword there
	{"aws.elb.action_executed", "keyword"},
	{"aws.elb.redirect_url", "keyword"},
	{"aws.elb.error.reason", "keyword"},
	{"aws.elb.target_port", "keyword"},
	{"aws.elb.target_status_code", "keyword"},
	{"aws.elb.classification", "keyword"},
	{"aws.elb.classification_reason", "keyword"},
	{"aws.elb.connection_trace_id", "keyword"},
	{"aws.elb.transformed_host", "keyword"},
	{"aws.elb.transformed_uri", "keyword"},
	{"aws.elb.request_transform_status", "keyword"},
	{"aws.elb.alpn_fe_protocol", "keyword"},
	{"aws.elb.alpn_be_protocol", "keyword"},
	{"aws.elb.alpn_client_preference_list", "keyword"},
	{"aws.elb.tls_connection_creation_time", "date"},
	// Connection logs (the integration's pipeline: :float, date processors, keywords).
	{"aws.elb.tls_handshake_latency", "float"},
	{"aws.elb.leaf_client_cert_subject", "keyword"},
	{"aws.elb.leaf_client_cert_not_before", "date"},
	{"aws.elb.leaf_client_cert_not_after", "date"},
	{"aws.elb.leaf_client_cert_serial_number", "keyword"},
	{"aws.elb.tls_verify_status", "keyword"},
	{"aws.elb.tls_error_code", "keyword"},
}

// name is the template's name, or the default.
func (o Options) name() string {
	if o.Name != "" {
		return o.Name
	}
	return DefaultName
}

// Template returns the body of PUT _index_template/<name> (which is also what Logstash's
// elasticsearch output takes as its template file with template_api => "composable").
func Template(o Options) (map[string]any, error) {
	patterns := o.Patterns
	if len(patterns) == 0 {
		patterns = []string{DefaultPattern}
	}
	for _, p := range patterns {
		if p == "" || strings.ContainsAny(p, " ,\"\\/") {
			return nil, fmt.Errorf("index pattern %q: want a name with * wildcards, like %s", p, DefaultPattern)
		}
	}
	priority := o.Priority
	if priority == 0 {
		priority = DefaultPriority
	}
	props, err := properties(Fields)
	if err != nil {
		return nil, err
	}
	mappings := map[string]any{
		// A string that looks like a date would otherwise become a date field, and the
		// first document with another value in it would be rejected.
		"date_detection": false,
		"dynamic_templates": []any{
			map[string]any{"strings_as_keyword": map[string]any{
				"match_mapping_type": "string",
				"mapping":            map[string]any{"type": "keyword", "ignore_above": ignoreAbove},
			}},
		},
		"properties": props,
	}
	if o.Strict {
		mappings["dynamic"] = "strict"
	}
	return map[string]any{
		"index_patterns": patterns,
		"priority":       priority,
		"template":       map[string]any{"mappings": mappings},
		"_meta": map[string]any{
			"description": "ELB access and connection logs shipped by logferry, typed as the Elastic AWS integration (aws.elb_logs) types them",
			"managed_by":  "logferry",
			"name":        o.name(),
		},
	}, nil
}

// JSON is Template encoded, indented for reading.
func JSON(o Options) ([]byte, error) {
	t, err := Template(o)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(t, "", "  ")
}

// properties nests dotted fields into a mappings' properties tree.
func properties(fields []Field) (map[string]any, error) {
	root := map[string]any{}
	for _, f := range fields {
		parts := strings.Split(f.Path, ".")
		level := root
		for _, p := range parts[:len(parts)-1] {
			obj, ok := level[p].(map[string]any)
			if !ok {
				if _, leaf := level[p]; leaf {
					return nil, fmt.Errorf("field %s: %s is a leaf and an object", f.Path, p)
				}
				obj = map[string]any{"properties": map[string]any{}}
				level[p] = obj
			}
			level = obj["properties"].(map[string]any)
		}
		leaf := parts[len(parts)-1]
		if _, dup := level[leaf]; dup {
			return nil, fmt.Errorf("field %s listed twice, or also an object", f.Path)
		}
		level[leaf] = mapping(f.Type)
	}
	return root, nil
}

func mapping(typ string) map[string]any {
	switch typ {
	case "keyword":
		return map[string]any{"type": "keyword", "ignore_above": ignoreAbove}
	case "keyword-unindexed":
		// ECS's event.original: kept in _source, never searched (it may be a 1 MiB line).
		return map[string]any{"type": "keyword", "index": false, "doc_values": false}
	}
	return map[string]any{"type": typ}
}
