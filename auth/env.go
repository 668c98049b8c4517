package auth

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
)

// EnvSecret names the environment variable holding the signing secret.
const EnvSecret = "PHOTOBENCH_AUTH_SECRET"

// DevelopmentSecret is the secret used when EnvSecret is unset. It is public
// (it is in this source file), so it is for local benchmarking only: a
// server refuses it on any address but loopback (see ServerSecret), and any
// deployment reachable by others must set EnvSecret to a random value of at
// least MinSecretLen bytes.
const DevelopmentSecret = "photobench-development-secret-change-me"

// SecretFromEnv returns the signing secret from getenv(EnvSecret), or
// DevelopmentSecret when that is empty. It does not check the length;
// NewIssuer and NewVerifier do. Clients that mint tokens use it; servers
// use ServerSecret.
func SecretFromEnv(getenv func(string) string) []byte {
	if s := getenv(EnvSecret); s != "" {
		return []byte(s)
	}
	return []byte(DevelopmentSecret)
}

// ServerSecret is SecretFromEnv for a process that verifies bearer tokens,
// or forwards them to processes that do, and listens on addrs (host:port).
// Anyone who reads this source can mint tokens under DevelopmentSecret, so
// a server holding it (unset, or set to it) may listen on loopback only:
// on any other address, or on all of them (an empty host), ServerSecret
// returns an error saying so in one line; on loopback it logs a warning.
// A host name other than "localhost" counts as not loopback (it is not
// resolved).
func ServerSecret(log *slog.Logger, getenv func(string) string, addrs ...string) ([]byte, error) {
	secret := SecretFromEnv(getenv)
	if string(secret) != DevelopmentSecret {
		return secret, nil
	}
	for _, a := range addrs {
		if !loopback(a) {
			return nil, fmt.Errorf("%s is unset or the public development secret, and %s is not a loopback address: "+
				"set %s to a random value of at least %d bytes (e.g. openssl rand -hex 32)", EnvSecret, a, EnvSecret, MinSecretLen)
		}
	}
	log.Warn("bearer tokens are signed with the public development secret: anyone can mint them; fine on loopback only",
		"env", EnvSecret, "addrs", strings.Join(addrs, ","))
	return secret, nil
}

// loopback reports whether the listen address addr (host:port) accepts
// connections from this machine only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
