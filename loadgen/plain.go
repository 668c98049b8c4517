package loadgen

import (
	"context"
	"fmt"
	"net/http"
)

// PlainTarget returns a Targeter that sends GET to url for every hit, whatever
// its operation or user: the trivial target the generator is calibrated
// against (photobench calibrate), where the cost of building a request should
// be as small as any generator's.
//
// The URL is parsed once; each request is a shallow copy of a template, as
// http.Request.WithContext makes, sharing the parsed URL (which nothing on the
// client side modifies) but with its own empty header.
func PlainTarget(url string) (Targeter, error) {
	tmpl, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil || (tmpl.URL.Scheme != "http" && tmpl.URL.Scheme != "https") || tmpl.URL.Host == "" {
		return nil, fmt.Errorf("plain target: %q is not an http(s) URL", url)
	}
	return func(ctx context.Context, _ Hit) (*http.Request, error) {
		req := tmpl.WithContext(ctx)
		req.Header = http.Header{}
		return req, nil
	}, nil
}
