package imaging

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/photobench/photobench/photo"
)

// Decode memory. The pixel limit counts pixels, but what a decode costs
// depends on how they are stored: a flat 40-megapixel 16-bit PNG is a
// 0.3 MB file that the standard decoder expands to 8 bytes a pixel, a
// progressive JPEG keeps every DCT coefficient (4 bytes a sample) until
// its last scan. So each decode first reserves its estimated peak memory
// (Info.DecodeBytes, from the header) in a per-process Budget and gives
// it back when its caller is done with the image: the decodes in flight
// never hold more than the budget, whatever the number of uploads
// admitted at once, and an image whose estimate alone is over the budget
// is refused as TooManyPixels (422).

// DecodeBudgetEnv names the environment variable that sets the process's
// decode budget in MiB (DefaultDecodeBudget when unset).
const DecodeBudgetEnv = "PHOTOBENCH_DECODE_BUDGET_MB"

// DefaultDecodeBudget is the decode budget of a process when
// DecodeBudgetEnv is unset: the estimate of the costliest image under
// DefaultLimits (a 40-megapixel progressive CMYK JPEG, about 1 GB), so
// that every image the limits accept is decoded, one such at a time.
var DefaultDecodeBudget = (worstDecodeBytes(DefaultLimits) + 1<<20 - 1) &^ (1<<20 - 1)

// Budget bounds the memory of the decodes in flight in a process: a
// weighted semaphore in bytes, first come first served (a large decode
// waiting is not overtaken by smaller ones, so it cannot starve).
type Budget struct {
	mu      sync.Mutex
	size    int64
	used    int64
	waiters []*budgetWaiter
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed when the bytes are granted
}

// NewBudget is a budget of size bytes.
func NewBudget(size int64) *Budget { return &Budget{size: size} }

// Size is the budget's capacity in bytes.
func (b *Budget) Size() int64 { return b.size }

// Acquire reserves n bytes, waiting until they are free or ctx is done. A
// reservation larger than the whole budget is refused at once with a
// TooManyPixels error; a cancelled wait returns ctx's error, reserving
// nothing.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	if n > b.size {
		return photo.Errorf(photo.TooManyPixels, "image would take about %d MB to decode, over this server's decode budget of %d MB", mb(n), mb(b.size))
	}
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.size {
		b.used += n
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	select {
	case <-w.ready: // granted meanwhile: give it back
		b.used -= n
	default:
		for i, x := range b.waiters {
			if x == w {
				b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
				break
			}
		}
	}
	b.grant()
	b.mu.Unlock()
	return fmt.Errorf("wait for decode memory: %w", ctx.Err())
}

// Release gives back n bytes reserved by Acquire.
func (b *Budget) Release(n int64) {
	b.mu.Lock()
	b.used -= n
	if b.used < 0 {
		b.mu.Unlock()
		panic("imaging: budget released more than acquired")
	}
	b.grant()
	b.mu.Unlock()
}

// grant admits waiters in order while the first fits. b.mu is held.
func (b *Budget) grant() {
	for len(b.waiters) > 0 && b.used+b.waiters[0].n <= b.size {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.used += w.n
		close(w.ready)
	}
}

func mb(n int64) int64 { return (n + 1<<20 - 1) >> 20 }

// The process's budget: set by SetDecodeBudget, or from DecodeBudgetEnv
// on first use.
var (
	budgetOnce sync.Once
	budgetErr  error
	budget     atomic.Pointer[Budget]
)

// SetDecodeBudget makes b the process's decode budget, in place of the
// one DecodeBudgetEnv sets.
func SetDecodeBudget(b *Budget) { budget.Store(b) }

// ParseDecodeBudget reads DecodeBudgetEnv through getenv: the budget it
// sets, or DefaultDecodeBudget when unset. A value that is not a positive
// whole number of MiB is an error.
func ParseDecodeBudget(getenv func(string) string) (int64, error) {
	v := getenv(DecodeBudgetEnv)
	if v == "" {
		return DefaultDecodeBudget, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return 0, fmt.Errorf("%s=%q: want a positive number of MiB", DecodeBudgetEnv, v)
	}
	return n << 20, nil
}

// processBudget is the process's decode budget. A malformed
// DecodeBudgetEnv fails every decode, naming the variable.
func processBudget() (*Budget, error) {
	budgetOnce.Do(func() {
		n, err := ParseDecodeBudget(os.Getenv)
		if err != nil {
			budgetErr = err
			return
		}
		budget.CompareAndSwap(nil, NewBudget(n))
	})
	if b := budget.Load(); b != nil {
		return b, nil
	}
	return nil, budgetErr
}
