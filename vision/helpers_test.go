package vision_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/vision"
)

// testService is a vision service on an httptest server.
type testService struct {
	URL    string
	Remote *vision.Remote
}

// newService starts a vision service with profile p (seeded) and limits.
func newService(t *testing.T, p vision.Profile, opts ...vision.Option) *testService {
	t.Helper()
	remote, err := vision.NewRemote(p, vision.WithSeed(1))
	if err != nil {
		t.Fatalf("NewRemote: %v", err)
	}
	srv := httptest.NewServer(newHandler(t, remote, opts...))
	t.Cleanup(srv.Close)
	return &testService{URL: srv.URL, Remote: remote}
}

func newHandler(t *testing.T, remote *vision.Remote, opts ...vision.Option) http.Handler {
	log := slog.New(slog.NewJSONHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	return vision.NewServer(log, remote, vision.NewMetrics(prometheus.NewRegistry()), opts...)
}

// response is an answer read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorCode is the "code" of a JSON error body, or "" when the body is not
// one.
func (r response) errorCode() string {
	var e struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(r.Body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

func (s *testService) do(ctx context.Context, t *testing.T, method, path string, body []byte) (response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// must is do that fails the test on a transport error.
func (s *testService) must(t *testing.T, method, path string, body []byte) response {
	t.Helper()
	r, err := s.do(context.Background(), t, method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// analyze posts an image.
func (s *testService) analyze(t *testing.T, data []byte) response {
	t.Helper()
	return s.must(t, http.MethodPost, "/v1/analyze", data)
}

// patch changes the profile with a JSON document, failing the test unless
// it is accepted.
func (s *testService) patch(t *testing.T, doc string) {
	t.Helper()
	if r := s.must(t, http.MethodPatch, "/admin/profile", []byte(doc)); r.Status != http.StatusOK {
		t.Fatalf("PATCH /admin/profile %s: %d %s", doc, r.Status, r.Body)
	}
}

// metric scrapes /metrics and returns the value of the sample whose name
// and labels are exactly series (as in the text format), and whether it is
// there.
func (s *testService) metric(t *testing.T, series string) (float64, bool) {
	t.Helper()
	r := s.must(t, http.MethodGet, "/metrics", nil)
	for line := range strings.Lines(string(r.Body)) {
		rest, ok := strings.CutPrefix(line, series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil {
			t.Fatalf("metric %s: %q", series, line)
		}
		return v, true
	}
	return 0, false
}

// waitMetric polls /metrics until series reaches want.
func (s *testService) waitMetric(t *testing.T, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, _ := s.metric(t, series)
		if v >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metric %s stayed at %v, want %v", series, v, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// bombPNG is a PNG header announcing a w x h image with no pixel data: the
// signature and an IHDR chunk with a correct CRC.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := []byte("IHDR")
	chunk = binary.BigEndian.AppendUint32(chunk, w)
	chunk = binary.BigEndian.AppendUint32(chunk, h)
	chunk = append(chunk, 8, 2, 0, 0, 0) // 8-bit RGB, deflate, no filter, no interlace
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(chunk)-4)))
	b.Write(chunk)
	b.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(chunk)))
	return b.Bytes()
}

var hexColor = regexp.MustCompile(`^#[0-9a-f]{6}$`)
