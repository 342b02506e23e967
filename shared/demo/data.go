package demo

import (
	"bytes"
	"fmt"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/logferry/logferry/shared/elblog"
	"github.com/logferry/logferry/shared/elblog/loggen"
)

// Object is one log object as a load balancer writes it to S3.
type Object struct {
	Key     string
	Format  string    // loggen format: alb, classic, nlb, conn
	Day     time.Time // UTC midnight of the day its lines belong to
	Body    []byte    // as stored: gzip for ALB, NLB and connection logs, plain for Classic
	Offsets []int64   // each line's offset in the decompressed object: its document id's last part
}

// Lines is the number of log lines in the object.
func (o Object) Lines() int { return len(o.Offsets) }

// IDs returns the document id of every line, as elblog computes it.
func (o Object) IDs(bucket string) []string {
	ids := make([]string, len(o.Offsets))
	for i, off := range o.Offsets {
		ids[i] = elblog.DocumentID(bucket, o.Key, off)
	}
	return ids
}

// formats are the log formats of the data set with their share of a day's objects. Classic
// ELB writes plain .log objects; ALB, NLB and ALB connection logs are gzipped.
var formats = []struct {
	format string
	share  int // in tenths
}{{"alb", 4}, {"classic", 2}, {"nlb", 2}, {"conn", 2}}

// Account and Region the logs belong to (the key layout's <account>/<region>).
const (
	Account = "123456789012"
	Region  = "eu-west-1"
)

// TestFileKey is the object AWS writes when access logging is enabled; it is not a log.
const TestFileKey = "AWSLogs/" + Account + "/ELBAccessLogTestFile"

// Generate writes the data set: for each of days days from first, about perDay objects
// (at least one of each format), each with about linesPerObject lines (±30%,
// deterministic), timed within its day.
func Generate(first time.Time, days, perDay, linesPerObject int) ([]Object, error) {
	first = time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, time.UTC)
	var objs []Object
	seed := uint64(1)
	for d := range days {
		day := first.AddDate(0, 0, d)
		for _, f := range formats {
			n := max(1, perDay*f.share/10)
			for i := range n {
				seed++
				// Spread the objects over the day; each covers the five minutes before the
				// time in its name, as ALB's and Classic's 5-minute intervals do.
				end := day.Add(time.Duration(1+i*24/n)*time.Hour + 5*time.Minute)
				lines := linesPerObject*7/10 + int(seed*7919%uint64(linesPerObject*6/10+1))
				o, err := generate(f.format, day, end, lines, seed)
				if err != nil {
					return nil, err
				}
				objs = append(objs, o)
			}
		}
	}
	return objs, nil
}

func generate(format string, day, end time.Time, lines int, seed uint64) (Object, error) {
	g, err := loggen.New(format, seed)
	if err != nil {
		return Object{}, err
	}
	g.StartAt(end.Add(-5 * time.Minute))
	var plain bytes.Buffer
	offsets := make([]int64, 0, lines)
	var line []byte
	for range lines {
		offsets = append(offsets, int64(plain.Len()))
		line = g.Append(line[:0])
		plain.Write(line)
		plain.WriteByte('\n')
	}
	o := Object{Key: key(format, end, seed), Format: format, Day: day, Offsets: offsets, Body: plain.Bytes()}
	if format != "classic" {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		if _, err := zw.Write(plain.Bytes()); err != nil {
			return Object{}, err
		}
		if err := zw.Close(); err != nil {
			return Object{}, err
		}
		o.Body = z.Bytes()
	}
	return o, nil
}

// key is the object key AWS gives a log of this format, ending at end:
//
//	AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/<account>_elasticloadbalancing_<region>_<lb>_<yyyymmddThhmmZ>_<node ip>_<random>.log[.gz]
//
// where <lb> is app.<name>.<id> (ALB), net.<name>.<id> (NLB, no node ip) or the name
// (Classic), and connection logs are the ALB's name prefixed with conn_log.
func key(format string, end time.Time, seed uint64) string {
	prefix := fmt.Sprintf("AWSLogs/%s/elasticloadbalancing/%s/%s/", Account, Region, end.Format("2006/01/02"))
	stamp := end.Format("20060102T1504Z")
	rnd := fmt.Sprintf("%04x%04x", seed*2654435761%0xffff, seed*40503%0xffff)
	base := Account + "_elasticloadbalancing_" + Region + "_"
	switch format {
	case "alb":
		return prefix + base + "app.shop-web.50dc6c495c0c9188_" + stamp + "_10.0.1.7_" + rnd + ".log.gz"
	case "conn":
		return prefix + "conn_log." + base + "app.shop-web.50dc6c495c0c9188_" + stamp + "_10.0.1.7_" + rnd + ".log.gz"
	case "nlb":
		return prefix + base + "net.shop-edge.c6e77e28c25b2234_" + stamp + "_" + rnd + ".log.gz"
	}
	return prefix + base + "shop-classic_" + stamp + "_10.0.2.9_" + rnd + ".log"
}
