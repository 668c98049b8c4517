// Package brief shortens text for error messages, logs and reports, so that
// what a user or a dependency wrote cannot spread a message over many lines
// or make it unboundedly long.
package brief

import "strings"

// OneLine folds s onto one line: every run of white space, newlines
// included, becomes one space, and leading and trailing space goes.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Clip returns s if it is at most n bytes long (n >= 0), else its first n
// bytes followed by "...", so at most n+3 bytes. It counts bytes, not
// characters, and may cut a multi-byte character in two: quote the result
// (%q) where it goes into a message.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
