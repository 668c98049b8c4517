package vision

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Admin reads and sets a running vision service's remote-API profile
// through GET, PUT and PATCH /admin/profile: how benchmarks and demos flip
// outages and slow it down.
type Admin struct {
	BaseURL string       // the service, e.g. http://127.0.0.1:18081
	Client  *http.Client // nil means http.DefaultClient
}

// Get returns the current profile as the service wrote it: PUT back, it
// restores exactly that profile.
func (a Admin) Get(ctx context.Context) (json.RawMessage, error) {
	body, err := a.do(ctx, http.MethodGet, nil)
	if err != nil {
		return nil, err
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("vision profile at %s: not JSON: %.100s", a.BaseURL, body)
	}
	return body, nil
}

// Put replaces the whole profile (absent fields take their defaults) and
// returns the profile the service now has.
func (a Admin) Put(ctx context.Context, profile []byte) (json.RawMessage, error) {
	return a.do(ctx, http.MethodPut, profile)
}

// Patch merges fields into the profile and returns the profile the service
// now has.
func (a Admin) Patch(ctx context.Context, fields []byte) (json.RawMessage, error) {
	return a.do(ctx, http.MethodPatch, fields)
}

func (a Admin) do(ctx context.Context, method string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.BaseURL+"/admin/profile", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("vision profile: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c := a.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("vision profile: %w", err)
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("vision profile: %s %s: %w", method, req.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("vision profile: %s %s: %s: %s", method, req.URL, resp.Status, bytes.TrimSpace(msg))
	}
	return msg, nil
}
