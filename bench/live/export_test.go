package live_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/photobench/photobench/bench/live"
)

const hostile = `<script>alert("x")</script>`

func snapshot(frames int) live.Snapshot {
	fs := session(frames)
	return live.Snapshot{
		Title:   "Workshop " + hostile,
		Started: fs[0].At,
		Ended:   fs[len(fs)-1].At,
		Frames:  fs,
		Marks: []live.Mark{
			{Elapsed: 60, Kind: "vision", Label: "vision outage (fail, 30 s)"},
			{Elapsed: 120, Kind: "vision", Label: "vision healthy"},
			{Elapsed: 150, Kind: "restart", Label: hostile, Error: "refused: " + hostile},
		},
		Settings: map[string]string{"rate": "20 req/s", "machine": "2 cores " + hostile, "stack": "kafka 3.9"},
		Notes:    []string{"a note " + hostile},
	}
}

// nodes are the parsed document's element nodes, in order.
func nodes(t *testing.T, doc []byte) []*html.Node {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	var out []*html.Node
	for n := range root.Descendants() {
		if n.Type == html.ElementNode {
			out = append(out, n)
		}
	}
	return out
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func TestExportIsOneSelfContainedPage(t *testing.T) {
	var b bytes.Buffer
	if err := live.Export(&b, snapshot(300)); err != nil {
		t.Fatal(err)
	}
	doc := b.Bytes()
	svgs := 0
	for _, n := range nodes(t, doc) {
		switch n.Data {
		case "script", "link", "img", "iframe", "object", "embed", "base":
			t.Errorf("a <%s> element: the export must need nothing else", n.Data)
		case "svg":
			svgs++
		}
		for _, a := range n.Attr {
			switch a.Key {
			case "src", "href", "xlink:href", "srcset", "action", "poster", "data":
				t.Errorf("<%s %s=%q>: a reference", n.Data, a.Key, a.Val)
			}
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s>: a script attribute", n.Data, a.Key)
			}
		}
	}
	if want := 7 * len(live.Variants); svgs != want {
		t.Errorf("%d charts, want %d", svgs, want)
	}
	// The only URL is the SVG namespace, which names and fetches nothing.
	for _, u := range regexp.MustCompile(`(?i)https?://[^\s"'<>)]*`).FindAll(doc, -1) {
		if string(u) != "http://www.w3.org/2000/svg" {
			t.Errorf("a URL in the export: %s", u)
		}
	}
	if bytes.Contains(doc, []byte("url(")) || bytes.Contains(doc, []byte("@import")) {
		t.Error("the stylesheet refers to something outside the file")
	}
	// Every chart is well-formed SVG.
	for _, m := range regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAll(doc, -1) {
		parseSVG(t, string(m))
	}
}

func TestExportKeepsTheTimelineAndEscapesLabels(t *testing.T) {
	var b bytes.Buffer
	s := snapshot(300)
	if err := live.Export(&b, s); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("<script")) {
		t.Fatal("a label's <script> written unescaped")
	}
	var rows [][]string
	var heading, title string
	for _, n := range nodes(t, b.Bytes()) {
		switch n.Data {
		case "tr":
			var cells []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode {
					cells = append(cells, text(c))
				}
			}
			rows = append(rows, cells)
		case "h1":
			heading = text(n)
		case "title":
			if title == "" {
				title = text(n)
			}
		}
	}
	if heading != s.Title || title != s.Title {
		t.Errorf("heading %q, title %q, want %q", heading, title, s.Title)
	}
	has := func(want ...string) bool {
		for _, r := range rows {
			if strings.Join(r, "|") == strings.Join(want, "|") {
				return true
			}
		}
		return false
	}
	for _, want := range [][]string{
		{"1:00", "vision", "vision outage (fail, 30 s)", ""},
		{"2:00", "vision", "vision healthy", ""},
		{"2:30", "restart", hostile, "refused: " + hostile},
		{"machine", "2 cores " + hostile},
		{"rate", "20 req/s"},
	} {
		if !has(want...) {
			t.Errorf("no row %q in the export; rows:\n%q", want, rows)
		}
	}
	// The summary: the monolith's errors in the outage, the async
	// variants' peak backlog, at the end of the session.
	if !has(live.Variants[0], "4800", "1200", "0", "4.0 ms / 12 ms", "–", "–", "–", "0.30", "$12.50 (on demand)") {
		t.Errorf("no summary row for the monolith as the frames have it; rows:\n%q", rows)
	}
	if !has(live.Variants[2], "4800", "0", "0", "4.0 ms / 12 ms", "40 ms / 90 ms", "3600 messages", "–", "0.30", "$12.50 (on demand)") {
		t.Errorf("no summary row for the event-driven app as the frames have it; rows:\n%q", rows)
	}
	// Every chart draws the marks.
	for _, m := range regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAll(b.Bytes(), -1) {
		all := strings.Join(texts(parseSVG(t, string(m))), "\n")
		if !strings.Contains(all, "vision outage (fail…") || !strings.Contains(all, "vision healthy") {
			t.Errorf("a chart without the marks:\n%s", all)
		}
	}
}

func TestExportOfAnEmptySession(t *testing.T) {
	var b bytes.Buffer
	start := time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)
	if err := live.Export(&b, live.Snapshot{Started: start}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"photobench live session", "no frame was taken", "Nothing was pressed.", "No settings recorded."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the empty session's export lacks %q", want)
		}
	}
	if got := (live.Snapshot{Started: start}).FileName(); got != "photobench-live-2026-12-05T2100Z.html" {
		t.Errorf("file name %q", got)
	}
}

func BenchmarkExport(b *testing.B) {
	s := snapshot(live.MaxFrames)
	b.ReportAllocs()
	for b.Loop() {
		var out bytes.Buffer
		if err := live.Export(&out, s); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(out.Len()), "bytes")
	}
}
