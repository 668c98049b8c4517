package command_test

import (
	"errors"
	"flag"
	"io"
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

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // the error's text; "" for none
		help bool
	}{
		{"flags", []string{"--n", "3", "rest"}, "", false},
		{"help", []string{"-h"}, flag.ErrHelp.Error(), true},
		{"unknown flag", []string{"--x"}, "usage: calibrate run: flag provided but not defined: -x", false},
		{"bad value", []string{"--n", "many"}, `usage: calibrate run: invalid value "many" for flag -n: parse error`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("calibrate run", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.Int("n", 0, "")
			err := command.ParseFlags(fs, tt.args)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.want == "":
				return
			case err == nil || err.Error() != tt.want:
				t.Fatalf("err = %v, want %q", err, tt.want)
			case errors.Is(err, flag.ErrHelp) != tt.help:
				t.Errorf("errors.Is(err, flag.ErrHelp) = %v, want %v", !tt.help, tt.help)
			case !tt.help && !errors.Is(err, command.ErrUsage):
				t.Errorf("%v does not wrap ErrUsage", err)
			}
		})
	}
}
