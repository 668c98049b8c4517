package report

import (
	"math"
	"strings"
	"testing"
)

// The published section cites every source and puts this run's figure,
// or the reason there is none, beside each; the verdict follows the
// figures.
func TestPublishedSection(t *testing.T) {
	render := func(o ours) string {
		d := &doc{}
		publishedSection(d, o)
		return string(d.markdown())
	}
	got := render(ours{coldStartP50: 0.1, coldStartMax: 0.5, coldStarts: 12, triggerHop: 0.03, triggerHopText: "estimated",
		costRatio: 4.2, lambdaRatio: 3.1, load: 10})
	for _, want := range []string{"arxiv.org/abs/2311.09745", "doi:10.1007/s11761-017-0208-y", "Prime Video", "tecracer.com",
		"at most 100 ms at the median (n=12", "30.0 ms (estimated)", "costs 4.20× the monolith", "costs 3.10× the monolith", "We differ"} {
		if !strings.Contains(got, want) {
			t.Errorf("section lacks %q:\n%s", want, got)
		}
	}
	cheap := render(ours{coldStartP50: math.NaN(), coldStartMax: math.NaN(), triggerHop: math.NaN(), costRatio: 0.5, lambdaRatio: 0.2, load: 0.1})
	for _, want := range []string{"no cold start measured", "no event hop measured", "is the cheaper one at this load", "We agree"} {
		if !strings.Contains(cheap, want) {
			t.Errorf("section lacks %q:\n%s", want, cheap)
		}
	}
}
