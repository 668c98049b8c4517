// Package outbound counts the requests a process sends to the services it
// depends on, where it sends them: photobench_requests_sent_total{target,op}.
// The report's hop table is checked against these counts for one upload,
// and they do not share the delay of a server's own counters (MinIO
// refreshes its request metrics about every 10 s).
//
// Targets are the services (TargetMinIO, TargetPostgreSQL, TargetVision,
// TargetKafka); op is the HTTP method, OpList (a listing sent to MinIO),
// OpQuery (a PostgreSQL statement), OpProduce (a Kafka message written)
// or OpHealth (an HTTP request made for a health check, marked with
// Health). A nil *Counter counts nothing.
//
// MinIO's requests are S3 requests, and S3 prices them by class: a LIST
// is priced as a PUT, though it is an HTTP GET. So a GET sent to
// TargetMinIO that lists (ListBuckets, ListObjects, ListObjectVersions,
// ListMultipartUploads, ListParts) is counted as OpList, not GET: the cost
// model reads the price class from op alone.
package outbound

import (
	"context"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Targets (label target).
const (
	TargetMinIO      = "minio"
	TargetPostgreSQL = "postgresql"
	TargetVision     = "vision"
	TargetKafka      = "kafka"
)

// Ops that are not HTTP methods (label op).
const (
	// OpQuery is one PostgreSQL round trip: a statement (BEGIN and COMMIT
	// included) or a batch.
	OpQuery = "query"
	// OpProduce is one message written to Kafka.
	OpProduce = "produce"
	// OpHealth is an HTTP request of a health check, whatever its method.
	OpHealth = "health"
	// OpList is an S3 listing sent to MinIO: a GET of the service (the
	// buckets), of a bucket with no object key and no subresource but the
	// listing's parameters, or with list-type, versions, uploads (a
	// bucket's) or uploadId (an object's parts).
	OpList = "LIST"
)

type healthKey struct{}

// Health marks ctx's requests as health checks (op OpHealth), so that a
// dependency's probes are told apart from the work.
func Health(ctx context.Context) context.Context { return context.WithValue(ctx, healthKey{}, true) }

// Counter is photobench_requests_sent_total{target,op}.
type Counter struct {
	vec *prometheus.CounterVec
}

// New creates the counter and registers it with reg (none if reg is nil).
func New(reg prometheus.Registerer) *Counter {
	c := &Counter{vec: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "photobench_requests_sent_total",
		Help: "Requests this process sent to a service it depends on, counted as sent: HTTP requests by method, PostgreSQL statements and batches, Kafka messages produced.",
	}, []string{"target", "op"})}
	if reg != nil {
		reg.MustRegister(c.vec)
	}
	return c
}

// Add counts n requests of op to target.
func (c *Counter) Add(target, op string, n int) {
	if c == nil || n <= 0 {
		return
	}
	c.vec.WithLabelValues(target, op).Add(float64(n))
}

// Transport counts each request base sends (retries included, one each)
// as target with op the HTTP method; a nil base is
// http.DefaultTransport. A nil Counter returns base unchanged. The
// counters are resolved here, once, not per request.
func (c *Counter) Transport(target string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if c == nil {
		return base
	}
	ops := map[string]prometheus.Counter{}
	for _, op := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete, opOther, OpHealth} {
		ops[op] = c.vec.WithLabelValues(target, op)
	}
	rt := roundTripper{ops: ops, base: base}
	if target == TargetMinIO {
		ops[OpList] = c.vec.WithLabelValues(target, OpList)
		rt.s3 = true
	}
	return rt
}

// opOther is the op of any method other than GET, HEAD, PUT, POST and
// DELETE, so that the label stays bounded.
const opOther = "other"

type roundTripper struct {
	ops  map[string]prometheus.Counter
	base http.RoundTripper
	s3   bool // the target speaks S3: listings are OpList
}

func (t roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	op := r.Method
	switch {
	case r.Context().Value(healthKey{}) != nil:
		op = OpHealth
	case t.s3 && s3List(r):
		op = OpList
	}
	c, ok := t.ops[op]
	if !ok {
		c = t.ops[opOther]
	}
	c.Inc()
	return t.base.RoundTrip(r)
}

// listParams are the query parameters of S3's listings (ListObjects and
// ListObjectsV2, ListObjectVersions, ListMultipartUploads), MinIO's
// metadata extension included. A GET of a bucket with these alone lists
// it; any other parameter names a subresource (location, policy, ...),
// which is a GET.
var listParams = map[string]bool{
	"list-type": true, "prefix": true, "delimiter": true, "max-keys": true, "marker": true,
	"continuation-token": true, "start-after": true, "encoding-type": true, "fetch-owner": true,
	"versions": true, "key-marker": true, "version-id-marker": true, "uploads": true,
	"upload-id-marker": true, "max-uploads": true, "metadata": true,
}

// s3List says whether r, an S3 request in path style (/bucket/key, as
// internal/minio's clients send them), is a listing.
func s3List(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	q := r.URL.Query()
	if q.Has("list-type") {
		return true
	}
	path := strings.Trim(r.URL.Path, "/")
	if path == "" {
		return true // the service: ListBuckets
	}
	if strings.Contains(path, "/") { // an object: its parts are a listing
		return q.Has("uploadId")
	}
	for k := range q {
		if !listParams[k] {
			return false
		}
	}
	return true
}

// Tracer is a pgx tracer counting round trips to PostgreSQL: each
// statement (BEGIN and COMMIT are statements) and each batch. Set it as
// the pool's ConnConfig.Tracer. A nil Counter gives nil (no tracer). pgx
// prepares a statement on a connection the first time that connection
// runs it, in a round trip of its own that is not counted: after a
// connection's first use, each statement is one round trip.
func (c *Counter) Tracer() pgx.QueryTracer {
	if c == nil {
		return nil
	}
	return pgTracer{c.vec.WithLabelValues(TargetPostgreSQL, OpQuery)}
}

type pgTracer struct{ n prometheus.Counter }

func (t pgTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.n.Inc()
	return ctx
}

func (pgTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart counts a batch as one round trip: pgx sends its
// statements together and reads the answers together. Its statements are
// reported to TraceBatchQuery, which does not count them again.
func (t pgTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.n.Inc()
	return ctx
}

func (pgTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (pgTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
