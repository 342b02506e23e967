// Command memsize is the receiving end of the ingest memory-size measurement (run.sh): an
// HTTP server on 127.0.0.1 that takes the ingest function's batches as Logstash's http input
// would (gzip bodies, 200 when taken) and counts the documents, but does no other work, so
// the shipper, not the receiver, sets the pace. It prints its URL, then serves until killed;
// GET /count answers the documents received so far.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
)

// Every document the shipper sends carries its id in @metadata (README: Logstash pipeline).
var marker = []byte(`"@metadata":{"_id":`)

func main() {
	var docs, requests atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, "bad gzip: "+err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
			return
		}
		docs.Add(int64(bytes.Count(b, marker)))
		requests.Add(1)
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d %d\n", docs.Load(), requests.Load())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "memsize:", err)
		os.Exit(1)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "memsize:", err)
		os.Exit(1)
	}
}
