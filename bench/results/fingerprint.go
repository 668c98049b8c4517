package results

// RunStart is one run as it ran, in the bench's order: which run it was,
// where it stood in the balanced order, and the state it started from.
type RunStart struct {
	Index     int     `json:"index"`    // 1-based position among the runs made
	Block     int     `json:"block"`    // 1-based repetition block: each variant runs once per block
	Position  int     `json:"position"` // 1-based place of the run within its block
	Arch      string  `json:"arch"`
	Scenario  string  `json:"scenario"`
	Repeat    int     `json:"repeat"`
	SweepRate float64 `json:"sweep_rate,omitempty"`
	Dir       string  `json:"dir"` // Run.Dir of the run
	// Fresh names the resources made for this run alone (its databases,
	// data directories or buckets), removed after it; Shared those it
	// shared with earlier runs, which is why Rows, Objects and Lag say
	// what they held when it started.
	Fresh  string `json:"fresh,omitempty"`
	Shared string `json:"shared,omitempty"`
	// Rows are the rows present when the schedule started, by
	// database.table; Objects the objects, by bucket or data directory
	// (files); Lag the messages each consumer group had not handled (the
	// bench waits for 0 first).
	Rows    map[string]int64 `json:"rows_at_start,omitempty"`
	Objects map[string]int64 `json:"objects_at_start,omitempty"`
	Lag     map[string]int64 `json:"lag_at_start,omitempty"`
	// Problems are what could not be read or reset (the run still ran).
	Problems []string `json:"problems,omitempty"`
	// Load is the host's load in the seconds before the run's apps started.
	Load HostLoad `json:"load"`
}

// HostLoad is how busy the machine was before a measurement.
type HostLoad struct {
	// LoadAvg is /proc/loadavg's 1, 5 and 15-minute load averages.
	LoadAvg [3]float64 `json:"loadavg"`
	// OtherCPU is the CPU the machine's other processes used over Seconds
	// (all cores' busy time from /proc/stat, less the bench's own), in
	// cores: 0.5 is half a core busy on average.
	OtherCPU float64 `json:"other_cpu_cores"`
	Seconds  float64 `json:"seconds"`
}

// SweepStep is one sweep run judged against the sweep's SLO; a variant's
// sweep stops once its SLO failed at two rates (Failures reaches 2).
type SweepStep struct {
	Experiment string  `json:"experiment"`
	Arch       string  `json:"arch"`
	Rate       float64 `json:"rate"` // requests/s of the swept phase
	Repeat     int     `json:"repeat"`
	Dir        string  `json:"dir"` // Run.Dir
	Verdict    Verdict `json:"verdict"`
	// Failures counts the rates this variant's SLO failed at so far,
	// this one included; Stopped is set on the step that ended its sweep.
	Failures int  `json:"failures"`
	Stopped  bool `json:"stopped,omitempty"`
}
