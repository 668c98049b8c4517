package auth

// EnvSecret names the environment variable holding the signing secret.
const EnvSecret = "PHOTOBENCH_AUTH_SECRET"

// DevelopmentSecret is the secret used when EnvSecret is unset. It is public
// (it is in this source file), so it is for local benchmarking only: any
// deployment reachable by others must set EnvSecret to a random value of at
// least MinSecretLen bytes.
const DevelopmentSecret = "photobench-development-secret-change-me"

// SecretFromEnv returns the signing secret from getenv(EnvSecret), or
// DevelopmentSecret when that is empty. It does not check the length;
// NewIssuer and NewVerifier do.
func SecretFromEnv(getenv func(string) string) []byte {
	if s := getenv(EnvSecret); s != "" {
		return []byte(s)
	}
	return []byte(DevelopmentSecret)
}
