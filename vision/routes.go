package vision

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/photobench/photobench/httpapi"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists the whole vision API:
//
//	POST  /v1/analyze      image bytes (JPEG or PNG) -> 200 Analysis JSON
//	GET   /admin/profile   -> 200 the remote-API Profile
//	PUT   /admin/profile   a whole Profile (absent fields: defaults) -> 200 the new Profile
//	PATCH /admin/profile   some Profile fields, merged into the current one -> 200 the new Profile
//	GET   /healthz         -> 200
//	GET   /metrics         Prometheus text
func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer)
	r.NotFound(httpapi.NotFoundHandler())
	r.MethodNotAllowed(httpapi.MethodNotAllowedHandler())
	r.Method(http.MethodPost, "/v1/analyze", s.handleAnalyze())
	r.Method(http.MethodGet, "/admin/profile", s.handleGetProfile())
	r.Method(http.MethodPut, "/admin/profile", s.handleSetProfile(false))
	r.Method(http.MethodPatch, "/admin/profile", s.handleSetProfile(true))
	r.Method(http.MethodGet, "/healthz", handleHealthz())
	if s.metrics.gatherer != nil {
		r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.metrics.gatherer, promhttp.HandlerOpts{}))
	}
	return r
}
