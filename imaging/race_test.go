//go:build race

package imaging_test

// raceEnabled: this test binary runs under the race detector, whose
// shadow memory would count in a peak RSS.
const raceEnabled = true
