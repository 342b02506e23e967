package logstash

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logferry/logferry/shared/escape"
)

// S3PutAPI is the part of *s3.Client an S3DeadLetter needs.
type S3PutAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3API is the part of *s3.Client an S3Source needs.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// S3DeadLetter stores failed batches as objects under s3://Bucket/Prefix, named as
// described at batchName; the document count, last status and attempts are also
// object metadata (x-amz-meta-docs, -status, -attempts) for a glance with the console.
type S3DeadLetter struct {
	client         S3PutAPI
	bucket, prefix string
}

// NewS3DeadLetter returns a DeadLetter writing under s3://bucket/prefix.
func NewS3DeadLetter(client S3PutAPI, bucket, prefix string) (*S3DeadLetter, error) {
	if client == nil || bucket == "" {
		return nil, errors.New("logstash: S3 dead letter needs a client and a bucket")
	}
	prefix = normPrefix(prefix)
	// Leave room for the day, some of the source, the hash mark and the file name.
	if room := MaxKeyBytes - len(prefix); room < minNameBytes+64 {
		return nil, fmt.Errorf("logstash: S3 dead-letter prefix is %d bytes: at most %d leave room for batch names within S3's %d-byte key limit",
			len(prefix), MaxKeyBytes-minNameBytes-64, MaxKeyBytes)
	}
	return &S3DeadLetter{client: client, bucket: bucket, prefix: prefix}, nil
}

func (d *S3DeadLetter) String() string { return "s3://" + d.bucket + "/" + d.prefix }

// normPrefix makes "a/b", "/a/b/" and "a/b/" the same folder-like prefix "a/b/".
func normPrefix(p string) string {
	p = strings.TrimLeft(p, "/")
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// Put uploads b; S3 acknowledges a PutObject only once the object is stored durably.
func (d *S3DeadLetter) Put(ctx context.Context, b FailedBatch) error {
	body, err := encodeBatch(b)
	if err != nil {
		return err
	}
	key := d.prefix + batchName(b, MaxKeyBytes-len(d.prefix))
	_, err = d.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(d.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/gzip"),
		Metadata: map[string]string{
			"docs":     strconv.Itoa(len(b.Docs)),
			"status":   strconv.Itoa(b.Status),
			"attempts": strconv.Itoa(b.Attempts),
		},
	})
	if err != nil {
		return fmt.Errorf("dead letter s3://%s/%s: %w", d.bucket, key, err)
	}
	return nil
}

// S3Source reads the batches an S3DeadLetter wrote, for Replay.
type S3Source struct {
	client         S3API
	bucket, prefix string
}

// NewS3Source returns a DeadLetterSource for s3://bucket/prefix.
func NewS3Source(client S3API, bucket, prefix string) (*S3Source, error) {
	if client == nil || bucket == "" {
		return nil, errors.New("logstash: S3 dead-letter source needs a client and a bucket")
	}
	return &S3Source{client: client, bucket: bucket, prefix: normPrefix(prefix)}, nil
}

func (s *S3Source) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// List returns the keys, relative to the prefix, of every batch, sorted.
func (s *S3Source) List(ctx context.Context) ([]string, error) {
	var names []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing dead letters in %s: %w", s, err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			if strings.HasSuffix(k, Ext) {
				names = append(names, strings.TrimPrefix(k, s.prefix))
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// Get reads one batch.
func (s *S3Source) Get(ctx context.Context, name string) (FailedBatch, error) {
	key := s.prefix + name
	where := escape.Text("s3://" + s.bucket + "/" + key) // a listed key can hold anything
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return FailedBatch{}, &BatchError{where, err}
	}
	defer out.Body.Close()
	if n := aws.ToInt64(out.ContentLength); n > maxStoredBatchBytes {
		return FailedBatch{}, &BatchError{where, fmt.Errorf("%d bytes: %w", n, ErrBatchTooLarge)}
	}
	// Not trusting ContentLength alone: read one byte past the cap to see it is exceeded.
	body, err := io.ReadAll(io.LimitReader(out.Body, maxStoredBatchBytes+1))
	if err == nil && int64(len(body)) > maxStoredBatchBytes {
		err = ErrBatchTooLarge
	}
	if err != nil {
		return FailedBatch{}, &BatchError{where, err}
	}
	b, err := ReadFailedBatch(bytes.NewReader(body))
	if err != nil {
		return FailedBatch{}, &BatchError{where, err}
	}
	return b, nil
}

// Delete removes one batch.
func (s *S3Source) Delete(ctx context.Context, name string) error {
	key := s.prefix + name
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("deleting dead letter %s: %w", escape.Text("s3://"+s.bucket+"/"+key), err)
	}
	return nil
}
