package platform

import (
	"context"
	"time"

	"github.com/photobench/photobench/eventdriven/kafka"
)

// scale is an event function's lag scaler, with the semantics of KEDA's
// Kafka scaler and the HPA behind it: every pollingInterval it reads the
// group's total lag; a function is active while its lag is above
// activationLagThreshold; an active function runs ceil(lag / lagThreshold)
// replicas, at least one (at least minReplicaCount), at most
// maxReplicaCount and the partition count; an inactive one keeps its
// replicas until cooldownPeriod has passed since it was last active, then
// goes to minReplicaCount. KEDA's cooldown only governs N -> 0; between 1
// and N the count follows the lag at once.
func (f *Function) scale(ctx context.Context) {
	t := time.NewTicker(f.cfg.PollingInterval.Duration)
	defer t.Stop()
	var lastActive time.Time
	for {
		f.poll(ctx, &lastActive)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll reads the lag once and sets the desired replica count.
func (f *Function) poll(ctx context.Context, lastActive *time.Time) {
	cfg := f.cfg
	pctx, cancel := context.WithTimeout(ctx, max(cfg.PollingInterval.Duration, 5*time.Second))
	defer cancel()
	lag, err := kafka.Lag(pctx, f.rt.opts.Brokers, cfg.Group, cfg.Topics)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Warn("lag poll failed; keeping the replica count", "error", err)
		}
		return
	}
	var total int64
	partitions := 0
	for _, ps := range lag {
		// kafka-go's default (range) assignor spreads each topic's
		// partitions over the members separately: more members than the
		// largest topic has partitions would sit idle.
		partitions = max(partitions, len(ps))
		for _, n := range ps {
			total += n
		}
	}
	f.rt.m.Lag.WithLabelValues(cfg.Name).Set(float64(total))
	f.setPartitions(partitions)

	now := time.Now()
	cur := f.Desired()
	want := cur
	switch {
	case total > cfg.ActivationLagThreshold:
		*lastActive = now
		want = max(int((total+cfg.LagThreshold-1)/cfg.LagThreshold), cfg.MinReplicaCount, 1)
	case cur > cfg.MinReplicaCount && now.Sub(*lastActive) >= cfg.CooldownPeriod.Duration:
		want = cfg.MinReplicaCount
	}
	if want != cur {
		f.log.Debug("lag scaling decision", "lag", total, "from", cur, "to", want)
		f.SetDesired(want)
	}
}

// setPartitions caps the replica count at the partition count.
func (f *Function) setPartitions(n int) {
	if n <= 0 {
		return
	}
	f.mu.Lock()
	changed := f.partCap != n
	f.partCap = n
	f.mu.Unlock()
	if changed && n < f.cfg.MaxReplicaCount {
		f.log.Info("maxReplicaCount capped at the partition count", "maxReplicaCount", f.cfg.MaxReplicaCount, "partitions", n)
	}
}
