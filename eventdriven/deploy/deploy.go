// Package deploy holds the event-driven app's deployment configuration:
// the names of its topics and buckets (typed here once; the stack creates
// them, the functions are wired with them, the compose file is checked
// against them), the registry of its functions (Registry: what triggers
// each, what it consumes, produces and calls, and the network hops it
// takes for one upload), and functions.yaml, every function's scaling
// parameters (KEDA's names for the event functions, Knative's for the HTTP
// ones). The scale-to-zero runtime reads functions.yaml, the Kubernetes
// manifests under deploy/k8s are generated from it, and a test holds it to
// the registry, so they cannot drift.
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

// Functions is functions.yaml, embedded so that the photobench binary runs
// the default deployment without a file at hand.
//
//go:embed functions.yaml
var Functions []byte
