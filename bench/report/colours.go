package report

// Colours: one hue per architecture, used the same way in every chart.
const (
	colMonolith      = "#1f5fbf"
	colMonolithLight = "#8fb3ea"
	colEvent         = "#d9730d"
	colEventLight    = "#f2b880"
)

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
	if arch == archMonolith {
		if light {
			return colMonolithLight
		}
		return colMonolith
	}
	if light {
		return colEventLight
	}
	return colEvent
}
