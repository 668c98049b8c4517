// Package brief shortens text for error messages, logs and reports, so that
// what a user or a dependency wrote cannot spread a message over many lines
// or make it unboundedly long.
package brief

import "strings"

// OneLine folds s onto one line: every run of white space, newlines
// included, becomes one space, and leading and trailing space goes.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
