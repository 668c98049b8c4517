package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// invoke runs f's timer until ctx ends: every Schedule it POSTs to url (f's
// activator, which starts a replica if there is none), as a Knative
// PingSource sends its event to a Service. One invocation runs at a time:
// the ticks a slow one overlaps collapse into one. The answer's
// outcome and its "reconciled" count are recorded in m.
func invoke(ctx context.Context, f FunctionConfig, url string, m *Metrics, log *slog.Logger) {
	every := f.Schedule.Duration
	t := time.NewTicker(every)
	defer t.Stop()
	client := &http.Client{Timeout: max(every, f.ActivatorTimeout.Duration+30*time.Second)}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		outcome := "ok"
		n, err := invokeOnce(ctx, client, url)
		if err != nil {
			outcome = "error"
			if ctx.Err() == nil {
				log.Warn("scheduled run failed", "err", err)
			}
		}
		m.ScheduledRuns.WithLabelValues(f.Name, outcome).Inc()
		if n > 0 {
			m.Reconciled.WithLabelValues(f.Name).Add(float64(n))
			log.Info("scheduled run published lost events again", "reconciled", n)
		}
	}
}

// invokeOnce sends one timer event and reads the answer's count. A failed
// run may still have published some events: its answer counts them too.
func invokeOnce(ctx context.Context, client *http.Client, url string) (reconciled int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ce-Type", "dev.knative.sources.ping") // what a PingSource event is
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var answer struct {
		Reconciled int    `json:"reconciled"`
		Error      string `json:"error"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	_ = json.Unmarshal(body, &answer)
	if resp.StatusCode != http.StatusOK {
		msg := answer.Error
		if msg == "" {
			msg = strings.TrimSpace(string(body))
		}
		return answer.Reconciled, fmt.Errorf("%s: %s", resp.Status, msg)
	}
	return answer.Reconciled, nil
}
