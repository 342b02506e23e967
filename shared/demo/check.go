package demo

import (
	"context"
)

// checkDocuments verifies in Elasticsearch that every line became exactly one document:
// each object's lines are found by their deterministic ids, each day's documents are in
// that day's index, and the total equals the number of lines (so there is nothing else).
func (r *run) checkDocuments(ctx context.Context, st *state) error {
	found, err := r.verifyExactlyOnce(ctx, st)
	if err != nil {
		return err
	}
	r.rep.Documents = found
	return nil
}

// verifyExactlyOnce checks the indices against the data set and returns the documents found.
func (r *run) verifyExactlyOnce(ctx context.Context, st *state) (int64, error) {
	pattern := st.prefix + "*"
	if err := st.es.refresh(ctx, pattern); err != nil {
		return 0, err
	}
	var lines, missing int64
	bad := 0
	for _, o := range st.objects {
		n, err := st.es.count(ctx, pattern, map[string]any{"ids": map[string]any{"values": o.IDs(st.stack.LogBucket)}})
		if err != nil {
			return 0, err
		}
		lines += int64(o.Lines())
		if n != int64(o.Lines()) {
			bad++
			missing += int64(o.Lines()) - n
			if bad <= 3 {
				r.say("s3://%s/%s: %d of %d lines have their document", st.stack.LogBucket, o.Key, n, o.Lines())
			}
		}
	}
	total, err := st.es.count(ctx, pattern, nil)
	if err != nil {
		return 0, err
	}
	r.rep.Missing = missing
	r.rep.Duplicates = total - (lines - missing)
	dayList, byDay := days(st.objects)
	dayOK := true
	for _, d := range dayList {
		var want int64
		for _, o := range byDay[d] {
			want += int64(o.Lines())
		}
		index := st.prefix + d.Format("2006.01.02")
		got, err := st.es.count(ctx, index, nil)
		if err != nil {
			return 0, err
		}
		r.say("%-28s %7d documents for %7d lines", index, got, want)
		dayOK = dayOK && got == want
	}
	r.check("every line has its document", missing == 0, "%d of %d lines in %d objects without one", missing, lines, bad)
	r.check("no duplicates", r.rep.Duplicates == 0, "%d documents in %s for %d lines: %d beyond one per line", total, pattern, lines, r.rep.Duplicates)
	r.check("each day in its daily index", dayOK, "%d daily indices", len(dayList))
	meta, err := st.es.count(ctx, pattern, map[string]any{"exists": map[string]any{"field": "@metadata._id"}})
	if err != nil {
		return 0, err
	}
	r.check("ids as _id, not in the documents", meta == 0, "%d documents hold @metadata (Logstash never sends it)", meta)
	return total, nil
}

// redeliver writes one object again, as S3 does when a load balancer's upload is retried:
// a second notification, a second shipment of every line, and still one document each.
func (r *run) redeliver(ctx context.Context, st *state) error {
	o := st.objects[len(st.objects)/2]
	if err := put(ctx, st.s3c, st.stack.LogBucket, o.Key, o.Body); err != nil {
		return err
	}
	r.say("put s3://%s/%s again (%d lines): S3 notifies the queue a second time", st.stack.LogBucket, o.Key, o.Lines())
	if err := r.drainQueue(ctx, st, "re-delivery"); err != nil {
		return err
	}
	again := r.deliveredAgain(st, [][]string{o.IDs(st.stack.LogBucket)}, 2)
	r.rep.Redelivered = r.deliveries(st, allIDs(st)) - r.rep.Lines
	r.check("the object's lines reached the stand-in twice", again == o.Lines(), "%d of %d ids delivered twice", again, o.Lines())
	total, err := r.verifyExactlyOnce(ctx, st)
	if err != nil {
		return err
	}
	r.rep.Documents = total
	return nil
}

// deliveredAgain counts the ids the stand-in received exactly times times.
func (r *run) deliveredAgain(st *state, idSets [][]string, times int) int {
	n := 0
	for _, ids := range idSets {
		for _, id := range ids {
			if st.logstash.Deliveries(id) == times {
				n++
			}
		}
	}
	return n
}
