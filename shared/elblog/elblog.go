// Package elblog turns Elastic Load Balancing log lines (Classic ELB, ALB and NLB access
// logs, ALB connection logs) into ECS JSON documents, as docs/elb-documents.md
// describes, appending to a caller's buffer without allocating per line.
package elblog

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Source describes the object the lines come from.
type Source struct {
	Bucket, Key     string // Key decoded (not URL-encoded); Bucket "" for local files
	IncludeOriginal bool   // also set event.original on lines that parsed
}

// Result describes one appended document.
type Result struct {
	Time int64 // @timestamp as Unix nanoseconds; 0 when the line had none
	Err  error // non-nil when the line failed to parse
}

// Encoder encodes the lines of one object. It is not safe for concurrent use.
type Encoder struct {
	src      Source
	idPrefix []byte // DocumentID up to the offset
	// cloudLogHead is `"cloud":{…},"log":{"file":{"path":…},"offset":`, the offset to follow.
	cloudLogHead []byte
	s3           []byte // `"s3":{...}`
	idHead       []byte // `","@metadata":{"_id":"` and the id prefix, the offset to follow
	room         int    // what a document needs besides 4 bytes a byte of the line (appendDoc)

	fields fields
	times  timeCache
	rec    record
	// plain is set when no byte of the line needs JSON escaping (the whole line was
	// checked at once), so strings are copied as they are.
	plain bool
	// dirty is the span of the line holding what needs escaping (tokenize) and lineCap
	// its capacity: a value's offset in the line is lineCap-cap(value) (see clean).
	dirty   span
	lineCap int
	scratch []byte            // decoded NLB domain names
	offset  [window + 20]byte // the line's offset in digits (formatOffset)
}

// NewEncoder precomputes the per-object parts of every document (id prefix, cloud.*,
// log.file.path, aws.s3.*) so that Append only deals with the line.
func NewEncoder(src Source) *Encoder {
	e := &Encoder{src: src, idPrefix: []byte(idPrefix(src.Bucket, src.Key))}

	b := []byte(`"cloud":{"provider":"aws"`)
	if acct, region, ok := keyAccountRegion(src.Key); ok {
		b = append(b, `,"account":{"id":`...)
		b = appendString(b, []byte(acct))
		b = append(b, `},"region":`...)
		b = appendString(b, []byte(region))
	}
	b = append(b, `},"log":{"file":{"path":`...)
	path := src.Key
	if src.Bucket != "" {
		path = "s3://" + src.Bucket + "/" + src.Key
	}
	b = appendString(b, []byte(path))
	e.cloudLogHead = append(b, `},"offset":`...)

	b = []byte(`"s3":{`)
	if src.Bucket != "" {
		b = append(b, `"bucket":{"name":`...)
		b = appendString(b, []byte(src.Bucket))
		b = append(b, `},`...)
	}
	b = append(b, `"object":{"key":`...)
	b = appendString(b, []byte(src.Key))
	e.s3 = append(b, `}}`...)
	e.idHead = append([]byte(`","@metadata":{"_id":"`), e.idPrefix...)
	e.room = constRoom + len(e.idHead) + len(e.cloudLogHead) + len(e.s3)
	return e
}

// idPrefix is the per-object part of a document id: 128 bits of SHA-256 over bucket and
// key, so that ids stay short, fixed-size and free of characters that need escaping.
func idPrefix(bucket, key string) string {
	h := sha256.Sum256([]byte(bucket + "/" + key))
	return hex.EncodeToString(h[:16]) + "-"
}

// DocumentID is the id Append writes to @metadata._id for the line at offset: the same
// line of the same object always gets the same id, so redelivery overwrites.
func DocumentID(bucket, key string, offset int64) string {
	return idPrefix(bucket, key) + strconv.FormatInt(offset, 10)
}

// keyAccountRegion finds <account> and <region> in …/AWSLogs/<account>/elasticloadbalancing/<region>/….
func keyAccountRegion(key string) (account, region string, ok bool) {
	for from := 0; ; {
		j := strings.Index(key[from:], "AWSLogs/")
		if j < 0 {
			return "", "", false
		}
		i := from + j
		if i == 0 || key[i-1] == '/' {
			parts := strings.SplitN(key[i+len("AWSLogs/"):], "/", 4)
			if len(parts) == 4 && parts[0] != "" && parts[1] == "elasticloadbalancing" && parts[2] != "" {
				return parts[0], parts[2], true
			}
		}
		from = i + 1
	}
}

// Kind is what an object holds, judged from its key.
type Kind int

const (
	KindUnknown       Kind = iota // not an ELB log: report an error naming the key
	KindAccessLog                 // Classic (.log) or ALB/NLB (.log.gz) access log
	KindConnectionLog             // ALB connection log (file name starts with conn_log.)
	KindTestFile                  // ELBAccessLogTestFile written when logging is enabled: skip
)

func (k Kind) String() string {
	switch k {
	case KindAccessLog:
		return "access log"
	case KindConnectionLog:
		return "connection log"
	case KindTestFile:
		return "test file"
	}
	return "unknown"
}

// Classify tells from an object key (decoded) what the object holds.
func Classify(key string) Kind {
	name := key[strings.LastIndexByte(key, '/')+1:]
	switch {
	case name == "ELBAccessLogTestFile":
		return KindTestFile
	case !strings.HasSuffix(name, ".log") && !strings.HasSuffix(name, ".log.gz"):
		return KindUnknown
	case strings.HasPrefix(name, "conn_log."):
		return KindConnectionLog
	}
	return KindAccessLog
}
