package s3test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestRoundTripRangeAndList(t *testing.T) {
	s := New(t)
	s.CreateBucket(t, "logs")
	s.Put(t, "logs", "a/b c+d.log", []byte("line one\nline two\n"))
	s.Put(t, "logs", "a/second.log", []byte("x"))
	s.Put(t, "logs", "z/other.log", []byte("y"))

	if got := string(s.Get(t, "logs", "a/b c+d.log")); got != "line one\nline two\n" {
		t.Fatalf("Get = %q", got)
	}
	out, err := s.Client.GetObject(context.Background(), &s3.GetObjectInput{
		Bucket: aws.String("logs"), Key: aws.String("a/b c+d.log"), Range: aws.String("bytes=9-"),
	})
	if err != nil {
		t.Fatalf("ranged get: %v", err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "line two\n" {
		t.Fatalf("ranged body = %q, want the second line", b)
	}
	keys := s.List(t, "logs", "a/")
	if len(keys) != 2 || keys[0] != "a/b c+d.log" || keys[1] != "a/second.log" {
		t.Fatalf("List = %q", keys)
	}
	if !s.Exists(t, "logs", "z/other.log") || s.Exists(t, "logs", "missing") {
		t.Fatal("Exists disagrees with what was stored")
	}
}

func TestMissingObjectIsNoSuchKey(t *testing.T) {
	s := New(t)
	s.CreateBucket(t, "logs")
	_, err := s.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("logs"), Key: aws.String("nope")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("err = %v, want *types.NoSuchKey", err)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "elb-logs", "AWSLogs", "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "elb-logs", "AWSLogs", "1", "a b.log"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := New(t)
	if err := s.LoadDir(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if got := string(s.Get(t, "elb-logs", "AWSLogs/1/a b.log")); got != "hello\n" {
		t.Fatalf("got %q", got)
	}
}
