// Package live is `photobench live`: a web page, served by photobench on
// loopback, that shows the monolith, the async monolith and the
// event-driven app of the stack `make up` runs side by side, in columns,
// while one load drives all three; a presenter starts and shapes the load,
// switches the vision service to slow or out, kills a function replica,
// restarts a server or plays a scripted scene, and the room sees every
// architecture react at once.
//
// Once a second the session (session.go) takes a Frame: the load
// generator's own figures, from the load running in this process, and the
// apps' backlogs, replicas and CPU, from the stack's Prometheus. Frames
// are kept (bounded: MaxFrames), sent to every open page as Server-Sent
// Events, drawn as server-rendered SVG, and exported as one
// self-contained HTML file.
package live

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/photobench/photobench/bench/demo"
)

// Variants are the architectures' display names, in column order (the
// demos' order: demo.Archs); demo.Label gives each one's label.
var Variants = demo.Archs

// The sliding windows of a Frame's figures, and the photo strip's length.
const (
	RateWindow    = 5 * time.Second  // Offered, Achieved
	LatencyWindow = 30 * time.Second // the percentiles
	CostWindow    = 30 * time.Second // CPU and the cost estimate's load and usage
	StripLength   = 6
)

// MaxFrames bounds the frames a session keeps: two hours at one a
// second. Older frames are dropped (the export says from when it covers).
const MaxFrames = 2 * 60 * 60

// Num is a figure that may be unknown: NaN, which JSON writes as null and
// the page as "–".
type Num float64

// NA is the unknown figure.
var NA = Num(math.NaN())

// Known reports whether n is a figure.
func (n Num) Known() bool { return !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0) }

// MarshalJSON writes null for an unknown figure.
func (n Num) MarshalJSON() ([]byte, error) {
	if !n.Known() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(n), 'g', 6, 64), nil
}

// UnmarshalJSON reads null as NA.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = NA
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Frame is the session at one moment: what the page shows, what the event
// stream sends and what an export keeps.
type Frame struct {
	At      time.Time `json:"at"`
	Elapsed float64   `json:"elapsed_s"` // seconds since the session started
	Load    LoadState `json:"load"`
	// Vision is the vision service's state as the session set it:
	// "healthy", "slow" (10x), "outage-fail" or "outage-hang".
	Vision   string         `json:"vision"`
	Variants []VariantFrame `json:"variants"` // in the order of Variants
	// Scene and Caption: the scripted scene playing, and its step's
	// caption for the presenter to read aloud ("" when none plays).
	Scene   string `json:"scene,omitempty"`
	Caption string `json:"caption,omitempty"`
}

// LoadState is the load the presenter set.
type LoadState struct {
	Running bool    `json:"running"`
	Shape   string  `json:"shape"` // a Shape's name
	Rate    float64 `json:"rate"`  // requests per second to each variant (the shape's base)
}

// VariantFrame is one architecture's figures in a Frame. Counts run from
// the session's start (the reset control starts them again); rates and
// percentiles are over sliding windows (RateWindow, LatencyWindow).
type VariantFrame struct {
	Name  string `json:"name"`  // display name: monolith, async monolith, event-driven
	Label string `json:"label"` // architecture label: monolith, monolith-async, eventdriven

	// Offered is the requests the schedule started per second, Achieved
	// those answered 2xx per second, both over the last RateWindow.
	Offered  Num `json:"offered"`
	Achieved Num `json:"achieved"`
	// Uploads answered 2xx, and requests answered otherwise (4xx, 5xx,
	// transport errors, timeouts) or dropped (the generator's in-flight
	// cap), every operation.
	UploadsOK uint64 `json:"uploads_ok"`
	Errors    uint64 `json:"errors"`
	Dropped   uint64 `json:"dropped"`
	// Upload acknowledgement latency (intended start to answer) of the
	// uploads answered 2xx in the last LatencyWindow, in milliseconds.
	// AckN is how many: with fewer than 100 the p99 is the largest.
	AckP50 Num `json:"ack_p50_ms"`
	AckP99 Num `json:"ack_p99_ms"`
	AckN   int `json:"ack_n"`
	// Upload to ready (intended start to the server's ready_at) of the
	// uploads that became ready in the last LatencyWindow, in milliseconds.
	ReadyP50 Num `json:"ready_p50_ms"`
	ReadyP99 Num `json:"ready_p99_ms"`
	ReadyN   int `json:"ready_n"`
	// Pending is the accepted uploads followed and not yet ready.
	Pending int `json:"pending"`
	// Backlog is the work queued: the async monolith's jobs not finished,
	// the event-driven app's messages not yet handled (sum of the event
	// functions' consumer lag). NA for the monolith, which queues nothing.
	Backlog     Num    `json:"backlog"`
	BacklogUnit string `json:"backlog_unit,omitempty"` // jobs or messages
	// Functions are the event-driven app's functions (none for the
	// monoliths).
	Functions []FunctionFrame `json:"functions,omitempty"`
	// DLQ is the events dead-lettered and Reconciled the object events the
	// reconciler published again, since the session started
	// (event-driven only).
	DLQ        Num `json:"dlq"`
	Reconciled Num `json:"reconciled"`
	// CPU is the cores the variant's processes used over the last
	// CostWindow (see CPUNote for what is counted).
	CPU     Num    `json:"cpu_cores"`
	CPUNote string `json:"cpu_note,omitempty"`
	// CostPerMillion is the cost of a million photos at the load of the
	// last CostWindow, from the report's cost model (bench/cost), with the
	// pricing option it is for; CostNote says what it rests on or why it is
	// missing.
	CostPerMillion Num    `json:"cost_per_million_usd"`
	CostOption     string `json:"cost_option,omitempty"`
	CostNote       string `json:"cost_note,omitempty"`
	// Photos are the last uploads accepted, newest first (at most
	// StripLength).
	Photos []PhotoCard `json:"photos,omitempty"`
}

// FunctionFrame is one event-driven function.
type FunctionFrame struct {
	Name       string `json:"name"`
	Replicas   Num    `json:"replicas"`
	Desired    Num    `json:"desired"`
	Lag        Num    `json:"lag"`         // event functions: consumer-group lag (messages)
	ColdStarts Num    `json:"cold_starts"` // since the session started
}

// PhotoCard is one upload in a variant's strip: its timeline and, once
// ready, its thumbnail (ThumbnailURL, served by the session).
type PhotoCard struct {
	ID           string     `json:"id"`
	Status       string     `json:"status"` // pending, ready, failed
	Accepted     time.Time  `json:"accepted"`
	Thumbnailed  *time.Time `json:"thumbnailed,omitempty"`
	Tagged       *time.Time `json:"tagged,omitempty"`
	Ready        *time.Time `json:"ready,omitempty"`
	Tags         []string   `json:"tags,omitempty"`
	ThumbnailURL string     `json:"thumbnail_url,omitempty"`
}

// Mark is one entry of the session's timeline: a control pressed, a scene
// step, or something the session did by itself (the load stopping at its
// limit). Charts draw every mark.
type Mark struct {
	At      time.Time `json:"at"`
	Elapsed float64   `json:"elapsed_s"`
	Kind    string    `json:"kind"`  // load, vision, kill, restart, reset, scene, note
	Label   string    `json:"label"` // what happened, in a few words
	// Error says why the control failed ("" when it worked).
	Error string `json:"error,omitempty"`
}
