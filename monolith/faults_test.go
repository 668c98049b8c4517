package monolith_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/vision"
)

// With PostgreSQL unreachable (the path to the real server cut: pooled
// connections drop, new ones are refused), every call that needs the
// database answers 503 with Retry-After and the JSON error body, in both
// modes, never 500; /healthz answers 503 too, with a generic message and
// nothing of the database's own error text.
func TestDatabaseDownAnswers503(t *testing.T) {
	for _, mode := range []string{"sync", "async"} {
		t.Run(mode, func(t *testing.T) {
			o := appOptions{dbRelay: true}
			if mode == "async" {
				o.async = asyncOptions()
			}
			a := newApp(t, o)
			tok := token(t, "stranded")
			img := synth.JPEG(synth.Options{Seed: 41, Width: 320, Height: 240})
			resp, body := do(t, "POST", a.URL+"/v1/photos", tok, img)
			if resp.StatusCode >= 300 {
				t.Fatalf("upload before the outage: %d %s", resp.StatusCode, body)
			}
			var p photo.Photo
			json.Unmarshal(body, &p)

			a.DB.Cut()
			for _, c := range []struct{ method, path string }{
				{"POST", "/v1/photos"},
				{"GET", "/v1/photos"},
				{"GET", "/v1/photos/" + p.ID},
				{"GET", "/v1/photos/" + p.ID + "/thumbnail?size=small"},
				{"DELETE", "/v1/photos/" + p.ID},
				{"GET", "/healthz"},
			} {
				var data []byte
				if c.method == "POST" {
					data = img
				}
				resp, body := do(t, c.method, a.URL+c.path, tok, data)
				if resp.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("%s %s with the database down: %d %s, want 503", c.method, c.path, resp.StatusCode, body)
					continue
				}
				if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
					t.Errorf("%s %s: Retry-After %q, want a positive number of seconds", c.method, c.path, ra)
				}
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != string(photo.Unavailable) {
					t.Errorf("%s %s: body %s, want the JSON error body with code unavailable", c.method, c.path, body)
				}
				if e.Error.Message != "database unavailable" || strings.Contains(string(body), "dial") || strings.Contains(string(body), "127.0.0.1") {
					t.Errorf("%s %s: message %q, want the generic \"database unavailable\"", c.method, c.path, e.Error.Message)
				}
			}
		})
	}
}

// slowSender opens a TCP connection to base and starts an upload of data
// whose headers arrive at once and whose body then trickles, a byte every
// 100 ms, until the test ends or the server stops reading. It returns the
// server's answer, if one comes.
func slowSender(t *testing.T, base, tok string, data []byte) <-chan string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /v1/photos HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", u.Host, tok, len(data))
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		answer <- strings.TrimSpace(line)
	}()
	go func() {
		for _, b := range data {
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return answer
}

// Clients that send their bodies slowly, more of them than there are
// upload slots, hold connections but no slot: a whole upload from another
// client is still taken and answered.
func TestSlowBodiesDoNotHoldUploadSlots(t *testing.T) {
	a := newApp(t, appOptions{})
	tok := token(t, "trickler")
	img := synth.JPEG(synth.Options{Seed: 43, Width: 320, Height: 240})
	for range 2 * maxUploads {
		slowSender(t, a.URL, tok, img)
	}
	time.Sleep(300 * time.Millisecond) // every slow request is in its handler

	req, err := http.NewRequest("POST", a.URL+"/v1/photos", bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("a whole upload beside %d slow ones: %v", 2*maxUploads, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("a whole upload beside %d slow ones: %d %s", 2*maxUploads, resp.StatusCode, body)
	}
}

// A body that has not arrived within the body timeout is refused with 400,
// and the connection given back.
func TestSlowBodyTimesOut(t *testing.T) {
	a := newApp(t, appOptions{bodyTimeout: time.Second})
	tok := token(t, "trickler")
	answer := slowSender(t, a.URL, tok, synth.JPEG(synth.Options{Seed: 44, Width: 320, Height: 240}))
	select {
	case line := <-answer:
		if !strings.Contains(line, " 400 ") {
			t.Errorf("a body slower than the timeout: answered %q, want 400", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a body slower than the body timeout: no answer after 30 s")
	}
}

// A vision service that refuses the rendition (a 4xx) is a dependency
// failing: the upload answers 503 with Retry-After, as for a vision
// outage, never the service's own 4xx, which would blame the client's
// image; and leaves nothing behind.
func TestVisionRefusalIs503(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		code   string
	}{
		{"400 invalid", http.StatusBadRequest, "invalid"},
		{"413 too large", http.StatusRequestEntityTooLarge, "too_large"},
		{"404 wrong URL", http.StatusNotFound, "not_found"},
		{"401 bad key", http.StatusUnauthorized, "unauthorized"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				httpapi.WriteError(w, tt.status, tt.code, "refused by the vision service", 0)
			}))
			t.Cleanup(refusing.Close)
			a := newApp(t, appOptions{visionURL: refusing.URL})
			tok := token(t, "refused")
			resp, body := do(t, "POST", a.URL+"/v1/photos", tok, synth.JPEG(synth.Options{Seed: 45, Width: 320, Height: 240}))
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Errorf("upload with vision answering %d: %d (Retry-After %q) %s, want 503 with Retry-After",
					tt.status, resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != string(photo.Unavailable) {
				t.Errorf("body %s, want code unavailable", body)
			}
			if left := a.Stored(t); len(left) > 0 {
				t.Errorf("files left behind: %v", left)
			}
		})
	}
}

// The body timeout bounds the body's arrival, not the upload's processing:
// an upload whose body came in time but whose processing outlasts the
// timeout (a slow vision service) is answered, not cut off.
func TestBodyTimeoutSparesProcessing(t *testing.T) {
	a := newApp(t, appOptions{bodyTimeout: 500 * time.Millisecond})
	setProfile(t, a.Vision, vision.Profile{Latency: vision.Latency{Distribution: vision.LatencyFixed, FixedMS: 1500}})
	resp, body := do(t, "POST", a.URL+"/v1/photos", token(t, "patient"), synth.JPEG(synth.Options{Seed: 46, Width: 320, Height: 240}))
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("an upload processed for longer than the body timeout: %d %s, want 201", resp.StatusCode, body)
	}
}
