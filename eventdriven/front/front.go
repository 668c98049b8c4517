// Package front gives the event-driven app one base URL, as the monolith
// has: a reverse proxy that sends the write side of the API (uploads,
// presigned upload URLs, deletions) to the ingest function and the read
// side (GET /v1/photos...) to the query function.
//
// It is plumbing, not part of the choreography: it holds no state, looks
// at nothing but method and path (authentication is the functions' job, so
// the Authorization header passes through like every other), and streams
// bodies both ways. Behind it ingest and query scale on their own, and the
// pipeline between them runs on Kafka events; front only makes the two
// look like one server to clients and the load generator.
package front

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/outbound"
	"github.com/photobench/photobench/internal/proxy"
	"github.com/photobench/photobench/photo"
)

// healthTimeout bounds the upstream health checks of GET /healthz.
const healthTimeout = 2 * time.Second

// NewHandler returns the front's HTTP API: the public photo API proxied to
// ingest (POST /v1/photos, POST /v1/uploads, DELETE /v1/photos/{id}) and
// query (GET /v1/photos, /v1/photos/{id}, /v1/photos/{id}/thumbnail);
// GET /healthz, 200 when both upstreams' /healthz answer 200; and its own
// /metrics from reg. An upstream that cannot be reached is answered with
// 503 unavailable and Retry-After 1. Other routes answer 404 or 405
// without reaching an upstream. sent, if not nil, counts the requests
// proxied (target "ingest" or "query").
func NewHandler(ingestURL, queryURL *url.URL, reg prometheus.Gatherer, httpm *httpmetrics.Metrics, sent *outbound.Counter) http.Handler {
	tr := proxy.NewTransport()
	ingest := newProxy("ingest", ingestURL, sent.Transport("ingest", tr))
	query := newProxy("query", queryURL, sent.Transport("query", tr))

	r := chi.NewRouter()
	r.Use(httpm.Middleware)
	r.NotFound(httpapi.NotFoundHandler())
	r.MethodNotAllowed(httpapi.MethodNotAllowedHandler())

	r.Get("/healthz", handleHealth(&http.Client{Transport: tr}, []upstream{{"ingest", ingestURL}, {"query", queryURL}}))
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	r.Route("/v1/photos", func(r chi.Router) {
		r.Post("/", ingest)
		r.Get("/", query)
		r.Get("/{id}", query)
		r.Delete("/{id}", ingest)
		r.Get("/{id}/thumbnail", query)
	})
	r.Post("/v1/uploads", ingest)
	return r
}

// newProxy forwards requests to target keeping method, path, query,
// headers and body; hop-by-hop headers are dropped and X-Forwarded-* set,
// as httputil.ReverseProxy does.
func newProxy(name string, target *url.URL, tr http.RoundTripper) http.HandlerFunc {
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			httpapi.Error(w, r, nil, &photo.Error{
				Kind:       photo.Unavailable,
				Message:    name + " is unavailable",
				RetryAfter: time.Second,
				Err:        err,
			})
		},
	}
	return p.ServeHTTP
}

type upstream struct {
	name string
	url  *url.URL
}

func handleHealth(client *http.Client, ups []upstream) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		errs := make([]error, len(ups))
		var wg sync.WaitGroup
		for i, u := range ups {
			wg.Go(func() { errs[i] = checkHealth(ctx, client, u) })
		}
		wg.Wait()
		var bad []string
		for i, err := range errs {
			if err != nil {
				bad = append(bad, ups[i].name)
			}
		}
		if len(bad) > 0 {
			httpapi.Error(w, r, nil, &photo.Error{
				Kind:       photo.Unavailable,
				Message:    "unhealthy: " + strings.Join(bad, ", "),
				RetryAfter: time.Second,
				Err:        errors.Join(errs...),
			})
			return
		}
		w.Write([]byte("ok\n"))
	}
}

func checkHealth(ctx context.Context, client *http.Client, u upstream) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.url.JoinPath("healthz").String(), nil)
	if err != nil {
		return fmt.Errorf("check %s health: %w", u.name, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("check %s health: %w", u.name, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keep the connection reusable
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("check %s health: status %d", u.name, resp.StatusCode)
	}
	return nil
}
