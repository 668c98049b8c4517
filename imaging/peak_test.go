package imaging_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/imaging/imagingtest"
)

// Peak memory of decoding: measured as the process's peak resident set
// (VmHWM) above its resident set just before, in a child process per
// input, so that no other test's heap or freed-but-kept pages count.

// peakEnv names the corpus input a child process measures.
const peakEnv = "IMAGING_PEAK_INPUT"

// peak is what a child reports.
type peak struct {
	Name   string
	Bytes  int64 // file size
	Pixels int64
	RSS    int64 // peak resident set above the baseline
	// Estimate is Inspect's DecodeBytes.
	Estimate int64
}

// pipeline is what the monolith and the thumbnailer run on an upload:
// validate, decode, both thumbnails.
func pipeline(data []byte) error {
	_, err := imaging.Process(context.Background(), data, imaging.DefaultLimits)
	return err
}

// measurePeak runs f with the peak resident set reset just before, and
// returns how far above the starting resident set it went.
func measurePeak(tb testing.TB, f func()) int64 {
	tb.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets VmHWM to the current resident set.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Fatalf("reset peak RSS: %v", err)
	}
	base := procStatus(tb, "VmRSS")
	f()
	return procStatus(tb, "VmHWM") - base
}

// procStatus reads a kB field of /proc/self/status, in bytes.
func procStatus(tb testing.TB, field string) int64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// measureInChild measures one corpus input's peak in a fresh process of
// the test binary bin.
func measureInChild(t *testing.T, bin, name string) peak {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^TestDecodePeak$", "-test.v")
	cmd.Env = append(os.Environ(), peakEnv+"="+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child for %s: %v\n%s", name, err, out)
	}
	for _, line := range bytes.Split(out, []byte("\n")) {
		if j, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("PEAK ")); ok {
			var p peak
			if err := json.Unmarshal(j, &p); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatalf("child for %s reported nothing:\n%s", name, out)
	return peak{}
}

// childPeak is the child's side: build the input, measure the pipeline on
// it, print the result.
func childPeak(t *testing.T, name string) {
	data := imagingtest.Find(name).Make()
	info, err := imaging.Inspect(data, imaging.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var perr error
	rss := measurePeak(t, func() { perr = pipeline(data) })
	if perr != nil {
		t.Fatalf("%s: %v", name, perr)
	}
	j, _ := json.Marshal(peak{Name: name, Bytes: int64(len(data)), Pixels: int64(info.Width) * int64(info.Height), RSS: rss, Estimate: info.DecodeBytes})
	fmt.Printf("PEAK %s\n", j)
}

// TestDecodePeak decodes and thumbnails every corpus input, each in a
// process of its own: the decode memory estimate must cover the peak
// resident set it measures, and the default budget must admit it.
func TestDecodePeak(t *testing.T) {
	if name := os.Getenv(peakEnv); name != "" {
		childPeak(t, name)
		return
	}
	if testing.Short() {
		t.Skip("decodes nine 40-megapixel images")
	}
	bin := os.Args[0]
	if raceEnabled { // measure without the race detector's shadow memory
		bin = filepath.Join(t.TempDir(), "imaging.test")
		if out, err := exec.Command("go", "test", "-c", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("build the test binary without -race: %v\n%s", err, out)
		}
	}
	for _, in := range imagingtest.Corpus {
		p := measureInChild(t, bin, in.Name)
		t.Logf("%-26s %8d bytes %d px: peak RSS %4d MB (%.1f B/px), estimate %4d MB", p.Name, p.Bytes, p.Pixels, p.RSS>>20, float64(p.RSS)/float64(p.Pixels), p.Estimate>>20)
		if p.Estimate < p.RSS {
			t.Errorf("%s: estimate %d MB is under the measured peak of %d MB", p.Name, p.Estimate>>20, p.RSS>>20)
		}
		if p.Estimate > imaging.DefaultDecodeBudget {
			t.Errorf("%s: estimate %d MB is over the default budget of %d MB: an image under the limits would be refused", p.Name, p.Estimate>>20, imaging.DefaultDecodeBudget>>20)
		}
	}
}

// BenchmarkDecodePeak reports the peak resident set of one upload of each
// corpus input, and of 4 x GOMAXPROCS worst-case uploads at once (what
// the monolith admits):
//
//	go test -run='^$' -bench=BenchmarkDecodePeak -benchtime=1x ./imaging
func BenchmarkDecodePeak(b *testing.B) {
	for _, in := range imagingtest.Corpus {
		data := in.Make()
		b.Run(in.Name, func(b *testing.B) {
			var worst int64
			for b.Loop() {
				worst = max(worst, measurePeak(b, func() {
					if err := pipeline(data); err != nil {
						b.Fatal(err)
					}
				}))
			}
			b.ReportMetric(float64(worst)/(1<<20), "peak-RSS-MB")
		})
	}
	for _, name := range []string{"png-rgba16", "jpeg-progressive-444", "jpeg-progressive-cmyk"} {
		data := imagingtest.Find(name).Make()
		n := 4 * runtime.GOMAXPROCS(0)
		b.Run(fmt.Sprintf("%dx%s", n, name), func(b *testing.B) {
			var worst int64
			for b.Loop() {
				worst = max(worst, measurePeak(b, func() {
					var wg sync.WaitGroup
					for range n {
						wg.Go(func() {
							if err := pipeline(data); err != nil {
								b.Error(err)
							}
						})
					}
					wg.Wait()
				}))
			}
			b.ReportMetric(float64(worst)/(1<<20), "peak-RSS-MB")
		})
	}
}
