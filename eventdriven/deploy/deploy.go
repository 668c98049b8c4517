// Package deploy holds the event-driven app's deployment configuration:
// functions.yaml, every function's scaling parameters (KEDA's names for the
// event functions, Knative's for the HTTP ones). The scale-to-zero runtime
// reads it, and the Kubernetes manifests under deploy/k8s are generated
// from it, so the two cannot drift.
package deploy

import _ "embed"

// Functions is functions.yaml, embedded so that the photobench binary runs
// the default deployment without a file at hand.
//
//go:embed functions.yaml
var Functions []byte
