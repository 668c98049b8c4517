package vision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/internal/outbound"
	"github.com/photobench/photobench/internal/sleep"
	"github.com/photobench/photobench/photo"
)

// Client defaults: the knobs the monolith's coupling to the vision service
// turns on. With them an upload during a vision outage costs at most
// 3 attempts x 5 s plus 2 backoffs (each at most 2 s) before it fails as
// Unavailable.
const (
	// DefaultTimeout bounds each attempt.
	DefaultTimeout = 5 * time.Second
	// DefaultRetries is how many times a failed attempt is retried.
	DefaultRetries = 2
	// DefaultBackoff is the base of the exponential backoff.
	DefaultBackoff = 100 * time.Millisecond
	// DefaultMaxBackoff caps a backoff, Retry-After included.
	DefaultMaxBackoff = 2 * time.Second
)

// ClientOptions tune a Client; zero fields take the defaults.
type ClientOptions struct {
	// HTTPClient sends the requests. Default: a client of its own whose
	// transport keeps up to 64 idle connections to the service (the
	// standard transport keeps 2, which makes a loaded caller dial anew
	// for most requests). Its Timeout, if any, applies on top of Timeout.
	HTTPClient *http.Client
	// Timeout bounds each attempt, reading the answer included.
	// Default 5 s.
	Timeout time.Duration
	// Retries is how many times an attempt that failed with 429, a 5xx, a
	// timeout or a connection error is retried. Default 2 (3 attempts);
	// negative: no retries.
	Retries int
	// Backoff is the base of the exponential backoff with full jitter:
	// before retry n (from 1) the client waits a random time in
	// [0, min(MaxBackoff, Backoff x 2^(n-1))] (sleep.Backoff), or, when the service sent
	// Retry-After, min(Retry-After, MaxBackoff). Default 100 ms.
	Backoff time.Duration
	// MaxBackoff caps each wait between attempts. Default 2 s.
	MaxBackoff time.Duration
	// Sent, if set, counts each attempt sent (photobench_requests_sent_total).
	Sent *outbound.Counter
}

// Client calls the vision service. It is safe for concurrent use.
type Client struct {
	url  string
	http *http.Client
	opts ClientOptions
}

// NewClient returns a client of the vision service at baseURL (such as
// http://127.0.0.1:18081), with opts' zero fields set to the defaults.
func NewClient(baseURL string, opts ClientOptions) *Client {
	if opts.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 64
		t.MaxIdleConnsPerHost = 64
		opts.HTTPClient = &http.Client{Transport: t}
	}
	if opts.Sent != nil {
		c := *opts.HTTPClient
		c.Transport = opts.Sent.Transport(outbound.TargetVision, c.Transport)
		opts.HTTPClient = &c
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	switch {
	case opts.Retries == 0:
		opts.Retries = DefaultRetries
	case opts.Retries < 0:
		opts.Retries = 0
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	return &Client{url: strings.TrimRight(baseURL, "/") + "/v1/analyze", http: opts.HTTPClient, opts: opts}
}

// Options returns the client's options, defaults filled in.
func (c *Client) Options() ClientOptions { return c.opts }

// Analyze asks the service to analyse an encoded image (JPEG or PNG).
// Errors are *photo.Error: a 4xx answer other than 429 is not retried and
// comes back with the service's kind and message (Invalid, TooLarge,
// Unsupported, TooManyPixels; Internal for any other 4xx, a wrong URL say);
// when every attempt failed with 429, a 5xx, a
// timeout or a connection error, or ctx ended, the error is Unavailable
// with RetryAfter set to the service's last Retry-After (1 s when it sent
// none) and the last cause as Err.
func (c *Client) Analyze(ctx context.Context, data []byte) (Analysis, error) {
	var (
		cause      error
		retryAfter time.Duration
	)
	for attempt := 0; ; attempt++ {
		a, ra, err := c.attempt(ctx, data)
		if err == nil {
			return a, nil
		}
		var perr *photo.Error
		if errors.As(err, &perr) {
			return Analysis{}, err // not worth retrying
		}
		cause, retryAfter = err, ra
		if attempt >= c.opts.Retries || ctx.Err() != nil {
			break
		}
		wait := ra
		if wait <= 0 {
			wait = sleep.Backoff(c.opts.Backoff, c.opts.MaxBackoff, attempt+1)
		}
		if !sleep.For(ctx, min(wait, c.opts.MaxBackoff)) {
			cause = fmt.Errorf("%w (after: %w)", ctx.Err(), cause)
			break
		}
	}
	if retryAfter <= 0 {
		retryAfter = time.Second
	}
	return Analysis{}, &photo.Error{
		Kind:       photo.Unavailable,
		Message:    "the vision service is unavailable",
		RetryAfter: retryAfter,
		Err:        fmt.Errorf("vision analyze: %w", cause),
	}
}

// attempt makes one request. A *photo.Error means a final answer; other
// errors are worth retrying, with the service's Retry-After if it sent one.
func (c *Client) attempt(ctx context.Context, data []byte) (Analysis, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(data))
	if err != nil {
		return Analysis{}, 0, &photo.Error{Kind: photo.Internal, Message: "cannot build the vision request", Err: err}
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return Analysis{}, 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Analysis{}, 0, fmt.Errorf("read answer (status %d): %w", resp.StatusCode, err)
	}
	if resp.StatusCode == http.StatusOK {
		var a Analysis
		if err := json.Unmarshal(body, &a); err != nil {
			return Analysis{}, 0, &photo.Error{Kind: photo.Internal, Message: "the vision service answered malformed JSON", Err: err}
		}
		return a, 0, nil
	}
	var eb httpapi.ErrorBody
	_ = json.Unmarshal(body, &eb) // a body that is not ours leaves code and message empty
	cause := fmt.Errorf("status %d %q: %s", resp.StatusCode, eb.Error.Code, eb.Error.Message)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return Analysis{}, parseRetryAfter(resp.Header.Get("Retry-After")), cause
	}
	kind := imageKind(resp.StatusCode)
	msg := eb.Error.Message
	if msg == "" || kind == photo.Internal {
		msg = fmt.Sprintf("the vision service refused the request (status %d)", resp.StatusCode)
	}
	return Analysis{}, 0, &photo.Error{Kind: kind, Message: msg, Err: fmt.Errorf("vision analyze: %w", cause)}
}

// imageKind maps a 4xx status to the kind of the image error the service
// answers with it; Internal for the others (such as 404 from a wrong base
// URL), which are the caller's misconfiguration, not the client's upload.
func imageKind(status int) photo.Kind {
	for _, k := range []photo.Kind{photo.Invalid, photo.TooLarge, photo.Unsupported, photo.TooManyPixels} {
		if httpapi.Status(k) == status {
			return k
		}
	}
	return photo.Internal
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. 0 when absent or malformed.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return time.Duration(max(secs, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
