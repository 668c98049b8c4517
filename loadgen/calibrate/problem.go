package calibrate

// A Problem is one thing wrong with a Config or an AttackConfig, as
// Validate finds it. The field is named apart from what is wrong with it,
// so that a command line can word it with the flag that sets the field.
type Problem struct {
	Field  string // the field's Go name: "MaxInFlight"
	Reason string // what is wrong, to follow the field's name: "must be positive"
}

// String words p with this package's name for the field: "max in flight
// must be positive".
func (p Problem) String() string {
	name, ok := fieldNames[p.Field]
	if !ok {
		name = p.Field
	}
	return name + " " + p.Reason
}

// fieldNames are the names messages give Config's and AttackConfig's fields.
var fieldNames = map[string]string{
	"Self": "photobench binary", "Vegeta": "vegeta binary", "Wrk": "wrk binary",
	"URL": "URL", "Rate": "rate", "Rates": "rate",
	"Duration": "duration", "Warmup": "warm-up", "Repeats": "repeats", "Pause": "pause",
	"MaxInFlight": "max in flight", "MaxConns": "max connections", "Timeout": "timeout",
	"WrkThreads": "wrk threads", "WrkConnections": "wrk connections",
	"SearchStep": "search step", "SearchBudget": "search budget",
}

// Problems is every problem of a configuration: the error Validate
// returns.
type Problems []Problem

// Error lists the problems on one line, separated by "; ".
func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return joinProblems(s)
}

// add records a problem of field.
func (ps *Problems) add(field, reason string) {
	*ps = append(*ps, Problem{Field: field, Reason: reason})
}

// err is ps as an error, nil when there are none.
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}
