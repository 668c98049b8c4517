package photo_test

import (
	"testing"

	"github.com/photobench/photobench/photo"
)

func TestParseID(t *testing.T) {
	const canonical = "01a24780-f83a-7a6f-bdf8-3a9129bc6057"
	tests := []struct {
		name, in string
		want     string // "" for an Invalid error
		valid    bool   // ValidID(in)
	}{
		{"canonical", canonical, canonical, true},
		{"upper case", "01A24780-F83A-7A6F-BDF8-3A9129BC6057", canonical, false},
		{"mixed case", "01a24780-F83A-7a6f-bdf8-3A9129bc6057", canonical, false},
		{"no hyphens", "01a24780f83a7a6fbdf83a9129bc6057", "", false},
		{"braces", "{" + canonical + "}", "", false},
		{"urn", "urn:uuid:" + canonical, "", false},
		{"not hex", "01a24780-f83a-7a6f-bdf8-3a9129bc605g", "", false},
		{"path", "../../etc/passwd-0000-0000-000000000", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := photo.ParseID(tt.in)
			if tt.want == "" {
				if photo.KindOf(err) != photo.Invalid {
					t.Errorf("ParseID(%q) = %q, %v; want an Invalid error", tt.in, got, err)
				}
			} else if got != tt.want || err != nil {
				t.Errorf("ParseID(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if v := photo.ValidID(tt.in); v != tt.valid {
				t.Errorf("ValidID(%q) = %v, want %v", tt.in, v, tt.valid)
			}
		})
	}
}
