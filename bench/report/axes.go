package report

import (
	"fmt"
	"sort"
	"strings"
)

// The three architectures, in results.Archs order, differ along one axis
// at a time: from the sync monolith to the async monolith only when the
// work happens changes (coupling in time: same process, code and
// database), and from the async monolith to the event-driven app only how
// many processes do it (one vs many: both asynchronous). A trade-off
// sentence compares each neighbouring pair and says which axis the
// difference comes from. With two architectures only, it compares them as
// they are: the note under the table says which axes that mixes.

// Axis names, as the sentences give them.
const (
	axisTime    = "coupling in time (sync → async monolith)"
	axisProcess = "one process vs many (async monolith → event-driven)"
)

// How a figure moves from one architecture to the next in results.Archs
// order.
const (
	dirSame   = 0  // no difference beyond the spread or the row's tolerance
	dirBetter = 1  // better at the later architecture
	dirWorse  = -1 // worse at the later architecture
	dirMixed  = 2  // better by one measure, worse by another (pricing options)
)

// pairFn compares architecture a with b (a earlier in results.Archs): a
// clause that says what the figures show, how the figure moves from a to
// b, and ok false when either lacks the figure (the clause then says
// which).
type pairFn func(a, b string) (clause string, dir int, ok bool)

// has reports whether arch has runs in the results.
func (v *view) has(arch string) bool {
	for _, a := range v.archs {
		if a == arch {
			return true
		}
	}
	return false
}

// three reports whether all three architectures have runs: then the
// sentences can tell the two axes apart.
func (v *view) three() bool { return v.has(archMonolith) && v.has(archAsync) && v.has(archEvent) }

// subj is how a sentence names architecture a: "the sync monolith" once
// there is an asynchronous one to tell it from.
func (v *view) subj(a string) string {
	switch a {
	case archMonolith:
		if v.has(archAsync) {
			return "the sync monolith"
		}
		return "the monolith"
	case archAsync:
		return "the async monolith"
	case archEvent:
		return "event-driven"
	}
	return a
}

// possessive is subj with "'s".
func (v *view) possessive(a string) string { return v.subj(a) + "'s" }

// pair is the two architectures a two-way sentence compares: the first
// and the last of those run, in results.Archs order.
func (v *view) pair() (string, string, bool) {
	if len(v.archs) < 2 {
		return "", "", false
	}
	return v.archs[0], v.archs[len(v.archs)-1], true
}

// axesOf names what differs between two architectures.
func axesOf(a, b string) string {
	switch {
	case a == archMonolith && b == archAsync:
		return "coupling in time only: same process, code and database, the work done in the request or after it"
	case a == archAsync && b == archEvent:
		return "one process vs many only: both do the work after answering"
	case a == archMonolith && b == archEvent:
		return "both axes at once, coupling in time and one process vs many: without an asynchronous monolith's runs the report cannot tell them apart"
	}
	return "how the architectures differ is not known to the report"
}

// compare is a trade-off row's sentence. With all three architectures it
// compares each neighbouring pair, axis by axis, and says which axis the
// difference (noun) comes from; with two it compares them; with fewer it
// says there is no comparison.
func (v *view) compare(noun string, cmp pairFn) string {
	if v.three() {
		c1, d1, ok1 := cmp(archMonolith, archAsync)
		c2, d2, ok2 := cmp(archAsync, archEvent)
		s := axisTime + ": " + c1 + "; " + axisProcess + ": " + c2
		if ok1 && ok2 {
			return s + "; so " + verdict(noun, d1, d2)
		}
		return s + "; no attribution to an axis without every figure"
	}
	a, b, ok := v.pair()
	if !ok {
		return v.alone()
	}
	c, _, ok := cmp(a, b)
	if !ok {
		return "no comparison: " + c
	}
	return c
}

// alone is the sentence of a row with fewer than two architectures.
func (v *view) alone() string {
	if len(v.archs) == 1 {
		return "no comparison: only " + v.subj(v.archs[0]) + " was run"
	}
	return "no comparison: no architecture was run"
}

// verdict says which axis a difference comes from, given how the figure
// moves along each: d1 coupling in time, d2 one process vs many.
func verdict(noun string, d1, d2 int) string {
	word := func(d int) string {
		if d == dirBetter {
			return "better"
		}
		return "worse"
	}
	switch {
	case d1 == dirMixed || d2 == dirMixed:
		return "which axis " + noun + " comes from depends on the pricing option"
	case d1 != dirSame && d2 == dirSame:
		return noun + " comes from coupling in time, not from being one process or many"
	case d1 == dirSame && d2 != dirSame:
		return noun + " comes from one process vs many, not from coupling in time"
	case d1 == dirSame:
		return "neither coupling in time nor one process vs many makes a difference here beyond the spread"
	case d1 == d2:
		return "both axes add to " + noun + ": coupling in time and one process vs many each make it " + word(d1)
	}
	return fmt.Sprintf("the two axes pull apart: coupling in time makes it %s, one process vs many %s", word(d1), word(d2))
}

// missingOf says which of a and b lacks a figure.
func (v *view) missingOf(a, b string, okA, okB bool) string {
	switch {
	case !okA && !okB:
		return fmt.Sprintf("neither %s nor %s has the figure", v.subj(a), v.subj(b))
	case !okA:
		return v.subj(a) + " has no figure"
	}
	return v.subj(b) + " has no figure"
}

// axesNote is the trade-off table's note on what its columns' differences
// mean.
func (v *view) axesNote() string {
	if v.three() {
		return "Each sentence compares neighbouring columns: the sync and the async monolith differ only in " + axisTime +
			" (same process, same code, same database; only when the work happens differs), the async monolith and event-driven only in " +
			axisProcess + " (both asynchronous). A difference within 10% (latency, idle CPU, cost), within 5% (ok answers per second), within the figures' overlapping spreads, " +
			"within 1 percentage point (failed uploads) or within 2 s (catch-up) counts as none."
	}
	a, b, ok := v.pair()
	if !ok {
		return "With fewer than two architectures run there is nothing to compare."
	}
	return fmt.Sprintf("The sentences compare %s and %s, which differ in %s.", archName(a), archName(b), axesOf(a, b))
}

// settingsWith returns the settings whose key contains one of words, as
// key and value, sorted by key.
func (v *view) settingsWith(words ...string) [][2]string {
	var out [][2]string
	for k, val := range v.r.Settings {
		lk := strings.ToLower(k)
		for _, w := range words {
			if strings.Contains(lk, w) {
				out = append(out, [2]string{k, val})
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// storageOf is where monolith arch kept its photos ("disk", "s3"), and the
// setting that says so: a setting whose key has "storage" in it (one that
// also names "async" for the asynchronous monolith only; any other for
// both, as they run the same code). Empty when the results do not record
// it.
func (v *view) storageOf(arch string) (storage, key string) {
	if !isMonolith(arch) {
		return "", ""
	}
	for _, kv := range v.settingsWith("storage") {
		k := strings.ToLower(kv[0])
		if strings.Contains(k, "async") {
			if arch == archAsync {
				return firstWord(kv[1]), kv[0]
			}
			continue
		}
		if storage == "" {
			storage, key = firstWord(kv[1]), kv[0]
		}
	}
	return storage, key
}

// firstWord is the first word of a setting's value, lower case: "s3" of
// "s3: the bucket monolith in MinIO".
func firstWord(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return r == ' ' || r == ':' || r == ',' || r == ';' || r == '(' || r == '\t'
	})
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// serversOf are the stack's servers architecture arch needs (the cost of
// running it): PostgreSQL for a monolith, and MinIO too when it stored
// its photos there. Prometheus measures and the vision service stands in
// for an external API, so neither is counted for any.
func (v *view) serversOf(arch string) []string {
	switch {
	case arch == archEvent:
		return []string{"postgresql", "kafka", "minio"}
	case isMonolith(arch):
		if s, _ := v.storageOf(arch); s == "s3" {
			return []string{"postgresql", "minio"}
		}
		return []string{"postgresql"}
	}
	return nil
}

// storageText states the monoliths' storage for the report's summary and
// settings.
func (v *view) storageText() string {
	var parts []string
	for _, a := range []string{archMonolith, archAsync} {
		if !v.has(a) {
			continue
		}
		s, key := v.storageOf(a)
		if s == "" {
			parts = append(parts, fmt.Sprintf("%s: not recorded in the settings (the monolith's default is disk)", archName(a)))
			continue
		}
		where := "on local disk"
		if s == "s3" {
			where = "in a MinIO bucket of its own"
		}
		parts = append(parts, fmt.Sprintf("%s: %s, photos %s (setting %s)", archName(a), s, where, key))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Monolith storage (--storage disk|s3): " + strings.Join(parts, "; ") + "."
}

// riverText states the asynchronous monolith's job-queue knobs, when the
// settings record them.
func (v *view) riverText() string {
	if !v.has(archAsync) {
		return ""
	}
	kvs := v.settingsWith("river", "job", "async")
	var parts []string
	for _, kv := range kvs {
		if strings.Contains(strings.ToLower(kv[0]), "storage") {
			continue
		}
		parts = append(parts, kv[0]+" = "+kv[1])
	}
	if len(parts) == 0 {
		return "The async monolith's job queue (River): no settings recorded; it ran with photobench monolith's defaults (see photobench monolith --help)."
	}
	return "The async monolith's job queue (River): " + strings.Join(parts, "; ") + "."
}
