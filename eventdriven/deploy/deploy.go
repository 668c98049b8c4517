// Package deploy holds the event-driven app's deployment configuration:
// the names of its topics and buckets (typed here once; the stack creates
// them, the functions are wired with them, the compose file is checked
// against them) and functions.yaml, every function's trigger and scaling
// parameters (KEDA's names for the event functions, Knative's for the HTTP
// ones). The scale-to-zero runtime reads functions.yaml, and the Kubernetes
// manifests under deploy/k8s are generated from it, so they cannot drift.
package deploy

import _ "embed"

// The event topics. Each has a dead-letter twin, "<topic>.dlq".
const (
	// TopicObjects carries MinIO's s3:ObjectCreated and s3:ObjectRemoved
	// records of the originals bucket (MinIO publishes them itself).
	TopicObjects = "photos.objects"
	// TopicThumbnailed carries the thumbnailer's photo.thumbnailed and
	// photo.failed events.
	TopicThumbnailed = "photo.thumbnailed"
	// TopicTagged carries the tagger's photo.tagged events.
	TopicTagged = "photo.tagged"
)

// Topics lists the event topics in the order an upload reaches them.
var Topics = []string{TopicObjects, TopicThumbnailed, TopicTagged}

// The buckets.
const (
	// BucketOriginals holds uploaded originals under users/<owner>/<id>;
	// it notifies TopicObjects.
	BucketOriginals = "originals"
	// BucketThumbnails holds the thumbnails the thumbnailer writes.
	BucketThumbnails = "thumbnails"
)

// Buckets lists the buckets.
var Buckets = []string{BucketOriginals, BucketThumbnails}

// Ports are the functions' default loopback ports. front is the
// event-driven app's one base URL; ingest's and query's are where their
// activators listen (functions.yaml's addr); the event functions serve
// /healthz and /metrics on theirs when run alone (a replica under the
// runtime takes a free port).
var Ports = map[string]int{"front": 18090, "ingest": 18091, "query": 18092, "thumbnailer": 18093, "tagger": 18094, "catalog": 18095}

// Functions is functions.yaml, embedded so that the photobench binary runs
// the default deployment without a file at hand.
//
//go:embed functions.yaml
var Functions []byte
