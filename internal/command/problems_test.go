package command_test

import (
	"errors"
	"testing"

	"github.com/photobench/photobench/internal/command"
)

func TestProblemsReportAllInOneLine(t *testing.T) {
	var p command.Problems
	if err := p.Err("x"); err != nil {
		t.Fatalf("no problems gave %v", err)
	}
	p.Addf("--addr %q: bad", "nowhere")
	p.Addf("two\nlines")
	err := p.Err("fn tagger")
	if !errors.Is(err, command.ErrUsage) {
		t.Errorf("%v does not wrap ErrUsage", err)
	}
	if want := `usage: fn tagger: --addr "nowhere": bad; two lines`; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}
