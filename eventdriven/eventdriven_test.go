package eventdriven_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/conformance"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/ingest"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
)

// These tests drive the event-driven app that the stack runs (make test
// starts it; make up too): every function a real process, real Kafka,
// MinIO, PostgreSQL and vision service.

func appEnv(t *testing.T) stacktest.Env {
	t.Helper()
	env := stacktest.Load(t)
	env.Apps(t)
	return env
}

func TestEventDrivenConformance(t *testing.T) {
	env := appEnv(t)
	conformance.Run(t, conformance.Target{
		BaseURL:      env.EventDrivenURL,
		Secret:       []byte(env.AuthSecret),
		Eventual:     true,
		ReadyTimeout: 60 * time.Second,
		Limits:       imaging.DefaultLimits,
	})
}

func user(prefix string) string {
	b := make([]byte, 5)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

type client struct {
	t    testing.TB
	base string
	tok  string
}

func newClient(t testing.TB, env stacktest.Env, owner string) *client {
	iss, err := auth.NewIssuer([]byte(env.AuthSecret))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Mint(owner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: env.EventDrivenURL, tok: tok}
}

func (c *client) do(method, path string, body []byte) (int, []byte, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

type photoJSON struct {
	ID            string
	Status        string
	FailureReason string `json:"failure_reason"`
	Tags          []string
}

func (c *client) upload(img []byte) string {
	c.t.Helper()
	code, body, _ := c.do("POST", "/v1/photos", img)
	if code != http.StatusAccepted {
		c.t.Fatalf("upload: %d %s", code, body)
	}
	var p photoJSON
	json.Unmarshal(body, &p)
	return p.ID
}

// waitFinal polls a photo until it is ready or failed.
func (c *client) waitFinal(id string, timeout time.Duration) photoJSON {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	var last []byte
	for time.Now().Before(deadline) {
		code, body, _ := c.do("GET", "/v1/photos/"+id, nil)
		last = body
		if code == http.StatusOK {
			var p photoJSON
			json.Unmarshal(body, &p)
			if p.Status == "ready" || p.Status == "failed" {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("photo %s not ready or failed after %s; last answer %s", id, timeout, last)
	return photoJSON{}
}

// A client can upload straight to storage with a presigned URL; the
// pipeline validates what arrives.
func TestPresignedUpload(t *testing.T) {
	env := appEnv(t)
	c := newClient(t, env, user("presign"))
	tests := []struct {
		name       string
		body       []byte
		wantStatus string
	}{
		{"valid image becomes ready", synth.JPEG(synth.Options{Seed: 21, Width: 900, Height: 600}), "ready"},
		{"text becomes failed", []byte("this is not an image at all"), "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := c.do("POST", "/v1/uploads", nil)
			if code != http.StatusCreated {
				t.Fatalf("POST /v1/uploads: %d %s", code, body)
			}
			var up ingest.Upload
			if err := json.Unmarshal(body, &up); err != nil || up.ID == "" || up.UploadURL == "" {
				t.Fatalf("upload grant %s: %v", body, err)
			}
			req, err := s3store.PostForm(context.Background(), up.UploadURL, up.Fields, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Fatalf("POST to the presigned form: %s", resp.Status)
			}
			p := c.waitFinal(up.ID, 60*time.Second)
			if p.Status != tt.wantStatus {
				t.Fatalf("photo ended %s (%s), want %s", p.Status, p.FailureReason, tt.wantStatus)
			}
			if p.Status == "failed" && p.FailureReason == "" {
				t.Error("failed photo has no reason")
			}
		})
	}
}

// A malformed event on photos.objects is dead-lettered by every function
// that consumes it (the registry says which), and photos uploaded after it
// still become ready.
func TestPoisonEventIsDeadLetteredAndLaterPhotosFlow(t *testing.T) {
	env := appEnv(t)
	marker := "poison-" + user("x")
	dlq := stacktest.TailTopic(t, env.KafkaBrokers, deploy.TopicObjects+".dlq")

	w := &kgo.Writer{Addr: kgo.TCP(env.KafkaBrokers), Topic: deploy.TopicObjects, RequiredAcks: kgo.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, kgo.Message{Key: []byte(marker), Value: []byte("{not json " + marker)}); err != nil {
		t.Fatal(err)
	}

	c := newClient(t, env, user("poison"))
	id := c.upload(synth.JPEG(synth.Options{Seed: 33, Width: 640, Height: 480}))

	var consumers []string
	for _, f := range deploy.Registry {
		if slices.Contains(f.In, deploy.TopicObjects) {
			consumers = append(consumers, f.Name)
		}
	}
	functions := map[string]bool{}
	for len(functions) < len(consumers) {
		select {
		case m := <-dlq:
			if !strings.Contains(string(m.Value), marker) {
				continue
			}
			h := map[string]string{}
			for _, hd := range m.Headers {
				h[hd.Key] = string(hd.Value)
			}
			if h["dlq_topic"] != deploy.TopicObjects || h["dlq_error"] == "" || h["dlq_offset"] == "" || h["dlq_partition"] == "" {
				t.Errorf("dead letter headers %v", h)
			}
			functions[h["dlq_function"]] = true
		case <-ctx.Done():
			t.Fatalf("dead letters seen from %v, want %v", functions, consumers)
		}
	}
	for _, f := range consumers {
		if !functions[f] {
			t.Errorf("dead letters seen from %v, want %v", functions, consumers)
		}
	}
	if p := c.waitFinal(id, 60*time.Second); p.Status != "ready" {
		t.Fatalf("photo after the poison event ended %s", p.Status)
	}
}

func setVision(t *testing.T, base, body string) {
	t.Helper()
	req, _ := http.NewRequest("PATCH", base+"/admin/profile", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH /admin/profile %s: %s %s", body, resp.Status, b)
	}
}

// The coupling demonstration, event-driven side: with the vision service
// down, uploads are still accepted; when it is back, the backlog drains and
// every photo becomes ready.
func TestVisionOutageBecomesBacklogNotErrors(t *testing.T) {
	env := appEnv(t)
	c := newClient(t, env, user("outage"))
	stacktest.LockVision(t, env)
	setVision(t, env.VisionURL, `{"outage":"fail"}`)
	t.Cleanup(func() { setVision(t, env.VisionURL, `{"outage":"off"}`) })

	var ids []string
	for i := range 5 {
		ids = append(ids, c.upload(synth.JPEG(synth.Options{Seed: uint64(100 + i), Width: 500, Height: 400})))
	}
	time.Sleep(3 * time.Second)
	for _, id := range ids {
		code, body, _ := c.do("GET", "/v1/photos/"+id, nil)
		if code != http.StatusOK || !strings.Contains(string(body), `"status":"pending"`) {
			t.Fatalf("during the outage photo %s: %d %s, want pending", id, code, body)
		}
	}
	lag, err := kafka.Lag(context.Background(), []string{env.KafkaBrokers}, "tagger", []string{deploy.TopicThumbnailed})
	if err != nil {
		t.Fatal(err)
	}
	var backlog int64
	for _, l := range lag[deploy.TopicThumbnailed] {
		backlog += l
	}
	if backlog == 0 {
		t.Error("the tagger shows no backlog during the outage")
	}

	setVision(t, env.VisionURL, `{"outage":"off"}`)
	for _, id := range ids {
		if p := c.waitFinal(id, 60*time.Second); p.Status != "ready" || len(p.Tags) == 0 {
			t.Errorf("after the outage photo %s ended %s with tags %v", id, p.Status, p.Tags)
		}
	}
}

// Prometheus scrapes every app the stack runs, found through the
// discovery files they are registered in.
func TestPrometheusScrapesTheApps(t *testing.T) {
	env := appEnv(t)
	for _, component := range []string{"vision", "monolith", "runtime", "front"} {
		t.Run(component, func(t *testing.T) {
			q := url.QueryEscape(fmt.Sprintf(`up{job="photobench",component=%q}`, component))
			deadline := time.Now().Add(30 * time.Second)
			for {
				resp, err := http.Get(env.PrometheusURL + "/api/v1/query?query=" + q)
				if err != nil {
					t.Fatal(err)
				}
				var body struct {
					Data struct {
						Result []struct {
							Value [2]any `json:"value"`
						} `json:"result"`
					} `json:"data"`
				}
				json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if len(body.Data.Result) == 1 && body.Data.Result[0].Value[1] == "1" {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("up{component=%q} = %+v after 30 s, want one target up", component, body.Data.Result)
				}
				time.Sleep(500 * time.Millisecond)
			}
		})
	}
}
