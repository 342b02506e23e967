package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logferry/logferry/shared/escape"
	"github.com/logferry/logferry/shared/ingest"
)

// localFiles serves the local files named on the command line as the objects they stand
// for, so that `ingest` and `parse` run ingest.Run on them like on S3 objects. Only the
// files put here can be read: ingest itself never opens a path.
type localFiles struct {
	paths map[ingest.Object]string // Offset 0
	stdin io.Reader                // served for the path "-"
}

func newLocalFiles(stdin io.Reader) *localFiles {
	return &localFiles{paths: map[ingest.Object]string{}, stdin: stdin}
}

func (l *localFiles) add(obj ingest.Object, path string) { l.paths[obj] = path }

// path returns the file behind obj, for messages.
func (l *localFiles) path(obj ingest.Object) (string, bool) {
	p, ok := l.paths[ingest.Object{Bucket: obj.Bucket, Key: obj.Key}]
	return p, ok
}

// GetObject opens the file, honouring the ranges ingest asks for ("bytes=N-", "bytes=0-1").
func (l *localFiles) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	obj := ingest.Object{Bucket: aws.ToString(in.Bucket), Key: aws.ToString(in.Key)}
	path, ok := l.paths[obj]
	if !ok {
		return nil, fmt.Errorf("%s is not a file given on the command line", obj)
	}
	from, to := int64(0), int64(-1)
	if r := aws.ToString(in.Range); r != "" {
		spec, ok := strings.CutPrefix(r, "bytes=")
		a, b, _ := strings.Cut(spec, "-")
		var err1, err2 error
		from, err1 = strconv.ParseInt(a, 10, 64)
		if b != "" {
			to, err2 = strconv.ParseInt(b, 10, 64)
		}
		if !ok || err1 != nil || err2 != nil || from < 0 {
			return nil, fmt.Errorf("%s: unsupported range %q", path, r)
		}
	}
	if path == "-" {
		if from != 0 || to >= 0 {
			return nil, errors.New("standard input cannot be read from an offset")
		}
		return &s3.GetObjectOutput{Body: io.NopCloser(l.stdin)}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open: %w", unwrapPath(err)) // the caller names the file
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: seek to %d: %w", path, from, err)
	}
	n := max(fi.Size()-from, 0)
	var body io.Reader = f
	if to >= 0 {
		n = min(n, to-from+1)
		body = io.LimitReader(f, n)
	}
	return &s3.GetObjectOutput{Body: readCloser{body, f}, ContentLength: aws.Int64(n)}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// keyFor is the object key a local file stands for, the same however the path is spelled
// (relative, ./, absolute, through its directory): a file under an AWSLogs/ tree keeps the
// key from AWSLogs/ on (prefixed with keyPrefix), as ELB wrote it to S3, so that with the
// bucket named its documents get the Lambda's ids; any other file is named relative to the
// source argument (a file given alone: its base name).
func keyFor(source, path, keyPrefix string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	parts := strings.Split(filepath.ToSlash(abs), "/")
	// The last one: a download folder may itself sit under a folder of that name.
	if i := lastIndex(parts, "AWSLogs"); i >= 0 {
		key := strings.Join(parts[i:], "/")
		if keyPrefix != "" {
			key = strings.TrimSuffix(keyPrefix, "/") + "/" + key
		}
		return key, nil
	}
	root, err := filepath.Abs(source)
	if err != nil {
		return "", err
	}
	if root == abs {
		return filepath.Base(abs), nil
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(rel), nil
}

func lastIndex(s []string, v string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == v {
			return i
		}
	}
	return -1
}

// walk lists the files under root in lexical order, following symbolic links to files and
// directories (downloads are often linked in) and refusing link loops. Whatever it does not
// ship (loops, broken links, sockets, devices) comes back in skipped, with why.
func walk(root string) (files, skipped []string, err error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, nil, err
	}
	var visit func(dir string, ancestors []os.FileInfo) error
	visit = func(dir string, ancestors []os.FileInfo) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			fi, err := os.Stat(p) // follows links
			switch {
			case err != nil && e.Type()&os.ModeSymlink != 0:
				skipped = append(skipped, fmt.Sprintf("%s: broken symbolic link (%v)", p, unwrapPath(err)))
			case err != nil:
				skipped = append(skipped, fmt.Sprintf("%s: %v", p, unwrapPath(err)))
			case fi.IsDir():
				if i := slices.IndexFunc(ancestors, func(a os.FileInfo) bool { return os.SameFile(a, fi) }); i >= 0 {
					skipped = append(skipped, p+": symbolic link loop (leads back to a directory above it)")
					continue
				}
				if err := visit(p, append(ancestors, fi)); err != nil {
					return err
				}
			case fi.Mode().IsRegular():
				files = append(files, p)
			default:
				skipped = append(skipped, fmt.Sprintf("%s: not a regular file (%s)", p, fi.Mode().Type()))
			}
		}
		return nil
	}
	return files, skipped, visit(root, []os.FileInfo{fi})
}

// unwrapPath drops the path a *PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// fileError says err about the local file path rather than the object it stands for:
// Run's errors start with the object's name, and a user who gave a path wants that path,
// once.
func fileError(err error, obj ingest.Object, path string) string {
	msg, path := err.Error(), escape.Text(path) // a file name can hold terminal controls
	if rest, ok := strings.CutPrefix(msg, obj.String()+": "); ok {
		return path + ": " + rest
	}
	return path + ": " + msg
}
