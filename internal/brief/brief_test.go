package brief_test

import (
	"testing"

	"github.com/photobench/photobench/internal/brief"
)

func TestOneLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"already one line", "dial tcp: refused", "dial tcp: refused"},
		{"newlines and tabs", "first\n\tsecond\r\nthird", "first second third"},
		{"runs of spaces", "  a   b  ", "a b"},
		{"only space", " \n\t ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := brief.OneLine(tt.in); got != tt.want {
				t.Errorf("OneLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
