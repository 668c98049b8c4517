package cost

// Crossovers exposes the crossover search to the external tests: the
// monolith's step line (perVM USD/month per VM, capacity photos/s per VM)
// against an event-driven line (fixed USD/month + slope USD/month per
// photo/s).
func Crossovers(perVM, capacity, fixed, slope float64) [][2]float64 {
	return crossovers(line{ok: true, perVM: perVM, capacity: capacity, minVMs: 1},
		line{ok: true, fixed: fixed, slope: slope})
}

// ObjectClass exposes the S3 price class of an object-store request's op.
var ObjectClass = objectClass
