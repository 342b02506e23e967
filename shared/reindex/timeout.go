package reindex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// timeoutTransport gives every request its own deadline (Config.RequestTimeout). The
// deadline covers the answer's body too: it is lifted when the body is closed, which do
// always does after reading it.
type timeoutTransport struct {
	t       esapi.Transport
	timeout time.Duration
}

func (tt timeoutTransport) Perform(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), tt.timeout)
	res, err := tt.t.Perform(req.WithContext(ctx))
	if err != nil {
		timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded) && req.Context().Err() == nil
		cancel()
		if timedOut {
			return nil, fmt.Errorf("no answer within %s (the per-request timeout): %w", tt.timeout, err)
		}
		return nil, err
	}
	res.Body = &cancelOnClose{ReadCloser: res.Body, cancel: cancel}
	return res, nil
}

// cancelOnClose releases a request's deadline when its answer has been read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
