package disk_test

import (
	"testing"

	"github.com/photobench/photobench/monolith/disk"
)

func TestParseName(t *testing.T) {
	const id = "01a24780-f83a-7a6f-bdf8-3a9129bc6057"
	tests := []struct {
		name      string
		in        string
		owner, id string // "" when not a name of the layout
	}{
		{"original", "originals/ann/" + id, "ann", id},
		{"small thumbnail", "thumbnails/ann/" + id + "-small.jpg", "ann", id},
		{"large thumbnail", "thumbnails/ann/" + id + "-large.jpg", "ann", id},
		{"unknown size", "thumbnails/ann/" + id + "-huge.jpg", "", ""},
		{"thumbnail not jpg", "thumbnails/ann/" + id + "-small.png", "", ""},
		{"upper-case id", "originals/ann/01A24780-F83A-7A6F-BDF8-3A9129BC6057", "", ""},
		{"not an id", "originals/ann/notes.txt", "", ""},
		{"too deep", "originals/ann/x/" + id, "", ""},
		{"temporary file", "tmp/." + id + ".123", "", ""},
		{"other top", "backups/ann/" + id, "", ""},
		{"unsafe owner", "originals/../" + id, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner, got, ok := disk.ParseName(tt.in)
			if ok != (tt.id != "") || owner != tt.owner || got != tt.id {
				t.Errorf("ParseName(%q) = %q, %q, %v; want %q, %q", tt.in, owner, got, ok, tt.owner, tt.id)
			}
		})
	}
}
