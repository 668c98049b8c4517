package report

import (
	"fmt"
	"strings"
)

// The report is built once as a list of blocks and rendered twice, as
// Markdown and as HTML, so that both always say the same.

type block interface{ isBlock() }

type heading struct {
	level int
	text  string
}

type para struct{ text string }

// table is a table with an optional caption above and notes below. Cells
// are plain text; code marks the columns shown as code.
type table struct {
	caption string
	header  []string
	rows    [][]string
	notes   []string
	code    map[int]bool
}

type list struct{ items []string }

// chart is a figure: its SVG, written to charts/<file>.svg and inlined in
// the HTML, with a caption that says where the data comes from.
type chart struct {
	file    string
	title   string
	caption string
	svg     []byte
}

// gallery is charts shown side by side in the HTML (one after the other
// in Markdown): the report's first screen.
type gallery struct{ charts []chart }

func (gallery) isBlock() {}
func (heading) isBlock() {}
func (para) isBlock()    {}
func (table) isBlock()   {}
func (list) isBlock()    {}
func (chart) isBlock()   {}

// doc collects blocks.
type doc struct {
	blocks []block
}

func (d *doc) h(level int, text string) { d.blocks = append(d.blocks, heading{level, text}) }
func (d *doc) p(format string, args ...any) {
	d.blocks = append(d.blocks, para{fmt.Sprintf(format, args...)})
}
func (d *doc) add(b block) { d.blocks = append(d.blocks, b) }
func (d *doc) list(items []string) {
	if len(items) > 0 {
		d.blocks = append(d.blocks, list{items})
	}
}

func (d *doc) charts() []chart {
	var out []chart
	for _, b := range d.blocks {
		switch c := b.(type) {
		case chart:
			out = append(out, c)
		case gallery:
			out = append(out, c.charts...)
		}
	}
	return out
}

// mdEscape escapes the characters Markdown would read as markup.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '*', '_', '`', '[', ']', '<', '>', '|', '#':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode formats s as a code span (in a table cell, pipes still need a
// backslash).
func mdCode(s string, inTable bool) string {
	s = strings.Join(strings.Fields(s), " ")
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

func (d *doc) markdown() []byte {
	var b strings.Builder
	for i, bl := range d.blocks {
		if i > 0 {
			b.WriteString("\n")
		}
		switch x := bl.(type) {
		case heading:
			b.WriteString(strings.Repeat("#", x.level) + " " + mdEscape(x.text) + "\n")
		case para:
			b.WriteString(mdEscape(x.text) + "\n")
		case list:
			for _, it := range x.items {
				b.WriteString("- " + mdEscape(it) + "\n")
			}
		case table:
			if x.caption != "" {
				b.WriteString("**" + mdEscape(x.caption) + "**\n\n")
			}
			cell := func(j int, s string) string {
				if x.code[j] && s != "" {
					return mdCode(s, true)
				}
				return mdEscape(s)
			}
			row := func(cells []string) {
				b.WriteString("|")
				for j := range x.header {
					s := ""
					if j < len(cells) {
						s = cells[j]
					}
					b.WriteString(" " + cell(j, s) + " |")
				}
				b.WriteString("\n")
			}
			b.WriteString("|")
			for _, h := range x.header {
				b.WriteString(" " + mdEscape(h) + " |")
			}
			b.WriteString("\n|")
			for range x.header {
				b.WriteString(" --- |")
			}
			b.WriteString("\n")
			for _, r := range x.rows {
				row(r)
			}
			for _, n := range x.notes {
				b.WriteString("\n" + mdEscape(n) + "\n")
			}
		case chart:
			mdChart(&b, x)
		case gallery:
			for j, c := range x.charts {
				if j > 0 {
					b.WriteString("\n")
				}
				mdChart(&b, c)
			}
		}
	}
	return []byte(b.String())
}

func mdChart(b *strings.Builder, x chart) {
	b.WriteString("![" + mdEscape(x.title) + "](charts/" + x.file + ".svg)\n\n")
	b.WriteString("*" + mdEscape(x.caption) + "*\n")
}

// Stylesheet is the report's CSS, for other pages in its style (the live
// view's export).
const Stylesheet = css

const css = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;border-bottom:2px solid #ddd;padding-bottom:.2em}
h2{font-size:1.35em;margin-top:2em;border-bottom:1px solid #eee}
h3{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:.88em}
caption{text-align:left;font-weight:bold;padding:.3em 0}
th,td{border:1px solid #d6d6d6;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}
tr:nth-child(even) td{background:#fbfbfb}
td code{font-size:.92em;word-break:break-all}
figure{margin:1.2em 0}
figure svg{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.88em;color:#555;max-width:880px}
.note{font-size:.85em;color:#555;margin:.2em 0}
.glance{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:.6em 1.2em}
.glance figure{margin:.4em 0}`

func (d *doc) html(title string) []byte {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
	b.WriteString("<title>" + esc(title) + "</title>\n<style>\n" + css + "\n</style>\n</head>\n<body>\n")
	for _, bl := range d.blocks {
		switch x := bl.(type) {
		case heading:
			fmt.Fprintf(&b, "<h%d>%s</h%d>\n", x.level, esc(x.text), x.level)
		case para:
			b.WriteString("<p>" + esc(x.text) + "</p>\n")
		case list:
			b.WriteString("<ul>\n")
			for _, it := range x.items {
				b.WriteString("<li>" + esc(it) + "</li>\n")
			}
			b.WriteString("</ul>\n")
		case table:
			b.WriteString("<table>\n")
			if x.caption != "" {
				b.WriteString("<caption>" + esc(x.caption) + "</caption>\n")
			}
			b.WriteString("<thead><tr>")
			for _, h := range x.header {
				b.WriteString("<th>" + esc(h) + "</th>")
			}
			b.WriteString("</tr></thead>\n<tbody>\n")
			for _, r := range x.rows {
				b.WriteString("<tr>")
				for j := range x.header {
					s := ""
					if j < len(r) {
						s = r[j]
					}
					if x.code[j] && s != "" {
						b.WriteString("<td><code>" + esc(s) + "</code></td>")
					} else {
						b.WriteString("<td>" + esc(s) + "</td>")
					}
				}
				b.WriteString("</tr>\n")
			}
			b.WriteString("</tbody>\n</table>\n")
			for _, n := range x.notes {
				b.WriteString("<p class=\"note\">" + esc(n) + "</p>\n")
			}
		case chart:
			htmlChart(&b, x)
		case gallery:
			b.WriteString("<div class=\"glance\">\n")
			for _, c := range x.charts {
				htmlChart(&b, c)
			}
			b.WriteString("</div>\n")
		}
	}
	b.WriteString("</body>\n</html>\n")
	return []byte(b.String())
}

func htmlChart(b *strings.Builder, x chart) {
	b.WriteString("<figure>\n")
	b.Write(x.svg)
	b.WriteString("<figcaption>" + esc(x.caption) + "</figcaption>\n</figure>\n")
}
