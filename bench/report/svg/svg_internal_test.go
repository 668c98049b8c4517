package svg

import (
	"math"
	"math/rand/v2"
	"testing"
)

// appendCoord writes what fmtCoord writes, for every kind of coordinate.
func TestAppendCoordIsFmtCoord(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vs := []float64{0, 0.05, 0.25, 0.15, 0.95, 9.95, 99.95, 1.45, 880, 1e6, 1e7, -0.04, -3.25, math.NaN(), math.Inf(1), math.Copysign(0, -1)}
	for range 200000 {
		vs = append(vs, r.Float64()*1000, float64(r.IntN(20000))/20, float64(r.IntN(20000))/100)
	}
	for _, v := range vs {
		if got, want := string(appendCoord(nil, v)), fmtCoord(v); got != want {
			t.Fatalf("appendCoord(%v) = %s, fmtCoord %s", v, got, want)
		}
	}
}
