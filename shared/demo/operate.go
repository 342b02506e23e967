package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The stages an operator runs with logferry's own commands: install the index template,
// backfill a day, reindex after a mapping change.

func (r *run) templateName() string {
	return "logferry-" + strings.TrimSuffix(r.cfg.indexPrefix(), "-")
}

// template installs what `logferry template` prints as the daily indices' index template.
func (r *run) template(ctx context.Context, st *state) error {
	out, exit, err := r.logferryQuiet(ctx, nil, "template", "--name", r.templateName(), "--pattern", st.prefix+"*")
	if errors.Is(err, errMissing) {
		r.missing("template", "issue 9, branch doc")
		r.say("the daily indices get Elasticsearch's dynamic mappings instead")
		return nil
	}
	if err != nil {
		return err
	}
	if exit != 0 {
		return fmt.Errorf("logferry template exited %d: %s", exit, out)
	}
	var tpl map[string]any
	if err := json.Unmarshal([]byte(out), &tpl); err != nil {
		return fmt.Errorf("logferry template printed no JSON: %w: %.300s", err, out)
	}
	if err := st.es.do(ctx, "PUT", "/_index_template/"+r.templateName(), []byte(out), nil); err != nil {
		return err
	}
	st.template = tpl
	r.say("installed as _index_template/%s for %s* (%d bytes of JSON)", r.templateName(), st.prefix, len(out))
	return nil
}

// backfill re-sends one day's objects to the queue with `logferry backfill`, as after an
// outage, and shows that the second shipment changes no count.
func (r *run) backfill(ctx context.Context, st *state) error {
	dayList, byDay := days(st.objects)
	day := dayList[len(dayList)-1]
	d := day.Format("2006-01-02")
	_, exit, err := r.logferry(ctx, awsEnv(st.motoURL), "backfill", "s3://"+st.stack.LogBucket+"/"+st.stack.LogPrefix,
		"--queue", st.stack.QueueURL, "--from", d, "--to", d)
	if errors.Is(err, errMissing) {
		r.missing("backfill", "issue 11, branch backfill")
		return nil
	}
	if err != nil {
		return err
	}
	r.check("logferry backfill exits 0", exit == 0, "exit status %d", exit)
	var ids [][]string
	want := 0
	for _, o := range byDay[day] {
		ids = append(ids, o.IDs(st.stack.LogBucket))
		want += o.Lines()
	}
	before := r.deliveries(st, ids)
	if err := r.drainQueue(ctx, st, "backfill"); err != nil {
		return err
	}
	after := r.deliveries(st, ids)
	r.check("the day's lines reached the stand-in once more", after-before == int64(want),
		"%d deliveries for the %d lines of %s", after-before, want, d)
	total, err := r.verifyExactlyOnce(ctx, st)
	if err != nil {
		return err
	}
	r.rep.Documents = total
	r.rep.Redelivered = r.deliveries(st, allIDs(st)) - r.rep.Lines
	return nil
}

// deliveries sums how many times the stand-in received each of ids.
func (r *run) deliveries(st *state, idSets [][]string) int64 {
	var n int64
	for _, ids := range idSets {
		for _, id := range ids {
			n += int64(st.logstash.Deliveries(id))
		}
	}
	return n
}

func allIDs(st *state) [][]string {
	var out [][]string
	for _, o := range st.objects {
		out = append(out, o.IDs(st.stack.LogBucket))
	}
	return out
}

// logferryQuiet runs a command whose output is data (JSON), printing only the command line.
func (r *run) logferryQuiet(ctx context.Context, env []string, args ...string) (string, int, error) {
	saved := r.quiet
	r.quiet = true
	defer func() { r.quiet = saved }()
	return r.logferry(ctx, env, args...)
}
