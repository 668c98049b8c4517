package platform

import (
	"context"
	"time"

	"github.com/photobench/photobench/eventdriven/kafka"
)

// scale is an event function's lag scaler, with the semantics of KEDA's
// Kafka scaler and the HPA behind it: every pollingInterval it reads the
// group's total lag; an active function runs ceil(lag / lagThreshold)
// replicas, at least one (at least minReplicaCount), at most
// maxReplicaCount and the partition count; a scale-down between those
// takes the highest count recommended over scaleDownStabilizationWindow
// (the HPA's behavior.scaleDown), a scale-up happens at once; an inactive
// function keeps its replicas until cooldownPeriod has passed since it was
// last active, then goes to minReplicaCount (KEDA's cooldown governs only
// N -> 0).
//
// Active means, as in KEDA, lag above activationLagThreshold, and also
// (an addition) events arriving on its topics since the last poll. KEDA
// reads lag alone, polled every 30 s with a 300 s cooldown: a steady flow
// almost never shows ten polls in a row at zero lag. With this runtime's 1 s
// polls and 10 s cooldown, a consumer that keeps up reads zero lag at most
// polls while events flow, and would be stopped and started again under
// load; counting arriving events as activity keeps the platform's
// behaviour at the shorter timers.
func (f *Function) scale(ctx context.Context) {
	t := time.NewTicker(f.cfg.PollingInterval.Duration)
	defer t.Stop()
	s := &scaleState{produced: -1}
	for {
		f.poll(ctx, s)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// scaleState is what the scaler remembers between polls.
type scaleState struct {
	lastActive time.Time
	// produced is the topics' total end offset at the last poll (-1: none
	// yet).
	produced int64
	// recent are the replica counts recommended within the stabilisation
	// window.
	recent decisions
}

// decisions are the replica counts decided over a sliding window, oldest
// first: what a scale-down stabilisation (HPA) or delay (Knative) holds to.
type decisions []recommendation

type recommendation struct {
	at time.Time
	n  int
}

// add records n decided at now, forgets the decisions span or more older,
// and returns the highest count left, n included.
func (d *decisions) add(now time.Time, n int, span time.Duration) int {
	keep := (*d)[:0]
	for _, r := range *d {
		if now.Sub(r.at) < span {
			keep = append(keep, r)
		}
	}
	*d = append(keep, recommendation{now, n})
	highest := n
	for _, r := range *d {
		highest = max(highest, r.n)
	}
	return highest
}

// poll reads the lag once and sets the desired replica count.
func (f *Function) poll(ctx context.Context, s *scaleState) {
	cfg := f.cfg
	pctx, cancel := context.WithTimeout(ctx, max(cfg.PollingInterval.Duration, 5*time.Second))
	defer cancel()
	st, err := kafka.GroupOffsets(pctx, f.rt.opts.Brokers, cfg.Group, cfg.Topics)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Warn("lag poll failed; keeping the replica count", "error", err)
		}
		return
	}
	var total int64
	partitions := 0
	for _, ps := range st.Lag {
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
	arrived := s.produced >= 0 && st.Produced > s.produced
	s.produced = st.Produced

	now := time.Now()
	cur := f.Desired()
	want := decide(cfg, s, now, cur, total, arrived)
	if want != cur {
		f.log.Debug("lag scaling decision", "lag", total, "arrived", arrived, "from", cur, "to", want)
		f.SetDesired(want)
	}
}

// decide is the scaling rule of one poll: the replica count wanted now,
// given the current one, the lag and whether events arrived since the last
// poll. It records the recommendation in s.
func decide(cfg FunctionConfig, s *scaleState, now time.Time, cur int, lag int64, arrived bool) int {
	if lag <= cfg.ActivationLagThreshold && !arrived {
		if cur > cfg.MinReplicaCount && now.Sub(s.lastActive) >= cfg.CooldownPeriod.Duration {
			s.recent = nil
			return cfg.MinReplicaCount
		}
		return cur
	}
	s.lastActive = now
	rec := max(int((lag+cfg.LagThreshold-1)/cfg.LagThreshold), cfg.MinReplicaCount, 1)
	// The highest recommendation of the window is the floor of a
	// scale-down; a scale-up is not held back.
	highest := s.recent.add(now, rec, cfg.ScaleDownStabilizationWindow.Duration)
	if rec < cur {
		return min(highest, cur)
	}
	return rec
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
