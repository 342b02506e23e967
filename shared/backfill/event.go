package backfill

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The S3 event notification message, field for field as S3 sends it to an SQS queue
// (event version 2.1). aws-lambda-go's events.S3Event would add "urlDecodedKey", which S3
// never sends, so the message has types of its own.
type notification struct {
	Records []record `json:"Records"`
}

type record struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      principal         `json:"userIdentity"`
	RequestParameters map[string]string `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	S3                entity            `json:"s3"`
}

type principal struct {
	PrincipalID string `json:"principalId"`
}

type entity struct {
	SchemaVersion   string       `json:"s3SchemaVersion"`
	ConfigurationID string       `json:"configurationId"`
	Bucket          bucketEntity `json:"bucket"`
	Object          objectEntity `json:"object"`
}

type bucketEntity struct {
	Name          string    `json:"name"`
	OwnerIdentity principal `json:"ownerIdentity"`
	ARN           string    `json:"arn"`
}

type objectEntity struct {
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ETag      string `json:"eTag"`
	Sequencer string `json:"sequencer"`
}

// ConfigurationID names the notification in every message a backfill sends, so that a
// message on the queue (or in its dead-letter queue) tells where it came from.
const ConfigurationID = "logferry-backfill"

// Object is one listed log object.
type Object struct {
	Bucket       string
	Key          string // as stored (not URL-encoded)
	Size         int64
	ETag         string // without quotes
	LastModified time.Time
}

// EncodeKey encodes a key as S3 does in event notifications: form encoding (space is "+",
// "+" is "%2B") with "/" left as it is.
func EncodeKey(key string) string {
	return strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
}

// Message is the body S3 would send to the queue for an ObjectCreated:Put of o in region.
// The handler reads bucket and key from it; the rest is there so that anything else
// reading the queue sees what S3 sends.
func Message(o Object, region string) (string, error) {
	if o.Bucket == "" || o.Key == "" {
		return "", fmt.Errorf("backfill: object without bucket or key (%q, %q)", o.Bucket, o.Key)
	}
	t := o.LastModified.UTC()
	if t.IsZero() {
		t = time.Now().UTC()
	}
	n := notification{Records: []record{{
		EventVersion:      "2.1",
		EventSource:       "aws:s3",
		AWSRegion:         region,
		EventTime:         t.Format("2006-01-02T15:04:05.000Z"),
		EventName:         "ObjectCreated:Put",
		UserIdentity:      principal{PrincipalID: ConfigurationID},
		RequestParameters: map[string]string{"sourceIPAddress": "127.0.0.1"},
		ResponseElements:  map[string]string{"x-amz-request-id": ConfigurationID, "x-amz-id-2": ConfigurationID},
		S3: entity{
			SchemaVersion:   "1.0",
			ConfigurationID: ConfigurationID,
			Bucket:          bucketEntity{Name: o.Bucket, OwnerIdentity: principal{PrincipalID: ConfigurationID}, ARN: "arn:aws:s3:::" + o.Bucket},
			Object: objectEntity{
				Key: EncodeKey(o.Key), Size: o.Size, ETag: strings.Trim(o.ETag, `"`),
				// S3's sequencer orders events of one key; the modification time does that here.
				Sequencer: fmt.Sprintf("%016X", t.UnixNano()),
			},
		},
	}}}
	b, err := json.Marshal(n)
	return string(b), err
}
