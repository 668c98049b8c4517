package auth_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/photo"
)

// testSecret signs the tokens of these tests (and the fuzz corpus).
var testSecret = []byte("photobench-test-secret-0123456789")

func mustIssuer(t testing.TB, secret []byte) *auth.Issuer {
	t.Helper()
	iss, err := auth.NewIssuer(secret)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func mustVerifier(t testing.TB, secret []byte, leeway time.Duration) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(secret, leeway)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sign signs claims with method and key, bypassing the Issuer, to craft
// tokens it would never mint.
func sign(t testing.TB, method jwt.SigningMethod, claims jwt.Claims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(sub string, iat, exp time.Time) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Issuer:    auth.IssuerName,
		Subject:   sub,
		IssuedAt:  jwt.NewNumericDate(iat),
		ExpiresAt: jwt.NewNumericDate(exp),
	}
}

func TestConstructorsCheckSecret(t *testing.T) {
	short := []byte("fifteen-bytes!!")
	if _, err := auth.NewIssuer(short); err == nil {
		t.Error("NewIssuer accepted a 15-byte secret")
	}
	if _, err := auth.NewVerifier(short, 0); err == nil {
		t.Error("NewVerifier accepted a 15-byte secret")
	}
	if _, err := auth.NewVerifier(testSecret, -time.Second); err == nil {
		t.Error("NewVerifier accepted a negative leeway")
	}
}

func TestMintVerifyRoundTrip(t *testing.T) {
	iss := mustIssuer(t, testSecret)
	v := mustVerifier(t, testSecret, 0)
	for _, user := range []string{"a", "user-42", "Under_Score", strings.Repeat("x", 64)} {
		t.Run(user, func(t *testing.T) {
			tok, err := iss.Mint(user, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != user {
				t.Errorf("Verify = %q, want %q", got, user)
			}
		})
	}
}

func TestMintedClaims(t *testing.T) {
	iss := mustIssuer(t, testSecret)
	now := time.Unix(1_800_000_000, 0)
	tok, err := iss.MintAt("ann", now, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(parts))
	}
	var header map[string]any
	var payload map[string]any
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	if header["alg"] != "HS256" {
		t.Errorf("header %v: want alg HS256", header)
	}
	want := map[string]any{"iss": "photobench", "sub": "ann", "iat": 1_800_000_000.0, "exp": 1_800_007_200.0}
	for k, w := range want {
		if payload[k] != w {
			t.Errorf("claim %s = %v, want %v", k, payload[k], w)
		}
	}
}

func TestMintRefuses(t *testing.T) {
	iss := mustIssuer(t, testSecret)
	tests := []struct {
		name string
		user string
		ttl  time.Duration
	}{
		{"empty user", "", time.Hour},
		{"user too long", strings.Repeat("x", 65), time.Hour},
		{"user with slash", "a/b", time.Hour},
		{"user with space", "a b", time.Hour},
		{"user with unicode", "zoë", time.Hour},
		{"zero ttl", "ann", 0},
		{"negative ttl", "ann", -time.Minute},
		{"ttl over the maximum", "ann", auth.MaxLifetime + time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, err := iss.Mint(tt.user, tt.ttl); err == nil {
				t.Errorf("Mint(%q, %v) = %q, want an error", tt.user, tt.ttl, tok)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	now := time.Now()
	iss := mustIssuer(t, testSecret)
	valid, err := iss.Mint("ann", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := iss.MintAt("ann", now.Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	future, err := iss.MintAt("ann", now.Add(time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherSecret, err := mustIssuer(t, []byte("another-secret-of-enough-bytes")).Mint("ann", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(valid, ".")
	forgedPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"photobench","sub":"root","iat":1,"exp":99999999999}`))
	noneToken := sign(t, jwt.SigningMethodNone, claims("ann", now, now.Add(time.Hour)), jwt.UnsafeAllowNoneSignatureType)
	ok := claims("ann", now, now.Add(time.Hour))
	wrongIssuer := ok
	wrongIssuer.Issuer = "someone-else"
	noIssuer := ok
	noIssuer.Issuer = ""
	noExp := ok
	noExp.ExpiresAt = nil
	noIat := ok
	noIat.IssuedAt = nil
	tooLong := claims("ann", now, now.Add(auth.MaxLifetime+time.Second))
	oldAndLong := claims("ann", now.Add(-30*24*time.Hour), now.Add(time.Hour))
	notBefore := ok
	notBefore.NotBefore = jwt.NewNumericDate(now.Add(time.Hour))

	tests := []struct {
		name, token, wantMsg string
	}{
		{"empty", "", "missing"},
		{"garbage", "not a token", "malformed"},
		{"two segments", parts[0] + "." + parts[1], "malformed"},
		{"four segments", valid + ".x", "malformed"},
		{"bad base64", "!!!." + parts[1] + "." + parts[2], "malformed"},
		{"huge", strings.Repeat("a", auth.MaxTokenLen+1), "malformed"},
		{"expired", expired, "expired"},
		{"issued in the future", future, "not valid yet"},
		{"not valid before an hour from now", sign(t, jwt.SigningMethodHS256, notBefore, testSecret), "not valid yet"},
		{"lifetime over the maximum", sign(t, jwt.SigningMethodHS256, tooLong, testSecret), "lifetime"},
		{"issued a month ago, valid an hour more", sign(t, jwt.SigningMethodHS256, oldAndLong, testSecret), "lifetime"},
		{"other secret", otherSecret, "signature"},
		{"tampered payload", parts[0] + "." + forgedPayload + "." + parts[2], "signature"},
		{"no signature", parts[0] + "." + parts[1] + ".", "signature"},
		{"non-canonical signature", parts[0] + "." + parts[1] + "." + flipLastBits(parts[2]), "malformed"},
		{"alg none", noneToken, "algorithm"},
		{"alg HS512", sign(t, jwt.SigningMethodHS512, ok, testSecret), "algorithm"},
		{"alg HS384", sign(t, jwt.SigningMethodHS384, ok, testSecret), "algorithm"},
		{"alg RS256 with the secret as HMAC key", rs256Confusion(t, ok), "algorithm"},
		{"alg unknown", withHeader(t, `{"alg":"XX1","typ":"JWT"}`, parts[1]), "algorithm"},
		{"wrong issuer", sign(t, jwt.SigningMethodHS256, wrongIssuer, testSecret), "claims"},
		{"no issuer", sign(t, jwt.SigningMethodHS256, noIssuer, testSecret), "claims"},
		{"no exp", sign(t, jwt.SigningMethodHS256, noExp, testSecret), "claims"},
		{"no iat", sign(t, jwt.SigningMethodHS256, noIat, testSecret), "claims"},
		{"empty subject", sign(t, jwt.SigningMethodHS256, claims("", now, now.Add(time.Hour)), testSecret), "subject"},
		{"subject with slash", sign(t, jwt.SigningMethodHS256, claims("../ann", now, now.Add(time.Hour)), testSecret), "subject"},
		{"subject too long", sign(t, jwt.SigningMethodHS256, claims(strings.Repeat("a", 65), now, now.Add(time.Hour)), testSecret), "subject"},
		{"subject a number", signMap(t, jwt.MapClaims{"iss": "photobench", "sub": 42, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}), "malformed"},
	}
	v := mustVerifier(t, testSecret, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, err := v.Verify(tt.token)
			if err == nil {
				t.Fatalf("Verify accepted the token, user %q", user)
			}
			if k := photo.KindOf(err); k != photo.Unauthorized {
				t.Errorf("kind %q, want unauthorized (%v)", k, err)
			}
			if msg := photo.MessageOf(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message %q, want one mentioning %q (%v)", msg, tt.wantMsg, err)
			}
		})
	}
}

// flipLastBits changes the unused low bits of the last base64 character,
// which lenient decoders ignore: the same signature bytes, another string.
func flipLastBits(seg string) string {
	last := seg[len(seg)-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, last)
	return seg[:len(seg)-1] + string(alphabet[i^1])
}

func withHeader(t *testing.T, header, payload string) string {
	t.Helper()
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + payload + ".c2ln"
}

// rs256Confusion is the classic algorithm-confusion attack: a token that
// claims RS256 but is HMAC-signed with the verifier's secret.
func rs256Confusion(t *testing.T, c jwt.Claims) string {
	t.Helper()
	hs := sign(t, jwt.SigningMethodHS256, c, testSecret)
	parts := strings.Split(hs, ".")
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	sig, err := jwt.SigningMethodHS256.Sign(h+"."+parts[1], testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return h + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func signMap(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	return sign(t, jwt.SigningMethodHS256, c, testSecret)
}

func TestVerifyLeeway(t *testing.T) {
	iss := mustIssuer(t, testSecret)
	// Expired 30 s ago.
	tok, err := iss.MintAt("ann", time.Now().Add(-time.Hour-30*time.Second), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mustVerifier(t, testSecret, 0).Verify(tok); err == nil {
		t.Error("no leeway: expired token accepted")
	}
	if user, err := mustVerifier(t, testSecret, time.Minute).Verify(tok); err != nil || user != "ann" {
		t.Errorf("one minute leeway: Verify = %q, %v; want ann", user, err)
	}
}

// TestVerifyClockSkew: a token minted by a clock a little ahead is
// accepted within the leeway, and refused beyond it; a token living
// exactly MaxLifetime is accepted.
func TestVerifyClockSkew(t *testing.T) {
	iss := mustIssuer(t, testSecret)
	v := mustVerifier(t, testSecret, 5*time.Second)
	tests := []struct {
		name   string
		ahead  time.Duration // how far ahead the minting clock is
		ttl    time.Duration
		wantOK bool
	}{
		{"clock 2 s ahead", 2 * time.Second, time.Hour, true},
		{"clock 30 s ahead", 30 * time.Second, time.Hour, false},
		{"the maximum lifetime", 0, auth.MaxLifetime, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := iss.MintAt("ann", time.Now().Add(tt.ahead), tt.ttl)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(tok); (err == nil) != tt.wantOK {
				t.Errorf("Verify: %v, want accepted %v", err, tt.wantOK)
			}
		})
	}
}

func TestErrorsAreClientSafe(t *testing.T) {
	v := mustVerifier(t, testSecret, 0)
	_, err := v.Verify(sign(t, jwt.SigningMethodHS256, claims("ann", time.Now(), time.Now().Add(-time.Minute)), testSecret))
	if strings.Contains(photo.MessageOf(err), string(testSecret)) || len(photo.MessageOf(err)) > 80 {
		t.Errorf("message %q is not short and client-safe", photo.MessageOf(err))
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header, want string
		wantErr      bool
	}{
		{"Bearer abc", "abc", false},
		{"bearer abc", "abc", false},
		{"BEARER   abc  ", "abc", false},
		{"", "", true},
		{"Bearer", "", true},
		{"Bearer ", "", true},
		{"Basic dXNlcjpwYXNz", "", true},
		{"abc", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, err := auth.BearerToken(tt.header)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("BearerToken(%q) = %q, %v; want %q, error %v", tt.header, got, err, tt.want, tt.wantErr)
			}
			if err != nil && photo.KindOf(err) != photo.Unauthorized {
				t.Errorf("error kind %q, want unauthorized", photo.KindOf(err))
			}
		})
	}
}

func TestSecretFromEnv(t *testing.T) {
	if got := string(auth.SecretFromEnv(func(string) string { return "" })); got != auth.DevelopmentSecret {
		t.Errorf("unset: %q, want the development secret", got)
	}
	env := map[string]string{auth.EnvSecret: "from-the-environment-123"}
	if got := string(auth.SecretFromEnv(func(k string) string { return env[k] })); got != "from-the-environment-123" {
		t.Errorf("set: %q", got)
	}
	if _, err := auth.NewIssuer(auth.SecretFromEnv(func(string) string { return "" })); err != nil {
		t.Errorf("the development secret is too short: %v", err)
	}
}

func TestServerSecret(t *testing.T) {
	dev := func(string) string { return "" }
	devSet := func(k string) string { return map[string]string{auth.EnvSecret: auth.DevelopmentSecret}[k] }
	own := func(k string) string { return map[string]string{auth.EnvSecret: "a-random-secret-0123456789"}[k] }
	tests := []struct {
		name     string
		getenv   func(string) string
		addrs    []string
		wantErr  bool
		wantWarn bool
	}{
		{"development secret on loopback", dev, []string{"127.0.0.1:8080", "[::1]:8080", "localhost:8080"}, false, true},
		{"development secret on every address", dev, []string{":8080"}, true, false},
		{"development secret on 0.0.0.0", dev, []string{"127.0.0.1:1", "0.0.0.0:8080"}, true, false},
		{"development secret on ::", dev, []string{"[::]:8080"}, true, false},
		{"development secret on a LAN address", dev, []string{"192.168.1.10:8080"}, true, false},
		{"development secret on a host name", dev, []string{"photos.example:8080"}, true, false},
		{"development secret set explicitly, off loopback", devSet, []string{"0.0.0.0:8080"}, true, false},
		{"own secret off loopback", own, []string{"0.0.0.0:8080"}, false, false},
		{"own secret on loopback", own, []string{"127.0.0.1:8080"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			secret, err := auth.ServerSecret(slog.New(slog.NewTextHandler(&logs, nil)), tt.getenv, tt.addrs...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ServerSecret: %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, auth.EnvSecret) || !strings.Contains(msg, "loopback") {
					t.Errorf("error %q: want one line naming %s and loopback", msg, auth.EnvSecret)
				}
				return
			}
			if want := string(auth.SecretFromEnv(tt.getenv)); string(secret) != want {
				t.Errorf("secret %q, want %q", secret, want)
			}
			if warned := strings.Contains(logs.String(), "level=WARN"); warned != tt.wantWarn {
				t.Errorf("logged %q, want a warning %v", logs.String(), tt.wantWarn)
			}
		})
	}
}
