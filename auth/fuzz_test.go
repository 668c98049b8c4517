package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/photo"
)

// FuzzVerify checks that Verify never panics and that whatever it accepts
// was signed with the secret (HS256 over the first two segments), names a
// valid user, is issued by photobench, has not expired and lives at most
// auth.MaxLifetime. The seeds are a token minted now (f.Add: a token that
// verifies for ever would break the lifetime rule) and, in
// testdata/fuzz/FuzzVerify, a well-signed token issued in 2026 and expiring
// in 2100 (refused for its lifetime), an expired one, other algorithms,
// "none", garbage, an empty and an oversized token.
func FuzzVerify(f *testing.F) {
	iss := mustIssuer(f, testSecret)
	fresh, err := iss.Mint("fuzz-user", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fresh)
	v := mustVerifier(f, testSecret, 0)
	f.Fuzz(func(t *testing.T, token string) {
		user, err := v.Verify(token)
		if err != nil {
			return
		}
		if !auth.ValidUser(user) {
			t.Fatalf("accepted subject %q", user)
		}
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token of %d segments", len(parts))
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			t.Fatalf("accepted signature segment %q: %v", parts[2], err)
		}
		mac := hmac.New(sha256.New, testSecret)
		mac.Write([]byte(parts[0] + "." + parts[1]))
		if !hmac.Equal(sig, mac.Sum(nil)) {
			t.Fatal("accepted a token not signed with the secret")
		}
		var header struct {
			Alg string `json:"alg"`
		}
		var claims struct {
			Sub string   `json:"sub"`
			Iss string   `json:"iss"`
			Exp *float64 `json:"exp"`
			Iat *float64 `json:"iat"`
		}
		decodeSegment(t, parts[0], &header)
		decodeSegment(t, parts[1], &claims)
		switch {
		case header.Alg != "HS256":
			t.Fatalf("accepted alg %q", header.Alg)
		case claims.Sub != user:
			t.Fatalf("Verify = %q but sub is %q", user, claims.Sub)
		case claims.Iss != auth.IssuerName:
			t.Fatalf("accepted issuer %q", claims.Iss)
		case claims.Exp == nil || *claims.Exp <= float64(time.Now().Unix())-1:
			t.Fatalf("accepted exp %v", claims.Exp)
		case claims.Iat == nil:
			t.Fatal("accepted a token without iat")
		case *claims.Exp-*claims.Iat > auth.MaxLifetime.Seconds():
			t.Fatalf("accepted a token living %v s", *claims.Exp-*claims.Iat)
		}
	})
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("accepted segment %q: %v", seg, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("accepted segment %s: %v", b, err)
	}
}

// TestFuzzCorpus keeps the seed corpus honest: every file in it is refused,
// for the reason its name says (the accepted seed is minted by FuzzVerify
// itself).
func TestFuzzCorpus(t *testing.T) {
	v := mustVerifier(t, testSecret, 0)
	for name, wantMsg := range map[string]string{
		"lifetime_2100": "lifetime", "expired": "expired", "alg_hs512": "algorithm", "alg_none": "algorithm",
		"garbage": "malformed", "empty": "missing", "huge": "malformed",
	} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzVerify", name))
			if err != nil {
				t.Fatal(err)
			}
			_, arg, ok := strings.Cut(strings.TrimSpace(string(b)), "\n")
			if !ok || !strings.HasPrefix(arg, "string(") || !strings.HasSuffix(arg, ")") {
				t.Fatalf("not a one-string corpus file: %q", b)
			}
			token, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(arg, "string("), ")"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(token); !strings.Contains(photo.MessageOf(err), wantMsg) {
				t.Errorf("Verify: %v, want an error mentioning %q", err, wantMsg)
			}
		})
	}
}
