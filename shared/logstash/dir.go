package logstash

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/logferry/logferry/shared/escape"
)

// Dir is a DeadLetter and DeadLetterSource in a local directory, with the layout
// described at batchName. Each batch is written to a temporary file and renamed, so a
// reader never sees half a batch.
type Dir struct {
	root string
}

// NewDir returns a Dir rooted at path, creating the directory if needed.
func NewDir(path string) (*Dir, error) {
	if path == "" {
		return nil, errors.New("logstash: dead-letter directory path is empty")
	}
	if err := os.MkdirAll(path, 0o750); err != nil {
		return nil, fmt.Errorf("logstash: dead-letter directory: %w", err)
	}
	return &Dir{root: path}, nil
}

func (d *Dir) String() string { return "dir " + d.root }

// Put stores b and syncs it to disk.
func (d *Dir) Put(ctx context.Context, b FailedBatch) error {
	body, err := encodeBatch(b)
	if err != nil {
		return err
	}
	full := filepath.Join(d.root, filepath.FromSlash(batchName(b, MaxKeyBytes)))
	if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
		return fmt.Errorf("dead letter %s: %w", full, err)
	}
	f, err := os.CreateTemp(filepath.Dir(full), ".tmp-*")
	if err != nil {
		return fmt.Errorf("dead letter %s: %w", full, err)
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), full)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("dead letter %s: %w", full, err)
	}
	return nil
}

// List returns the stored batches, sorted by name (by day, then source, then time).
func (d *Dir) List(ctx context.Context) ([]string, error) {
	var names []string
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), Ext) && !strings.HasPrefix(e.Name(), ".") {
			rel, err := filepath.Rel(d.root, p)
			if err != nil {
				return err
			}
			names = append(names, filepath.ToSlash(rel))
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing dead letters in %s: %w", d.root, err)
	}
	sort.Strings(names)
	return names, nil
}

func (d *Dir) path(name string) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(name)) || !strings.HasSuffix(name, Ext) {
		return "", fmt.Errorf("dead letter %s: %w", escape.Text(name), errNotBatchName)
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

// Get reads one stored batch.
func (d *Dir) Get(ctx context.Context, name string) (FailedBatch, error) {
	p, err := d.path(name)
	if err != nil {
		return FailedBatch{}, &BatchError{escape.Text(name), errNotBatchName}
	}
	f, err := os.Open(p)
	if err != nil {
		return FailedBatch{}, &BatchError{escape.Text(p), errors.Unwrap(err)}
	}
	defer f.Close()
	b, err := ReadFailedBatch(bufio.NewReader(f)) // reads at most MaxStoredBatchBytes
	if err != nil {
		return FailedBatch{}, &BatchError{escape.Text(p), err}
	}
	return b, nil
}

// Delete removes one stored batch and the directories it leaves empty.
func (d *Dir) Delete(ctx context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	root := filepath.Clean(d.root)
	for dir := filepath.Dir(p); dir != root && strings.HasPrefix(dir, root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil { // not empty: stop
			break
		}
	}
	return nil
}
