package ingestevent

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logferry/logferry/shared/escape"
	"github.com/logferry/logferry/shared/ingest"
)

// Continuation is the message a run that stopped before its deadline sends so that the
// rest of an object is shipped by the next invocation. It is the whole event when the
// function re-invokes itself, and the body of an SQS message otherwise.
type Continuation struct {
	Object ingest.Object `json:"logferry_continuation"`
}

// eventShape tells the event kinds apart before decoding them properly.
type eventShape struct {
	Records []struct {
		EventSource string `json:"eventSource"`
	} `json:"Records"`
	DetailType   string         `json:"detail-type"`
	Source       string         `json:"source"`
	Continuation *ingest.Object `json:"logferry_continuation"`
	// S3's test message, sent when a notification is configured: {"Event":"s3:TestEvent",…}.
	Event string `json:"Event"`
	// An SNS notification inside an SQS body (S3 → SNS → SQS without raw delivery).
	Type    string `json:"Type"`
	Message string `json:"Message"`
}

// eventBridgeS3 is the detail of an EventBridge "Object Created" event.
type eventBridgeS3 struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key  string `json:"key"`
		Size int64  `json:"size"`
	} `json:"object"`
}

// objectsIn returns the objects one event (or one SQS message body) asks to ship. An
// empty list with a nil error means the event carries no work (a test message).
func objectsIn(raw []byte) (objs []ingest.Object, err error) {
	var shape eventShape
	if err := json.Unmarshal(raw, &shape); err != nil {
		return nil, badJSON("event is not JSON", err)
	}
	switch {
	case shape.Continuation != nil:
		c := *shape.Continuation
		if c.Bucket == "" || c.Key == "" || c.Offset < 0 {
			return nil, fmt.Errorf("continuation without bucket, key or a valid offset: %s", escape.Prefix(raw, escape.DefaultPrefix))
		}
		return []ingest.Object{c}, nil
	case shape.Event == "s3:TestEvent":
		return nil, nil
	case shape.Type == "Notification" && shape.Message != "":
		return objectsIn([]byte(shape.Message))
	case shape.DetailType != "":
		if shape.Source != "aws.s3" || shape.DetailType != "Object Created" {
			return nil, fmt.Errorf("unsupported EventBridge event \"%s\" from \"%s\" (want \"Object Created\" from aws.s3)",
				escape.String(shape.DetailType, 64), escape.String(shape.Source, 64))
		}
		var ev struct {
			Detail eventBridgeS3 `json:"detail"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, badJSON("EventBridge event", err)
		}
		key, err := decodeKey(ev.Detail.Object.Key)
		if err != nil {
			return nil, err
		}
		if ev.Detail.Bucket.Name == "" || key == "" {
			return nil, fmt.Errorf("EventBridge event without bucket or key")
		}
		return []ingest.Object{{Bucket: ev.Detail.Bucket.Name, Key: key}}, nil
	case len(shape.Records) > 0:
		var ev events.S3Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, badJSON("S3 event", err)
		}
		for i, r := range ev.Records {
			if r.EventSource != "aws:s3" {
				return nil, fmt.Errorf("record %d comes from \"%s\", want aws:s3", i, escape.String(r.EventSource, 64))
			}
			if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
				continue // deletions, restores, lifecycle: nothing to ship
			}
			// An object always has a bucket: a record without one names nothing to read,
			// and must never be taken for a path on this machine.
			if r.S3.Bucket.Name == "" || r.S3.Object.URLDecodedKey == "" {
				return nil, fmt.Errorf("record %d (%s) has no bucket name or no object key", i, r.EventName)
			}
			// events.S3Object decodes the key with url.QueryUnescape ("+" is a space).
			objs = append(objs, ingest.Object{Bucket: r.S3.Bucket.Name, Key: r.S3.Object.URLDecodedKey})
		}
		return objs, nil
	}
	return nil, fmt.Errorf("unrecognised event: want an S3 notification, an SQS message carrying one, an EventBridge \"Object Created\" event or a logferry continuation")
}

// decodeKey undoes the URL encoding S3 applies to keys in notifications.
func decodeKey(k string) (string, error) {
	d, err := url.QueryUnescape(k)
	if err != nil {
		return "", fmt.Errorf("object key \"%s\" is not URL-encoded properly: %w", escape.String(k, escape.DefaultPrefix), err)
	}
	return d, nil
}

// badJSON reports an event encoding/json refused. Its message is cut short and escaped:
// json quotes a number literal it cannot store whole ("cannot unmarshal number 1111…"),
// and the literal is the sender's, of any length.
func badJSON(what string, err error) error {
	return fmt.Errorf("%s: %s", what, escape.String(err.Error(), 2*escape.DefaultPrefix))
}
