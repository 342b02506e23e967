package backfill

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ListAPI is the part of *s3.Client a listing needs.
type ListAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// The ELB key layout: [prefix/]AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/<file>.
const (
	awsLogs = "AWSLogs/"
	elbPart = "elasticloadbalancing/"
	dayFmt  = "2006/01/02/"
)

// prefixes returns what to list, in key order: the prefix itself when no dates are given;
// otherwise one prefix per account, region and day in [from, to] found under the prefix, so a
// backfill of two days in a bucket holding years lists two days. prefix may stop anywhere:
// before AWSLogs/ (the load balancer's log prefix), inside it, or inside a date.
func prefixes(ctx context.Context, c ListAPI, bucket, prefix string, from, to time.Time) ([]string, error) {
	if from.IsZero() && to.IsZero() {
		return []string{prefix}, nil
	}
	if from.IsZero() || to.Before(from) {
		return nil, fmt.Errorf("backfill: want --from ≤ --to, got %s..%s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	root := prefix
	if i := strings.Index(prefix, awsLogs); i >= 0 {
		root = prefix[:i]
	} else if prefix != "" && !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("backfill: with --from/--to the prefix %q must be the load balancer's log prefix (a folder holding AWSLogs/) or lie under AWSLogs/", prefix)
	}
	// compatible keeps the listings that can hold keys under prefix: either one is a
	// prefix of the other.
	compatible := func(p string) bool { return strings.HasPrefix(p, prefix) || strings.HasPrefix(prefix, p) }
	accounts, err := folders(ctx, c, bucket, root+awsLogs, compatible)
	if err != nil {
		return nil, err
	}
	if len(accounts) == 0 {
		return nil, fmt.Errorf("backfill: no AWSLogs/<account>/ folder under s3://%s/%s: with --from/--to give the load balancer's log prefix", bucket, root)
	}
	var days []string
	for d := from.UTC().Truncate(24 * time.Hour); !d.After(to); d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format(dayFmt))
	}
	var out []string
	for _, a := range accounts {
		regions, err := folders(ctx, c, bucket, a+elbPart, compatible)
		if err != nil {
			return nil, err
		}
		for _, r := range regions {
			for _, d := range days {
				if p := r + d; compatible(p) {
					out = append(out, p)
				}
			}
		}
	}
	sort.Strings(out) // already in order (sorted folders, zero-padded dates); kept as the contract
	return out, nil
}

// folders lists the "subfolders" of p (common prefixes with delimiter "/") that keep is true of.
func folders(ctx context.Context, c ListAPI, bucket, p string, keep func(string) bool) ([]string, error) {
	var out []string
	pg := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &p, Delimiter: aws.String("/")})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("backfill: listing s3://%s/%s: %w", bucket, p, err)
		}
		for _, cp := range page.CommonPrefixes {
			if f := aws.ToString(cp.Prefix); keep(f) {
				out = append(out, f)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// errStop ends a listing early without being an error.
var errStop = errors.New("stop listing")

// list calls fn with every object under p whose key is after startAfter (all of them when
// startAfter is ""), in key order.
func list(ctx context.Context, c ListAPI, bucket, p, startAfter string, fn func(Object) error) error {
	in := &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &p}
	if startAfter != "" {
		if startAfter > p && !strings.HasPrefix(startAfter, p) {
			return nil // every key under p sorts before startAfter
		}
		in.StartAfter = &startAfter
	}
	pg := s3.NewListObjectsV2Paginator(c, in)
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("backfill: listing s3://%s/%s: %w", bucket, p, err)
		}
		for _, o := range page.Contents {
			obj := Object{Bucket: bucket, Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size),
				ETag: strings.Trim(aws.ToString(o.ETag), `"`), LastModified: aws.ToTime(o.LastModified)}
			if startAfter != "" && obj.Key <= startAfter {
				continue // S3 honours StartAfter; this keeps the promise with any server
			}
			if err := fn(obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// DayOf returns the yyyy/mm/dd of a key in the ELB layout, or "" for another key.
func DayOf(key string) string {
	i := strings.Index(key, awsLogs)
	if i < 0 {
		return ""
	}
	parts := strings.Split(key[i+len(awsLogs):], "/")
	// <account>/elasticloadbalancing/<region>/yyyy/mm/dd/<file>
	if len(parts) < 7 || parts[1] != strings.TrimSuffix(elbPart, "/") {
		return ""
	}
	d := parts[3] + "/" + parts[4] + "/" + parts[5]
	if _, err := time.Parse("2006/01/02", d); err != nil {
		return ""
	}
	return d
}
