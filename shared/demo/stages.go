package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logferry/logferry/shared/esnode"
	"github.com/logferry/logferry/shared/lambdaruntime"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
	"github.com/logferry/logferry/shared/motoserver"
)

// state is what the stages hand on to each other.
type state struct {
	esURL, motoURL string
	es             *es
	awsCfg         aws.Config
	s3c            *s3.Client
	sqsc           *sqs.Client
	logstash       *logstashtest.Server
	output         *logstashtest.ElasticsearchOutput
	stack          Stack
	objects        []Object
	fn             *lambdaruntime.Function
	fnLog          *functionLog
	drain          Drain
	prefix         string         // of the daily indices
	template       map[string]any // as installed; nil without logferry template
}

func (r *run) stages(ctx context.Context) error {
	st := &state{prefix: r.cfg.indexPrefix()}
	fmt.Fprintf(r.out, "logferry demo: the deployed pipeline on this machine, no AWS account.\n"+
		"    %d days of ELB logs, about %d lines per object; files in %s\n", r.cfg.Days, r.cfg.LinesPerObject, r.cfg.Dir)
	steps := []struct {
		title string
		f     func(context.Context, *state) error
	}{
		{"start Elasticsearch 7.17 (a real node)", r.startES},
		{"start moto (S3 and SQS protocols)", r.startMoto},
		{"start the Logstash stand-in (NOT Logstash)", r.startLogstash},
		{"index template: logferry template", r.template},
		{"bucket, notifications, queue and DLQ as the CDK stack", r.createStack},
		{"write ELB logs under AWS's key layout", r.writeLogs},
		{"ingest: the Lambda binary behind the SQS mapping", r.ingest},
		{"check: every line is exactly one document", r.checkDocuments},
		{"re-deliver one object", r.redeliver},
		{"backfill one day: logferry backfill", r.backfill},
		{"reindex the daily indices: logferry reindex", r.reindex},
	}
	for _, s := range steps {
		if err := r.step(ctx, s.title, func(ctx context.Context) error { return s.f(ctx, st) }); err != nil {
			return err
		}
	}
	return nil
}

// indexPrefix is the daily indices' prefix: elb-logs-, or with Config.NameSuffix "-t1",
// t1-elb-logs- (in front, so that no elb-logs-* pattern of another test matches them).
func (c Config) indexPrefix() string {
	if c.NameSuffix == "" {
		return "elb-logs-"
	}
	return strings.TrimPrefix(c.NameSuffix, "-") + "-elb-logs-"
}

func (r *run) startES(ctx context.Context, st *state) error {
	if r.cfg.ESURL != "" {
		st.esURL = r.cfg.ESURL
		r.say("using the node at %s", st.esURL)
	} else {
		n, err := esnode.Start(ctx, esnode.Options{Dir: filepath.Join(r.cfg.Dir, "es")})
		if err != nil {
			return err
		}
		r.onStop("Elasticsearch", func() { _ = n.Stop() })
		st.esURL = n.URL
		r.say("Elasticsearch 7.17 at %s (log: %s)", n.URL, filepath.Join(r.cfg.Dir, "es", "esnode.log"))
	}
	st.es = newES(st.esURL)
	r.es = st.es
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := st.es.do(ctx, "GET", "/", nil, &info); err != nil {
		return err
	}
	r.say("version %s", info.Version.Number)
	return nil
}

func (r *run) startMoto(ctx context.Context, st *state) error {
	if r.cfg.MotoURL != "" {
		st.motoURL = r.cfg.MotoURL
		r.say("using the moto server at %s", st.motoURL)
	} else {
		s, err := motoserver.Start(ctx, motoserver.Options{Dir: filepath.Join(r.cfg.Dir, "moto")})
		if err != nil {
			return err
		}
		r.onStop("moto", func() { _ = s.Stop() })
		st.motoURL = s.URL
		r.say("moto at %s: S3, SQS (region %s, account %s)", s.URL, motoserver.Region, motoserver.AccountID)
	}
	st.awsCfg = motoserver.Config(st.motoURL)
	st.s3c = s3.NewFromConfig(st.awsCfg, func(o *s3.Options) { o.UsePathStyle = true })
	st.sqsc = sqs.NewFromConfig(st.awsCfg)
	return nil
}

func (r *run) startLogstash(ctx context.Context, st *state) error {
	st.output = &logstashtest.ElasticsearchOutput{URL: st.esURL, IndexPrefix: st.prefix}
	st.logstash = logstashtest.Start(logstashtest.Options{Output: st.output.Push})
	r.onStop("the Logstash stand-in", st.logstash.Close)
	r.say("%s: this is NOT Logstash (it cannot run here). It is logferry's stand-in for Logstash's", st.logstash.URL)
	r.say("http input (logstashtest: json codec, gzip bodies, 429/413/401 as the plugin answers) with")
	r.say("an elasticsearch output as README's pipeline configures it:")
	r.say(`index => "%s%%{+YYYY.MM.dd}"   document_id => "%%{[@metadata][_id]}"`, st.prefix)
	return nil
}

func (r *run) createStack(ctx context.Context, st *state) error {
	st.stack = DefaultStack(r.cfg.Concurrency)
	st.stack.LogBucket += r.cfg.NameSuffix
	st.stack.DeadLetterBucket += r.cfg.NameSuffix
	st.stack.QueueName += r.cfg.NameSuffix
	st.stack.DLQName += r.cfg.NameSuffix
	if err := st.stack.create(ctx, st.awsCfg); err != nil {
		return err
	}
	s := st.stack
	r.say("bucket s3://%s: ObjectCreated for %s* ending %s → SQS %s", s.LogBucket, s.LogPrefix, strings.Join(s.LogSuffixes, " or "), s.QueueName)
	r.say("queue %s: visibility %d s (6 × the function's %d s), after %d receives → DLQ %s", s.QueueName, 6*s.FunctionTimeoutSec, s.FunctionTimeoutSec, s.MaxReceiveCount, s.DLQName)
	r.say("dead letters: s3://%s/%s", s.DeadLetterBucket, s.DeadLetterPrefix)
	return nil
}

func (r *run) writeLogs(ctx context.Context, st *state) error {
	objs, err := Generate(r.cfg.First, r.cfg.Days, r.cfg.ObjectsPerDay, r.cfg.LinesPerObject)
	if err != nil {
		return err
	}
	st.objects = objs
	type agg struct{ objects, lines, bytes int }
	per := map[string]*agg{}
	for _, o := range objs {
		if err := put(ctx, st.s3c, st.stack.LogBucket, o.Key, o.Body); err != nil {
			return err
		}
		a := per[o.Format]
		if a == nil {
			a = &agg{}
			per[o.Format] = a
		}
		a.objects++
		a.lines += o.Lines()
		a.bytes += len(o.Body)
		r.rep.Objects++
		r.rep.Lines += int64(o.Lines())
	}
	test := fmt.Sprintf("Enable AccessLog for ELB: shop-classic at %s", time.Now().UTC().Format(time.RFC3339))
	if err := put(ctx, st.s3c, st.stack.LogBucket, TestFileKey, []byte(test)); err != nil {
		return err
	}
	names := map[string]string{"alb": "ALB access logs (.log.gz)", "classic": "Classic ELB (.log, plain)", "nlb": "NLB TLS listener (.log.gz)", "conn": "ALB connection logs (.log.gz)"}
	for _, f := range []string{"alb", "classic", "nlb", "conn"} {
		if a := per[f]; a != nil {
			r.say("%-30s %3d objects %7d lines %9d bytes stored", names[f], a.objects, a.lines, a.bytes)
		}
	}
	r.say("and s3://%s/%s (not a log: no notification, skipped by backfill)", st.stack.LogBucket, TestFileKey)
	r.say("e.g. s3://%s/%s", st.stack.LogBucket, objs[0].Key)
	visible, _, err := depth(ctx, st.sqsc, st.stack.QueueURL)
	if err != nil {
		return err
	}
	// S3 also sends one s3:TestEvent when a notification is configured (the function
	// acknowledges and ignores it).
	r.check("one notification per log object", visible == len(objs)+1,
		"%d messages on %s: %d objects and the s3:TestEvent", visible, st.stack.QueueName, len(objs))
	return nil
}

func (r *run) ingest(ctx context.Context, st *state) error {
	logPath := filepath.Join(r.cfg.Dir, "ingest-function.log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	r.onStop("the function's log", func() { _ = f.Close() })
	st.fnLog = newFunctionLog(f)
	s := st.stack
	fn, err := lambdaruntime.Start(ctx, lambdaruntime.Config{
		Name:        "logferry-ingest",
		Bootstrap:   r.cfg.IngestBootstrap,
		Timeout:     time.Duration(s.FunctionTimeoutSec) * time.Second,
		MemoryMiB:   1024,
		Concurrency: r.cfg.Concurrency,
		Region:      motoserver.Region,
		Output:      st.fnLog,
		// What the stack sets (infra/stack/ingest.go), pointed at the stand-ins.
		Env: append(awsEnv(st.motoURL),
			"LOGSTASH_URL="+st.logstash.URL,
			"DEAD_LETTER_URI=s3://"+s.DeadLetterBucket+"/"+s.DeadLetterPrefix,
			"CONTINUATION_QUEUE_URL="+s.QueueURL,
			"DEADLINE_MARGIN=20s",
			"METRICS_NAMESPACE=logferry",
		),
	})
	if err != nil {
		return err
	}
	r.onStop("the ingest function's environments", fn.Stop)
	st.fn = fn
	st.drain = r.cfg.Drain
	if st.drain == nil {
		st.drain = sqspollDrain(st.sqsc)
	}
	r.say("function logferry-ingest: %s, %d execution environments, timeout %d s; log: %s",
		filepath.Base(r.cfg.IngestBootstrap), r.cfg.Concurrency, s.FunctionTimeoutSec, logPath)
	r.say("event source mapping (sqspoll): batches of %d, at most %d at once, batchItemFailures reported", s.BatchSize, s.MaxConcurrency)
	return r.drainQueue(ctx, st, "ingest")
}

// invokeSQS invokes the function with an SQS batch as Lambda's mapping does.
func (st *state) invokeSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	in, err := json.Marshal(ev)
	if err != nil {
		return events.SQSEventResponse{}, err
	}
	out, err := st.fn.Invoke(ctx, in)
	if err != nil {
		return events.SQSEventResponse{}, err
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return resp, fmt.Errorf("the function's answer is not an SQSEventResponse: %w: %.200s", err, out)
	}
	return resp, nil
}

// drainQueue runs the mapping until the queue is empty and reports what the function did.
func (r *run) drainQueue(ctx context.Context, st *state, what string) error {
	before, _ := st.fnLog.metrics()
	begin := time.Now()
	ds, err := st.drain(ctx, st.stack.QueueURL, st.stack, st.invokeSQS)
	if err != nil {
		return err
	}
	after, records := st.fnLog.metrics()
	d := func(k string) int64 { return int64(after[k] - before[k]) }
	el := time.Since(begin)
	r.say("%d invocations, %d messages (%d done, %d left to be redelivered) in %s",
		ds.Batches, ds.Messages, ds.Deleted, ds.Failed, round(el))
	r.say("the function's metrics (EMF, %d records so far): %d lines, %d documents, %d parse failures, %d retries, %d dead-lettered, %d objects failed",
		records, d("Lines"), d("Documents"), d("ParseFailures"), d("Retries"), d("DeadLettered"), d("ObjectsFailed"))
	if secs := el.Seconds(); secs > 0 {
		r.say("%.0f lines/s end to end (S3 → function → stand-in → Elasticsearch)", float64(d("Lines"))/secs)
	}
	failures := ds.Failed + d("DeadLettered") + d("ObjectsFailed") + d("ObjectsRejected")
	r.rep.Failures += failures
	out := st.output.Stats()
	r.check(what+": no failures", failures == 0 && out.Rejected == 0,
		"%d messages left, %d documents dead-lettered, %d objects failed, %d rejected by Elasticsearch %v",
		ds.Failed, d("DeadLettered"), d("ObjectsFailed")+d("ObjectsRejected"), out.Rejected, out.Errors)
	return nil
}

// awsEnv points AWS SDK clients at moto.
func awsEnv(motoURL string) []string {
	return []string{
		"AWS_ENDPOINT_URL=" + motoURL,
		"AWS_REGION=" + motoserver.Region,
		"AWS_DEFAULT_REGION=" + motoserver.Region,
		"AWS_ACCESS_KEY_ID=" + motoserver.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + motoserver.SecretKey,
		"AWS_EC2_METADATA_DISABLED=true",
		"LOGFERRY_S3_PATH_STYLE=1",
	}
}

// days returns the data set's days in order, with their objects.
func days(objs []Object) ([]time.Time, map[time.Time][]Object) {
	by := map[time.Time][]Object{}
	var out []time.Time
	for _, o := range objs {
		if _, ok := by[o.Day]; !ok {
			out = append(out, o.Day)
		}
		by[o.Day] = append(by[o.Day], o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, by
}
