// Package s3test runs a real S3-protocol server in-process (gofakes3 with its in-memory
// backend behind httptest) and hands out the real aws-sdk-go-v2 client pointed at it, so
// tests exercise the same request signing, ranged GETs, paging and error decoding as AWS.
package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Region is the region the client signs for; gofakes3 accepts any.
const Region = "us-east-1"

// Server is an in-process S3 endpoint.
type Server struct {
	// URL is the endpoint (http://127.0.0.1:PORT), for clients built elsewhere
	// (AWS_ENDPOINT_URL_S3 plus path-style addressing).
	URL string
	// Client is the real SDK client, path-style, with static credentials.
	Client *s3.Client

	srv *httptest.Server
}

// New starts a server that stops when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a server outside tests (`logferry invoke -s3-dir`); Close stops it.
func Start() *Server {
	faker := gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(false))
	srv := httptest.NewUnstartedServer(faker.Server())
	// gofakes3 writes a second header on some errors (a 404 GET); net/http logs each one.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	return &Server{URL: srv.URL, Client: NewClient(srv.URL), srv: srv}
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// LoadDir serves a directory tree: each top-level directory is a bucket, and each file
// below it an object whose key is its path inside that directory.
func (s *Server) LoadDir(ctx context.Context, dir string) error {
	tops, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, top := range tops {
		if !top.IsDir() {
			continue
		}
		bucket := top.Name()
		if _, err := s.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
			return fmt.Errorf("create bucket %q: %w", bucket, err)
		}
		root := filepath.Join(dir, bucket)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			key := filepath.ToSlash(rel)
			_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: f, ContentLength: aws.Int64(fi.Size())})
			if err != nil {
				return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// NewClient returns an SDK client for an S3-protocol endpoint such as a Server's URL.
func NewClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		// gofakes3 predates the flexible-checksum defaults of late 2024 SDKs.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// CreateBucket creates a bucket or fails the test.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if _, err := s.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("s3test: create bucket %q: %v", name, err)
	}
}

// Put stores an object or fails the test.
func (s *Server) Put(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	_, err := s.Client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		t.Fatalf("s3test: put s3://%s/%s: %v", bucket, key, err)
	}
}

// Get returns an object's body or fails the test.
func (s *Server) Get(t testing.TB, bucket, key string) []byte {
	t.Helper()
	out, err := s.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("s3test: get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("s3test: read s3://%s/%s: %v", bucket, key, err)
	}
	return b
}

// List returns every key under prefix, in S3's (lexicographic) order, following pages.
func (s *Server) List(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("s3test: list s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// Exists reports whether an object exists.
func (s *Server) Exists(t testing.TB, bucket, key string) bool {
	t.Helper()
	_, err := s.Client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err == nil {
		return true
	}
	var nf interface{ ErrorCode() string }
	if errors.As(err, &nf) && (nf.ErrorCode() == "NotFound" || nf.ErrorCode() == "NoSuchKey") {
		return false
	}
	t.Fatalf("s3test: head s3://%s/%s: %v", bucket, key, err)
	return false
}
