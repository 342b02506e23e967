package logstash_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/logferry/logferry/shared/logstash"
	"github.com/logferry/logferry/shared/logstash/logstashtest"
)

func ExampleNewIndexer() {
	srv := logstashtest.Start(logstashtest.Options{})
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "dead-letters")
	defer os.RemoveAll(dir)
	dl, _ := logstash.NewDir(dir)

	ix, err := logstash.NewIndexer(logstash.Config{
		URL:        srv.URL,
		DeadLetter: dl,
		Source:     logstash.Source{Bucket: "elb-logs", Key: "AWSLogs/123/x.log.gz"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for i := range 3 {
		ix.Add(ctx, fmt.Appendf(nil, `{"@metadata":{"_id":"doc-%d"},"message":"hello"}`, i))
	}
	var de *logstash.DeliveryError
	if err := ix.Close(ctx); errors.As(err, &de) {
		// Report the object as failed so it is redelivered; de.Lost == 0 means every
		// undelivered batch is in the dead letter, ready for `logferry replay`.
		fmt.Println(de.DeadLettered, de.Lost)
	}
	st := ix.Stats()
	fmt.Printf("added %d, sent %d, requests %d\n", st.Added, st.Sent, st.Requests)
	// Output: added 3, sent 3, requests 1
}
