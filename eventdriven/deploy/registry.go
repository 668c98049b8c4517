package deploy

import "slices"

// Trigger is how a function is invoked.
type Trigger string

// Triggers.
const (
	// TriggerHTTP functions serve requests (Knative Services).
	TriggerHTTP Trigger = "http"
	// TriggerEvent functions consume topics (KEDA ScaledObjects).
	TriggerEvent Trigger = "event"
	// TriggerNone is the front: an always-on router, not a scaled function.
	TriggerNone Trigger = "none"
)

// The parts of the app that are not functions, as hops name them.
const (
	Client     = "client"
	Activator  = "activator"
	MinIO      = "MinIO"
	Kafka      = "Kafka"
	PostgreSQL = "PostgreSQL"
	Vision     = "vision"
)

// Hop is one network exchange one upload causes until its photo is ready:
// a request and its answer (an HTTP call, a PostgreSQL statement, a Kafka
// produce), or a Kafka message delivered to a consumer and its offset
// committed. N is how many of them.
type Hop struct {
	From, To, What string
	N              int
}

// Function is one function of the event-driven app.
type Function struct {
	// Name names its process (photobench fn NAME), its consumer group and
	// its metrics' function label.
	Name    string
	Trigger Trigger
	// Summary is one line for usage texts.
	Summary string
	// Port is its default loopback port: where the front, or an HTTP
	// function's activator, listens; an event function serves /healthz and
	// /metrics on it when run alone (a replica under the runtime takes a
	// free port).
	Port int
	// In are the topics an event function consumes; an upload puts one
	// message on each.
	In []string
	// Out is the topic it publishes its events to, if any: one per upload.
	Out string
	// Timer says the function is also invoked on a schedule
	// (functions.yaml's schedule), so every run may be a cold start by
	// design.
	Timer bool
	// Upload is every other hop the function takes for one upload: its
	// requests to MinIO, the vision service, PostgreSQL and other
	// functions. Hops derives the rest from In and Out.
	Upload []Hop
}

// Registry lists the functions in the order an upload reaches them. It is
// the single list the functions' processes, the runtime's configuration
// (functions.yaml, checked against it by a test), the stack, the cost
// model's component lists and the report's hop table are built from; a
// test counts one real upload's hops and compares them with Hops.
var Registry = []Function{
	{
		Name: "front", Trigger: TriggerNone, Port: 18090,
		Summary: "one base URL for the app: writes to ingest, reads to query (HTTP)",
		Upload: []Hop{
			{Client, "front", "POST /v1/photos", 1},
			{"front", Activator, "proxied to the ingest function", 1},
		},
	},
	{
		Name: "ingest", Trigger: TriggerHTTP, Port: 18091,
		Summary: "POST /v1/photos (202 pending), POST /v1/uploads, DELETE (HTTP)",
		Upload: []Hop{
			{Activator, "ingest", "proxied to a replica", 1},
			{"ingest", MinIO, "PUT original", 1},
			{MinIO, Kafka, "object notification", 1},
		},
	},
	{
		Name: "query", Trigger: TriggerHTTP, Port: 18092,
		Summary: "GET photos, list, search, thumbnails from the catalog (HTTP)",
	},
	{
		Name: "thumbnailer", Trigger: TriggerEvent, Port: 18093,
		Summary: TopicObjects + " -> thumbnails bucket, photo.thumbnailed | photo.failed",
		In:      []string{TopicObjects}, Out: TopicThumbnailed,
		Upload: []Hop{{"thumbnailer", MinIO, "GET original, PUT 2 thumbnails", 3}},
	},
	{
		Name: "tagger", Trigger: TriggerEvent, Port: 18094,
		Summary: TopicThumbnailed + " -> the small thumbnail -> vision service -> photo.tagged",
		In:      []string{TopicThumbnailed}, Out: TopicTagged,
		Upload: []Hop{
			{"tagger", MinIO, "GET small thumbnail", 1},
			{"tagger", Vision, "analyze", 1},
		},
	},
	{
		Name: "catalog", Trigger: TriggerEvent, Port: 18095,
		Summary: TopicObjects + ", photo.thumbnailed, photo.tagged -> catalog database",
		In:      []string{TopicObjects, TopicThumbnailed, TopicTagged},
		Upload:  []Hop{{"catalog", PostgreSQL, "one statement per event; a ready check after the thumbnails and after the tags", 5}},
	},
	{
		// Invoked on a schedule, not per upload: no hops of its own unless
		// an object notification was lost.
		Name: "reconciler", Trigger: TriggerHTTP, Port: 18097, Timer: true,
		Summary: "on a timer: originals with no catalog row -> " + TopicObjects + " again (HTTP)",
	},
}

// Lookup returns the registry's function called name.
func Lookup(name string) (Function, bool) {
	for _, f := range Registry {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// Names lists the functions' names with the given triggers (all when
// none is given), in registry order.
func Names(triggers ...Trigger) []string {
	var names []string
	for _, f := range Registry {
		if len(triggers) == 0 || slices.Contains(triggers, f.Trigger) {
			names = append(names, f.Name)
		}
	}
	return names
}

// Ports are the functions' default loopback ports, by name.
var Ports = func() map[string]int {
	m := map[string]int{}
	for _, f := range Registry {
		m[f.Name] = f.Port
	}
	return m
}()

// Hops are the function's network hops of one upload, in path order: its
// deliveries (one per topic in In), its own requests (Upload), and its
// publish (Out).
func (f Function) Hops() []Hop {
	var hs []Hop
	for _, t := range f.In {
		hs = append(hs, Hop{Kafka, f.Name, t + " event", 1})
	}
	hs = append(hs, f.Upload...)
	if f.Out != "" {
		hs = append(hs, Hop{f.Name, Kafka, f.Out, 1})
	}
	return hs
}

// Hops is every network hop one upload takes through the event-driven app
// until its photo is ready: every function's, in registry order.
func Hops() []Hop {
	var hs []Hop
	for _, f := range Registry {
		hs = append(hs, f.Hops()...)
	}
	return hs
}
