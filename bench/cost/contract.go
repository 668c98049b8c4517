package cost

// The types the report renders. Analyze fills them from a run's results and
// the price sheets; the report (package bench/report) prints them as they
// are, so every number and unit in them is final text or a plain value.

// Table is a titled table for the report, with its units in the headers.
type Table struct {
	Title  string     `json:"title"`
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
	Notes  []string   `json:"notes,omitempty"` // footnotes: how each column was computed
}

// Chart is a line chart: lines over a shared x axis, with marked points.
type Chart struct {
	Title  string    `json:"title"`
	XLabel string    `json:"x_label"` // with unit, e.g. "average load (photos/s)"
	YLabel string    `json:"y_label"` // with unit, e.g. "cost (USD/month)"
	X      []float64 `json:"x"`
	Lines  []Line    `json:"lines"`
	Marks  []Mark    `json:"marks,omitempty"` // e.g. the crossover
	LogY   bool      `json:"log_y,omitempty"`
}

// Line is one named line of a Chart; Y has one value per Chart.X.
type Line struct {
	Name string    `json:"name"`
	Y    []float64 `json:"y"`
}

// Mark is a labelled point on a Chart.
type Mark struct {
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	Label string  `json:"label"`
}
