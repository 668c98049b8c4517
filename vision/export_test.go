package vision

import "time"

// DrawLatency draws one injected latency from r's current profile, for
// tests of the distributions.
func DrawLatency(r *Remote) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.drawLatency(r.profile.Latency)
}
