package brief_test

import (
	"strings"
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

func TestClip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"empty", "", 5, ""},
		{"shorter", "abc", 5, "abc"},
		{"exactly n", "abcde", 5, "abcde"},
		{"one over", "abcdef", 5, "abcde..."},
		{"much longer", strings.Repeat("x", 1000), 3, "xxx..."},
		{"zero", "abc", 0, "..."},
		{"bytes, not characters", "héllo", 2, "h\xc3..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := brief.Clip(tt.in, tt.n); got != tt.want {
				t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
