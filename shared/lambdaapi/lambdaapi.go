// Package lambdaapi serves the Lambda Invoke API (POST /2015-03-31/functions/NAME/invocations)
// on 127.0.0.1 for handlers running in this process, so a client made for AWS — the AWS
// SDK for JavaScript inside aws-local-stepfunctions, reached through
// AWS_ENDPOINT_URL_LAMBDA — invokes Go code here and sees what Lambda would answer: the
// result as the body, or a function error as X-Amz-Function-Error with
// {"errorType","errorMessage"}, so custom error names reach Step Functions' Retry and Catch.
package lambdaapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

// Handler is what aws-lambda-go's lambda.NewHandler returns.
type Handler interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Invocation is one call, as Observe sees it after the handler returned.
type Invocation struct {
	Function string
	Payload  []byte
	Result   []byte                         // nil on error
	Error    *messages.InvokeResponse_Error // the function error, if any
	Duration time.Duration
}

// Function is one function the server answers for.
type Function struct {
	// ARN is the function's ARN; requests may name it by ARN or by its name.
	ARN     string
	Handler Handler
	// Timeout is the function's timeout: the handler's context ends then. Default 120s.
	Timeout time.Duration
}

// MaxPayloadBytes is Lambda's limit on a synchronous request payload (6 MB).
const MaxPayloadBytes = 6 << 20

// Server answers Invoke requests. Invocations run with a context of their own, not the
// HTTP request's: a client that goes away (an aborted execution) does not cut a step short,
// just as Lambda finishes an invocation whose caller timed out.
type Server struct {
	URL string
	// Observe, if set, sees every completed invocation (called from the request goroutine).
	Observe func(Invocation)

	fns      map[string]Function
	srv      *http.Server
	ln       net.Listener
	mu       sync.Mutex
	closed   bool // refusing new invocations
	inflight sync.WaitGroup
}

// Start serves fns on a free port of 127.0.0.1.
func Start(fns ...Function) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambda endpoint: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), fns: map[string]Function{}, ln: ln}
	for _, f := range fns {
		if f.Timeout <= 0 {
			f.Timeout = 120 * time.Second
		}
		s.fns[f.ARN] = f
		s.fns[functionName(f.ARN)] = f
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// functionName is the last part of an ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME).
func functionName(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) >= 7 && parts[5] == "function" {
		return parts[6]
	}
	return arn
}

// Drain refuses new invocations (as throttled, 429) and waits for those running.
func (s *Server) Drain() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.inflight.Wait()
}

// Close drains and stops the server.
func (s *Server) Close() error {
	s.Drain()
	return s.srv.Close()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	path := r.URL.EscapedPath()
	if r.Method != http.MethodPost || !strings.HasPrefix(path, prefix) || !strings.HasSuffix(path, suffix) {
		apiError(w, http.StatusNotFound, "UnknownOperationException", "only Invoke (POST /2015-03-31/functions/NAME/invocations) is served here")
		return
	}
	name, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(path, prefix), suffix))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "function name: "+err.Error())
		return
	}
	fn, ok := s.fns[name]
	if !ok {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	switch t := r.Header.Get("X-Amz-Invocation-Type"); t {
	case "", "RequestResponse":
	default:
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "invocation type "+t+" is not served here (only RequestResponse)")
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "read payload: "+err.Error())
		return
	}
	if len(payload) > MaxPayloadBytes {
		apiError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", fmt.Sprintf("request payload is over %d bytes", MaxPayloadBytes))
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "could not parse request body into json")
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		apiError(w, http.StatusTooManyRequests, "TooManyRequestsException", "the local endpoint is shutting down")
		return
	}
	s.inflight.Add(1)
	s.mu.Unlock()
	defer s.inflight.Done()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), fn.Timeout)
	defer cancel()
	start := time.Now()
	res, herr := fn.Handler.Invoke(ctx, payload)
	inv := Invocation{Function: fn.ARN, Payload: payload, Duration: time.Since(start)}
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	w.Header().Set("Content-Type", "application/json")
	if herr != nil {
		e := FunctionError(herr)
		inv.Error = &e
		body, _ := json.Marshal(map[string]string{"errorType": e.Type, "errorMessage": e.Message})
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	} else {
		inv.Result = res
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(res)
	}
	if s.Observe != nil {
		s.Observe(inv)
	}
}

// FunctionError renders err as the Lambda runtime does (aws-lambda-go): an
// InvokeResponse_Error as it is, anything else under its Go type's name.
func FunctionError(err error) messages.InvokeResponse_Error {
	var ive messages.InvokeResponse_Error
	if errors.As(err, &ive) {
		return ive
	}
	var ivp *messages.InvokeResponse_Error
	if errors.As(err, &ivp) && ivp != nil {
		return *ivp
	}
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return messages.InvokeResponse_Error{Type: t.Name(), Message: err.Error()}
}

// apiError answers as the Lambda service does when the call itself fails.
func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}
