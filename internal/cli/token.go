package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/internal/command"
)

const tokenUsage = `Usage:
  photobench token [--ttl DURATION] USER

Prints a bearer token naming USER (1-64 of A-Z a-z 0-9 _ -), for
  curl -H "Authorization: Bearer $(photobench token alice)" ...
(A USER starting with '-' goes after --: photobench token -- -bob)

Flags:
  --ttl DURATION   how long the token is valid (default and maximum 24h), e.g. 90m, 7h;
                   the servers refuse tokens that live longer

Environment:
  PHOTOBENCH_AUTH_SECRET   the signing secret the servers share (at least 16 bytes);
                           unset: the public development secret, for local
                           benchmarking only
`

// defaultTokenTTL is how long `photobench token` tokens last by default:
// as long as the servers accept.
const defaultTokenTTL = auth.MaxLifetime

// runToken implements `photobench token [--ttl 24h] USER`: one token on
// one line of stdout.
func runToken(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, usage printed below
	ttl := fs.Duration("ttl", defaultTokenTTL, "how long the token is valid")
	// Flags may come before or after USER.
	var users []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, tokenUsage)
				return nil
			}
			fmt.Fprint(stderr, tokenUsage)
			return fmt.Errorf("%w: token: %v", command.ErrUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		users = append(users, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	switch {
	case len(users) == 0:
		fmt.Fprint(stderr, tokenUsage)
		return fmt.Errorf("%w: token: no user given", command.ErrUsage)
	case len(users) > 1:
		return fmt.Errorf("%w: token: one user at a time, got %d: %q", command.ErrUsage, len(users), users)
	case *ttl <= 0 || *ttl > auth.MaxLifetime:
		return fmt.Errorf("%w: token: --ttl %v is not in (0, %v]: the servers refuse tokens that live longer", command.ErrUsage, *ttl, auth.MaxLifetime)
	case !auth.ValidUser(users[0]):
		return fmt.Errorf("%w: token: user %q is not a valid user id (want 1-64 of A-Z a-z 0-9 _ -)", command.ErrUsage, users[0])
	}
	iss, err := auth.NewIssuer(auth.SecretFromEnv(getenv))
	if err != nil {
		return fmt.Errorf("token: %s: %w", auth.EnvSecret, err)
	}
	tok, err := iss.Mint(users[0], *ttl)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if getenv(auth.EnvSecret) == "" {
		fmt.Fprintf(stderr, "photobench: %s is unset: signed with the development secret\n", auth.EnvSecret)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
