package report

// Colours: one hue per architecture, used the same way in every chart:
// the sync monolith blue, the async monolith bluish green (Okabe and Ito's,
// apart from the blue and the orange also for colour-blind readers), the
// event-driven app orange.
const (
	colMonolith      = "#1f5fbf"
	colMonolithLight = "#8fb3ea"
	colAsync         = "#009e73"
	colAsyncLight    = "#80d3bc"
	colEvent         = "#d9730d"
	colEventLight    = "#f2b880"
)

// colourName names an architecture's colour in captions.
func colourName(arch string) string {
	switch arch {
	case archMonolith:
		return "blue"
	case archAsync:
		return "green"
	}
	return "orange"
}

// warm is the palette of the event-driven functions: warm hues, apart from
// the monolith's blue.
var warm = []string{"#d9730d", "#a3360f", "#e0a800", "#c2185b", "#7b4a2d", "#ff5722", "#8e6c00", "#6d1b3f"}

// functionColour gives each event-driven function a fixed colour.
func functionColour(name string) string {
	order := []string{"thumbnailer", "tagger", "catalog", "ingest", "query", "front", "runtime"}
	for i, n := range order {
		if n == name {
			return warm[i]
		}
	}
	h := 0
	for _, c := range name {
		h = h*31 + int(c)
	}
	return warm[(h%len(warm)+len(warm))%len(warm)]
}

// archColour is an architecture's colour, light for its secondary series.
func archColour(arch string, light bool) string {
	dark, pale := colEvent, colEventLight
	switch arch {
	case archMonolith:
		dark, pale = colMonolith, colMonolithLight
	case archAsync:
		dark, pale = colAsync, colAsyncLight
	}
	if light {
		return pale
	}
	return dark
}

// ArchColour is an architecture's colour in the report's charts (by its
// label: results.Monolith, MonolithAsync, EventDriven), light for its
// secondary series; FunctionColour an event-driven function's. Other
// charts in the report's style (the live view's) use them.
func ArchColour(label string, light bool) string { return archColour(label, light) }

// FunctionColour is an event-driven function's colour; see ArchColour.
func FunctionColour(name string) string { return functionColour(name) }
