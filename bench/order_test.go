package bench_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/photobench/photobench/bench"
)

// Every block runs each variant once; over every k blocks (k variants)
// each variant takes each position once; over 2k blocks each variant
// follows each other one equally often; and the seed alone decides the
// order.
func TestOrderIsBalancedAndReproducible(t *testing.T) {
	variants := []string{"a", "b", "c"}
	for _, seed := range []int64{1, 2, bench.DefaultOrderSeed} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			const blocks = 6
			order := bench.Order(variants, blocks, seed)
			if len(order) != blocks {
				t.Fatalf("%d blocks, want %d", len(order), blocks)
			}
			pos := map[[2]any]int{}
			follows := map[[2]string]int{}
			for _, block := range order {
				seen := map[string]bool{}
				for i, v := range block {
					seen[v] = true
					pos[[2]any{v, i}]++
					if i > 0 {
						follows[[2]string{block[i-1], v}]++
					}
				}
				if len(block) != len(variants) || len(seen) != len(variants) {
					t.Errorf("block %v does not run every variant once", block)
				}
			}
			for _, v := range variants {
				for i := range variants {
					if n := pos[[2]any{v, i}]; n != blocks/len(variants) {
						t.Errorf("%s at position %d %d times in %v, want %d", v, i+1, n, order, blocks/len(variants))
					}
				}
				for _, w := range variants {
					if v != w && follows[[2]string{v, w}] != 2 {
						t.Errorf("%s then %s %d times in %v, want 2", v, w, follows[[2]string{v, w}], order)
					}
				}
			}
			if again := bench.Order(variants, blocks, seed); !reflect.DeepEqual(again, order) {
				t.Errorf("seed %d gave %v, then %v", seed, order, again)
			}
		})
	}
	// Different seeds give different orders (for some pair of these).
	a, b, c := bench.Order(variants, 6, 1), bench.Order(variants, 6, 2), bench.Order(variants, 6, 3)
	if reflect.DeepEqual(a, b) && reflect.DeepEqual(b, c) {
		t.Errorf("seeds 1, 2 and 3 all gave %v", a)
	}
	// Five blocks (the full profile's repeats): positions differ by at
	// most one between variants.
	pos := map[[2]any]int{}
	for _, block := range bench.Order(variants, 5, 7) {
		for i, v := range block {
			pos[[2]any{v, i}]++
		}
	}
	for k, n := range pos {
		if n < 1 || n > 2 {
			t.Errorf("%v: %d times in 5 blocks, want 1 or 2", k, n)
		}
	}
}
