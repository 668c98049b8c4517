package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/photobench/photobench/bench"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/sleep"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/loadgen"
)

// Config is one run of the matrix.
type Config struct {
	// Stack is the stack the rows run on and kill processes of: a scratch
	// stack (Scratch), with AppBinary set.
	Stack  stack.Config
	Faults []Fault
	// Rate is the uploads per second; Duration the load of each row.
	Rate     float64
	Duration time.Duration
	// Down is how long a killed service stays down; Drain bounds the wait
	// after the load for every accepted photo to be final.
	Down, Drain time.Duration
	Short       bool
	Secret      []byte
	// Cache is where the synthetic photos are cached.
	Cache string
	// Log gets a line per row and the stack's progress.
	Log io.Writer
}

// Load of every row.
const (
	users          = 4
	requestTimeout = 10 * time.Second
	pollEvery      = 500 * time.Millisecond
	probeTimeout   = 90 * time.Second
)

// photos are the upload bodies: small ones, so that the matrix measures
// faults, not a saturated CPU.
var photos = loadgen.PhotoSpec{Count: 16, Sizes: []loadgen.PhotoSize{{Megapixels: 0.3, Weight: 1}, {Megapixels: 1, Weight: 1}}}

// FaultAt is when, into a row's load of duration d, the fault strikes: a
// third in, so that the load runs before, during and after.
func FaultAt(d time.Duration) time.Duration { return d / 3 }

// Execute starts the servers of cfg.Stack, runs the rows in order (each
// variant's apps started before its first row and stopped after its
// last), and returns the report. It stops at the first row when ctx is
// cancelled, keeping the rows done. The caller removes the stack
// (Scratch's cleanup).
func Execute(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Stack.AppBinary == "" {
		return nil, errors.New("chaos: the photobench binary that runs the apps is unknown")
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	rep := &Report{Started: time.Now().UTC(), Machine: bench.Fingerprint(cfg.Stack), Settings: Settings{
		Rate: cfg.Rate, Duration: cfg.Duration.Seconds(), FaultAt: FaultAt(cfg.Duration).Seconds(),
		Down: cfg.Down.Seconds(), Drain: cfg.Drain.Seconds(), Users: users, Timeout: requestTimeout.Seconds(),
		Photos: "16 synthetic JPEGs, 0.3 and 1 MP", Partitions: cfg.Stack.KafkaPartitions,
		NotifyQueue: cfg.Stack.MinIONotifyQueue, Short: cfg.Short, BusyWait: busyWaitOf(cfg).Seconds(),
	}}
	if slices.ContainsFunc(cfg.Faults, func(f Fault) bool { return f.Name == "tagger" }) {
		rep.Settings.TaggerVision = taggerVision
	}
	set, err := loadgen.LoadPhotos(photos, 1, cfg.Cache)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	fmt.Fprintf(cfg.Log, "chaos: starting a scratch stack in %s\n", cfg.Stack.Dir)
	servers := cfg.Stack
	servers.AppBinary = ""
	var out bytes.Buffer
	if _, err := stack.Up(ctx, servers, &out); err != nil {
		return nil, fmt.Errorf("chaos: %w\n%s", err, out.String())
	}
	current := ""
	defer func() {
		if current != "" {
			_ = stack.Down(cfg.Stack, apps[current], io.Discard)
		}
	}()
	for i, f := range cfg.Faults {
		if ctx.Err() != nil {
			break
		}
		if f.Variant != current {
			if current != "" {
				_ = stack.Down(cfg.Stack, apps[current], io.Discard)
			}
			current = f.Variant
			out.Reset()
			if _, err := stack.UpApps(ctx, cfg.Stack, apps[current], &out); err != nil {
				return rep, fmt.Errorf("chaos: %s: %w\n%s", current, err, out.String())
			}
		}
		t0 := time.Now()
		row := runRow(ctx, cfg, f, uint64(100+i), set)
		row.Elapsed = time.Since(t0).Seconds()
		rep.Rows = append(rep.Rows, row)
		fmt.Fprintf(cfg.Log, "chaos: [%d/%d] %s\n", i+1, len(cfg.Faults), row.Line())
	}
	rep.Ended = time.Now().UTC()
	return rep, ctx.Err()
}

// Line is the row in one line, for the progress log.
func (r Row) Line() string {
	verdict := "pass"
	if !r.Pass() {
		verdict = "FAIL"
	}
	s := fmt.Sprintf("%s/%s: %s: in flight at kill %s (uploads %d, %d cut), accepted %d of %d, ready %d, failed %d, lost %d, duplicated %d, orphans %d, client errors %s, uploads ok again %s, backlog drained %s (%.0f s)",
		r.Variant, r.Fault, verdict, r.inFlight(), r.UploadsAtKill, r.UploadsCut, r.Accepted, r.Sent, r.Ready, r.Failed, r.Lost, r.Duplicated, r.Orphans,
		counts(r.ClientErrors), seconds(r.RecoverAccept), seconds(r.RecoverDrain), r.Elapsed)
	if r.Error != "" {
		s += ": " + r.Error
	}
	return s
}

// upload is one accepted upload as the client saw it.
type upload struct {
	owner string
	acked time.Time
	final bool // the answer already said ready or failed (the monolith's 201)
}

// runRow runs one row: heal the stack, probe it, load it, deal the fault,
// drain, count.
func runRow(ctx context.Context, cfg Config, f Fault, seed uint64, set *loadgen.PhotoSet) Row {
	row := Row{Variant: f.Variant, Fault: f.Name, Kind: f.Kind, ClientErrors: map[string]int{},
		FailedReasons: map[string]int{}, LostWhy: map[string]int{}, RecoverAccept: -1, RecoverDrain: -1}
	c := cfg.Stack
	if err := heal(ctx, c, f.Variant); err != nil {
		row.Error = "the stack did not come back before the row: " + brief.OneLine(err.Error())
		return row
	}
	st, err := openStore(ctx, c, f.Variant)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	defer st.close()
	base := baseURL(c, f.Variant)
	if err := probe(ctx, cfg, base, st, seed+1_000_000, set); err != nil {
		row.Error = "probe before the row: " + brief.OneLine(err.Error())
		return row
	}
	var from offsets
	if f.Variant == EventDriven {
		if from, err = endOffsets(ctx, c.KafkaBrokers()); err != nil {
			row.Error = err.Error()
			return row
		}
	}

	tgt, err := loadgen.NewAPITarget(loadgen.APIConfig{BaseURL: base, Secret: cfg.Secret, Users: users, Seed: seed,
		TokenTTL: time.Hour, Photos: set})
	if err != nil {
		row.Error = err.Error()
		return row
	}
	var mu sync.Mutex
	accepted := map[string]upload{}
	acceptedSeq := map[uint64]bool{}
	tgt.OnUpload(func(h loadgen.Hit, a loadgen.UploadAnswer) {
		mu.Lock()
		defer mu.Unlock()
		accepted[a.ID] = upload{owner: loadgen.UserName(seed, h.User), acked: a.Acked, final: a.Status == "ready" || a.Status == "failed"}
		acceptedSeq[h.Seq] = true
	})
	owners := make([]string, users)
	for i := range owners {
		owners[i] = loadgen.UserName(seed, i)
	}
	sc := &loadgen.Scenario{Name: "chaos-" + f.ID(), Seed: seed, Users: users, MaxInFlight: 64, Timeout: requestTimeout,
		Mix:    []loadgen.Weight{{Op: loadgen.OpUpload, Weight: 1}},
		Phases: []loadgen.Phase{{Name: "load", Duration: cfg.Duration, Pacer: loadgen.Constant{Rate: cfg.Rate}}},
		Photos: photos}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	counted := &countingTransport{next: tr}
	client := tgt.Client(&http.Client{Transport: counted})
	defer tr.CloseIdleConnections()

	pctx, stopPoll := context.WithCancel(ctx)
	finals := newPoller(st, owners)
	pollDone := make(chan struct{})
	go func() { finals.run(pctx); close(pollDone) }()
	defer func() { stopPoll(); <-pollDone }()

	if f.Name == "tagger" {
		restore, err := slowVision(ctx, c)
		if err != nil {
			row.Error = err.Error()
			return row
		}
		defer restore()
	}
	t0 := time.Now()
	results, err := loadgen.Attack(ctx, sc, tgt.Target, loadgen.WithClient(client))
	if err != nil {
		row.Error = err.Error()
		return row
	}
	dealt := make(chan dealing, 1)
	go func() {
		dealt <- deal(ctx, c, f, t0, FaultAt(cfg.Duration), cfg.Down, busyWaitOf(cfg), counted.inFlight)
	}()
	var rs []loadgen.Result
	for r := range results {
		rs = append(rs, r)
	}
	d := <-dealt
	row.Killed = d.pids
	row.InFlightAtKill = d.inFlight
	row.KilledAt = d.killed.Sub(t0).Seconds()
	row.RestartedAt = d.restarted.Sub(t0).Seconds()
	if d.err != nil {
		row.Error = d.err.Error()
	}

	// The client's side.
	mu.Lock()
	var lastFail, firstOKAfter time.Time
	unanswered := 0
	for _, r := range rs {
		if !r.Dropped {
			row.Sent++
		}
		if acceptedSeq[r.Seq] {
			continue
		}
		key := r.Class()
		if r.Status > 0 {
			key = strconv.Itoa(r.Status)
		}
		row.ClientErrors[key]++
		if r.Status >= 500 || key == "transport" || key == "timeout" || key == "canceled" {
			unanswered++
		}
		if r.Intended.After(lastFail) {
			lastFail = r.Intended
		}
	}
	row.Accepted = len(accepted)
	for _, r := range rs {
		if !d.killed.IsZero() && !r.Sent.IsZero() && r.Sent.Before(d.killed) && r.Done.After(d.killed) {
			row.UploadsAtKill++
			if !acceptedSeq[r.Seq] {
				row.UploadsCut++
			}
		}
	}
	for _, r := range rs {
		if acceptedSeq[r.Seq] && r.Intended.After(lastFail) && (firstOKAfter.IsZero() || r.Done.Before(firstOKAfter)) {
			firstOKAfter = r.Done
		}
	}
	switch {
	case lastFail.IsZero():
		row.RecoverAccept = 0
	case !firstOKAfter.IsZero() && !d.restarted.IsZero():
		row.RecoverAccept = max(0, firstOKAfter.Sub(d.restarted).Seconds())
	}
	mu.Unlock()

	// The drain: until every accepted photo is final, or the bound.
	done := func() bool {
		for id, u := range accepted {
			if !u.final && finals.at(id).IsZero() {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(cfg.Drain); !done() && time.Now().Before(deadline); {
		if !sleep.For(ctx, pollEvery) {
			break
		}
	}
	stopPoll()
	<-pollDone

	// Backlog drained: every photo accepted before the restart is final.
	if !d.restarted.IsZero() {
		var last time.Time
		all := true
		for id, u := range accepted {
			if u.acked.After(d.restarted) {
				continue
			}
			at := u.acked
			if !u.final {
				at = finals.at(id)
			}
			if at.IsZero() {
				all = false
				break
			}
			if at.After(last) {
				last = at
			}
		}
		if all {
			row.RecoverDrain = max(0, last.Sub(d.restarted).Seconds())
		}
	}

	// The stores' side.
	rows, err := readRows(ctx, st, owners)
	if err != nil {
		row.Error = "read the stores after the drain: " + brief.OneLine(err.Error())
		return row
	}
	made := map[[32]byte][]imaging.Thumb{}
	for id, u := range accepted {
		r, ok := rows[id]
		switch {
		case !ok:
			row.lose(id, "no row")
		case r.status == "pending":
			row.lose(id, "still pending")
		case r.status == "failed":
			row.Failed++
			row.FailedReasons[brief.OneLine(r.reason)]++
		default:
			missing, differ, err := checkObjects(ctx, st, made, u.owner, id)
			if err != nil {
				row.Error = "read the objects: " + brief.OneLine(err.Error())
				return row
			}
			if differ {
				row.DifferentThumbnails++
			}
			if len(missing) > 0 {
				for _, m := range missing {
					row.lose(id, "ready, "+m)
				}
				continue
			}
			row.Ready++
		}
	}
	for id := range rows {
		if _, ok := accepted[id]; !ok {
			row.UnackedRows++
		}
	}
	if err := row.countOrphans(ctx, st, owners, rows, accepted); err != nil && row.Error == "" {
		row.Error = "list the stored files: " + brief.OneLine(err.Error())
	}
	row.DuplicateRows = max(0, row.UnackedRows-unanswered)
	row.Duplicated = row.DuplicateRows + row.DifferentThumbnails
	if f.Variant == EventDriven {
		ids := map[string]bool{}
		for id := range accepted {
			ids[id] = true
		}
		if row.ResentEvents, err = resentEvents(ctx, c.KafkaBrokers(), from, ids); err != nil && row.Error == "" {
			row.Error = err.Error()
		}
	}
	sort.Strings(row.LostIDs)
	return row
}

// countOrphans counts the stored files or objects of owners whose photo
// has no row (rows, after the drain): Orphans of them, OrphanPhotos
// distinct photos, OrphanAccepted photos the client saw accepted (those
// are lost already).
func (r *Row) countOrphans(ctx context.Context, st store, owners []string, rows map[string]stored, accepted map[string]upload) error {
	files, err := st.stored(ctx, owners)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for id := range rows {
		have[strings.ToLower(id)] = true
	}
	acked := map[string]bool{}
	for id := range accepted {
		acked[strings.ToLower(id)] = true
	}
	for id, n := range files {
		if have[id] {
			continue
		}
		r.Orphans += n
		r.OrphanPhotos++
		if acked[id] {
			r.OrphanAccepted++
		}
	}
	return nil
}

// lose counts id as lost, for why.
func (r *Row) lose(id, why string) {
	if !slices.Contains(r.LostIDs, id) {
		r.Lost++
		r.LostIDs = append(r.LostIDs, id)
	}
	r.LostWhy[why]++
}

// readRows reads the rows after the drain, trying again for a while: the
// server the row killed may have come back only just.
func readRows(ctx context.Context, st store, owners []string) (map[string]stored, error) {
	var err error
	for range 20 {
		var rows map[string]stored
		if rows, err = st.rows(ctx, owners); err == nil {
			return rows, nil
		}
		if !sleep.For(ctx, time.Second) {
			break
		}
	}
	return nil, err
}

// dealing is what deal did: the pids it killed, when, and when the
// target was back.
type dealing struct {
	pids              []int
	killed, restarted time.Time
	// inFlight is the target's calls in flight as last read before the
	// SIGKILL (notMeasured: no gauge to read).
	inFlight int
	err      error
}

// deal kills f's target at t0+at, or, for a target whose work in
// flight it can read (inFlightReader), at the first moment after that
// when some is, within wait; for a service, it starts it again down
// later.
func deal(ctx context.Context, c stack.Config, f Fault, t0 time.Time, at, down, wait time.Duration, uploading func() int) (d dealing) {
	d.inFlight = notMeasured
	if !sleep.Until(ctx, t0.Add(at)) {
		return dealing{err: ctx.Err()}
	}
	read := inFlightReader(c, f, uploading)
	switch f.Kind {
	case KindService:
		if read != nil {
			d.inFlight = waitBusy(ctx, read, wait)
		}
		pid, err := stack.Kill(c, f.Service)
		d.killed = time.Now()
		if err != nil {
			d.err = err
			return d
		}
		d.pids = []int{pid}
		sleep.For(ctx, down)
		var out bytes.Buffer
		if err := stack.Start(context.WithoutCancel(ctx), c, f.Service, &out); err != nil {
			d.err = fmt.Errorf("restart %s: %w", f.Service, err)
			return d
		}
		d.restarted = time.Now()
	case KindReplicas:
		// A function scaled to zero has no replica to kill: wait a little
		// for the load to wake one; then for one to be busy.
		deadline := time.Now().Add(busyWait)
		for {
			rt := stack.PIDs(c)["runtime"]
			if rt == 0 {
				d.err = errors.New("the runtime does not run")
				return d
			}
			if d.pids = stack.Children(rt, "fn", f.Service); len(d.pids) > 0 || time.Now().After(deadline) {
				break
			}
			sleep.For(ctx, 100*time.Millisecond)
		}
		// The replicas are found before the wait for work, so that the
		// kill follows the reading at once (a replica the runtime starts
		// meanwhile is spared).
		if read != nil {
			d.inFlight = waitBusy(ctx, read, wait)
		}
		d.killed = time.Now()
		if len(d.pids) == 0 {
			d.err = fmt.Errorf("no replica of %s ran within %s of the fault", f.Service, busyWait)
			return d
		}
		for _, pid := range d.pids {
			// Each replica has a process group of its own.
			if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				d.err = fmt.Errorf("kill replica %d of %s: %w", pid, f.Service, err)
			}
		}
		d.restarted = d.killed // the runtime starts new replicas itself
	}
	return d
}

// heal starts whatever of the servers and the variant's apps does not run
// (a row whose restart failed must not spoil the next).
func heal(ctx context.Context, c stack.Config, variant string) error {
	pids := stack.PIDs(c)
	for _, name := range append(stack.ServiceNames(), apps[variant]...) {
		if pids[name] != 0 {
			continue
		}
		var out bytes.Buffer
		if err := stack.Start(ctx, c, name, &out); err != nil {
			return err
		}
	}
	return nil
}

// probe uploads one photo as a user of its own and waits until the store
// has it final: the row starts on a stack that works end to end.
func probe(ctx context.Context, cfg Config, base string, st store, seed uint64, set *loadgen.PhotoSet) error {
	tgt, err := loadgen.NewAPITarget(loadgen.APIConfig{BaseURL: base, Secret: cfg.Secret, Users: 1, Seed: seed, TokenTTL: time.Hour, Photos: set})
	if err != nil {
		return err
	}
	ids := make(chan string, 1)
	tgt.OnUpload(func(_ loadgen.Hit, a loadgen.UploadAnswer) {
		select {
		case ids <- a.ID:
		default:
		}
	})
	client := tgt.Client(&http.Client{Timeout: 30 * time.Second})
	owner := loadgen.UserName(seed, 0)
	deadline := time.Now().Add(probeTimeout)
	for time.Now().Before(deadline) {
		req, err := tgt.Target(ctx, loadgen.Hit{Op: loadgen.OpUpload, User: 0, Intended: time.Now()})
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		select {
		case id := <-ids:
			for time.Now().Before(deadline) {
				rows, err := st.rows(ctx, []string{owner})
				if r, ok := rows[id]; err == nil && ok && r.status != "pending" {
					return nil
				}
				if !sleep.For(ctx, pollEvery) {
					return ctx.Err()
				}
			}
			return fmt.Errorf("the probe photo %s was not final within %s", id, probeTimeout)
		default:
		}
		if !sleep.For(ctx, time.Second) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("no upload accepted within %s", probeTimeout)
}

// baseURL is the public API of variant in c.
func baseURL(c stack.Config, variant string) string {
	env := map[string]string{}
	for _, kv := range c.AppEnv() {
		env[kv[0]] = kv[1]
	}
	return map[string]string{
		Monolith:      env["PHOTOBENCH_MONOLITH_URL"],
		MonolithAsync: env["PHOTOBENCH_MONOLITH_ASYNC_URL"],
		EventDriven:   env["PHOTOBENCH_EVENTDRIVEN_URL"],
	}[variant]
}

// poller records when each photo of owners was first seen final in the
// store, polling every pollEvery; a poll that fails (the killed server)
// is skipped.
type poller struct {
	st     store
	owners []string
	mu     sync.Mutex
	first  map[string]time.Time
}

func newPoller(st store, owners []string) *poller {
	return &poller{st: st, owners: owners, first: map[string]time.Time{}}
}

func (p *poller) run(ctx context.Context) {
	for {
		rows, err := p.st.rows(ctx, p.owners)
		now := time.Now()
		if err == nil {
			p.mu.Lock()
			for id, r := range rows {
				if r.status != "pending" && p.first[id].IsZero() {
					p.first[id] = now
				}
			}
			p.mu.Unlock()
		}
		if !sleep.For(ctx, pollEvery) {
			return
		}
	}
}

// at is when id was first seen final; zero if not yet.
func (p *poller) at(id string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first[id]
}
