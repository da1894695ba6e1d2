package sso_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/devidp"
	"github.com/onecard-campus/onecard/sso"
)

func TestOIDCLogin(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, onecard.SSOOIDC)
	loginURL, flow := p.Begin(e.callback)
	for _, want := range []string{e.idp.Issuer() + "/oidc/authorize?", "code_challenge_method=S256", "nonce=", "state="} {
		if !strings.Contains(loginURL, want) {
			t.Errorf("login URL %s lacks %s", loginURL, want)
		}
	}
	if flow.Nonce == "" || flow.Verifier == "" || flow.State == "" || strings.Contains(loginURL, flow.Verifier) {
		t.Errorf("flow %+v: want a nonce, a state and a verifier that is not in the URL", flow)
	}
	flow, err := sso.DecodeFlow(flow.Encode())
	if err != nil {
		t.Fatal(err)
	}
	loc := newBrowser(t).mustLogin(t, loginURL)
	if !strings.HasPrefix(loc, e.callback+"?") {
		t.Errorf("redirected to %s, want the callback", loc)
	}
	user, err := p.Finish(ctx, callback(loc), flow)
	if err != nil || user != "2025000001" {
		t.Fatalf("Finish = %q, %v", user, err)
	}

	// Another claim: sub is the user name at the development IdP too.
	cfg := e.idp.OIDCConfig(1)
	cfg.UserClaim = "sub"
	p, err = sso.For(ctx, &cfg, e.hc)
	if err != nil {
		t.Fatal(err)
	}
	loginURL, flow = p.Begin(e.callback)
	if user, err := p.Finish(ctx, callback(newBrowser(t).mustLogin(t, loginURL)), flow); err != nil || user != "2025000001" {
		t.Fatalf("Finish with claim sub = %q, %v", user, err)
	}
}

func TestOIDCRefusals(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, onecard.SSOOIDC)

	t.Run("wrong password refused at the IdP", func(t *testing.T) {
		loginURL, _ := p.Begin(e.callback)
		for _, tc := range []struct{ user, pass string }{{"2025000001", "wrong"}, {"nobody", devidp.DevPassword}} {
			if loc, status := newBrowser(t).login(t, loginURL, tc.user, tc.pass); loc != "" || status != http.StatusUnauthorized {
				t.Errorf("login %q/%q: redirected to %q (%d), want 401 and no code", tc.user, tc.pass, loc, status)
			}
		}
	})

	for _, tc := range []struct {
		name   string
		tamper func(loc string, f *sso.Flow) string
		want   error
	}{
		{"genuine", func(loc string, f *sso.Flow) string { return loc }, nil},
		{"wrong state", func(loc string, f *sso.Flow) string { return withParam(loc, "state", "forged") }, sso.ErrState},
		{"flow of another login", func(loc string, f *sso.Flow) string {
			_, *f = p.Begin(e.callback)
			return loc
		}, sso.ErrState},
		{"flow too old", func(loc string, f *sso.Flow) string {
			f.Started = time.Now().Add(-sso.FlowTTL - time.Second)
			return loc
		}, sso.ErrState},
		{"answer of another issuer", func(loc string, f *sso.Flow) string { return withParam(loc, "iss", "https://id.elsewhere.edu.cn") }, sso.ErrState},
		{"access denied at the IdP", func(loc string, f *sso.Flow) string {
			return withParam(withParam(e.callback, "state", f.State), "error", "access_denied")
		}, sso.ErrDenied},
		{"forged code", func(loc string, f *sso.Flow) string { return withParam(loc, "code", "forged") }, sso.ErrDenied},
		{"no code", func(loc string, f *sso.Flow) string { return strings.Replace(loc, "code=", "x=", 1) }, sso.ErrDenied},
		{"PKCE verifier of another login", func(loc string, f *sso.Flow) string {
			f.Verifier = oauth2.GenerateVerifier()
			return loc
		}, sso.ErrDenied},
		{"nonce of another login", func(loc string, f *sso.Flow) string {
			f.Nonce = "another"
			return loc
		}, sso.ErrDenied},
		{"code redeemed for another redirect URI", func(loc string, f *sso.Flow) string {
			f.Callback = e.other
			return loc
		}, sso.ErrDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loginURL, flow := p.Begin(e.callback)
			loc := tc.tamper(newBrowser(t).mustLogin(t, loginURL), &flow)
			_, err := p.Finish(ctx, callback(loc), flow)
			wantRefusal(t, err, tc.want)
		})
	}

	t.Run("replayed code", func(t *testing.T) {
		loginURL, flow := p.Begin(e.callback)
		loc := newBrowser(t).mustLogin(t, loginURL)
		if _, err := p.Finish(ctx, callback(loc), flow); err != nil {
			t.Fatal(err)
		}
		_, err := p.Finish(ctx, callback(loc), flow)
		wantRefusal(t, err, sso.ErrDenied)
	})

	t.Run("wrong client secret is a configuration error", func(t *testing.T) {
		cfg := e.idp.OIDCConfig(1)
		cfg.ClientSecret = "wrong"
		bad, err := sso.For(ctx, &cfg, e.hc)
		if err != nil {
			t.Fatal(err)
		}
		loginURL, flow := bad.Begin(e.callback)
		_, err = bad.Finish(ctx, callback(newBrowser(t).mustLogin(t, loginURL)), flow)
		if err == nil || errors.Is(err, sso.ErrDenied) || onecard.ErrorCode(err) != onecard.EINTERNAL {
			t.Errorf("Finish = %v, want an internal error", err)
		}
	})

	t.Run("claim nowhere is a configuration error", func(t *testing.T) {
		cfg := e.idp.OIDCConfig(1)
		cfg.UserClaim = "student_number"
		bad, err := sso.For(ctx, &cfg, e.hc)
		if err != nil {
			t.Fatal(err)
		}
		loginURL, flow := bad.Begin(e.callback)
		_, err = bad.Finish(ctx, callback(newBrowser(t).mustLogin(t, loginURL)), flow)
		if err == nil || onecard.ErrorCode(err) != onecard.EINTERNAL || !strings.Contains(err.Error(), "student_number") {
			t.Errorf("Finish = %v, want an internal error naming the claim", err)
		}
	})
}

// TestOIDCAnotherIdPsToken splits one issuer across two development IdPs
// with different keys: the published keys are the first's, everything else
// (the login, the code, the token) the second's. Its ID token, however
// well-formed, is signed by a key the issuer does not publish.
func TestOIDCAnotherIdPsToken(t *testing.T) {
	e := newEnv(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	impostor, err := devidp.New(devidp.Options{BaseURL: e.idp.Issuer(), Users: directory, ClientID: clientID,
		ClientSecret: clientSecret, RedirectURIs: []string{e.callback}, Key: other})
	if err != nil {
		t.Fatal(err)
	}
	split := http.NewServeMux()
	split.Handle("/idp/oidc/jwks", e.idp)
	split.Handle("/idp/", impostor)
	e.handler.Store(http.Handler(split))

	p := e.provider(t, onecard.SSOOIDC)
	loginURL, flow := p.Begin(e.callback)
	_, err = p.Finish(ctx, callback(newBrowser(t).mustLogin(t, loginURL)), flow)
	wantRefusal(t, err, sso.ErrDenied)
}

// TestOIDCTamperedIDToken replaces the ID token on its way from the token
// endpoint with one the test makes from the genuine token's claims.
func TestOIDCTamperedIDToken(t *testing.T) {
	e := newEnv(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rw := &rewriter{base: e.hc.Transport}
	e.hc = &http.Client{Transport: rw}
	p := e.provider(t, onecard.SSOOIDC)

	for _, tc := range []struct {
		name string
		// idToken makes the token to deliver from the genuine one (raw),
		// its claims and key ID.
		idToken func(t *testing.T, raw string, claims map[string]any, kid string) string
		// userinfo, when set, rewrites the userinfo answer.
		userinfo func(map[string]any)
		want     error
	}{
		{"re-signed unchanged by the IdP's key", func(t *testing.T, raw string, c map[string]any, kid string) string {
			return sign(t, testKey(), kid, jose.RS256, c)
		}, nil, nil},
		{"payload changed, signature kept", func(t *testing.T, raw string, c map[string]any, kid string) string {
			c["preferred_username"] = "2025000002"
			parts := strings.Split(raw, ".")
			return parts[0] + "." + encodeClaims(t, c) + "." + parts[2]
		}, nil, sso.ErrDenied},
		{"signed by another key under the IdP's key ID", func(t *testing.T, raw string, c map[string]any, kid string) string {
			return sign(t, other, kid, jose.RS256, c)
		}, nil, sso.ErrDenied},
		{"signed by another key under its own key ID", func(t *testing.T, raw string, c map[string]any, kid string) string {
			return sign(t, other, "other", jose.RS256, c)
		}, nil, sso.ErrDenied},
		{"HS256 keyed with the IdP's public modulus", func(t *testing.T, raw string, c map[string]any, kid string) string {
			return sign(t, testKey().PublicKey.N.Bytes(), kid, jose.HS256, c)
		}, nil, sso.ErrDenied},
		{"unsigned (alg none)", func(t *testing.T, raw string, c map[string]any, kid string) string {
			return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + encodeClaims(t, c) + "."
		}, nil, sso.ErrDenied},
		{"wrong audience", func(t *testing.T, raw string, c map[string]any, kid string) string {
			c["aud"], c["azp"] = "library", "library"
			return sign(t, testKey(), kid, jose.RS256, c)
		}, nil, sso.ErrDenied},
		{"audience shared, issued to another party", func(t *testing.T, raw string, c map[string]any, kid string) string {
			c["aud"], c["azp"] = []string{"library", clientID}, "library"
			return sign(t, testKey(), kid, jose.RS256, c)
		}, nil, sso.ErrDenied},
		{"wrong issuer", func(t *testing.T, raw string, c map[string]any, kid string) string {
			c["iss"] = "https://id.elsewhere.edu.cn"
			return sign(t, testKey(), kid, jose.RS256, c)
		}, nil, sso.ErrDenied},
		{"expired", func(t *testing.T, raw string, c map[string]any, kid string) string {
			c["exp"] = time.Now().Add(-time.Minute).Unix()
			return sign(t, testKey(), kid, jose.RS256, c)
		}, nil, sso.ErrDenied},
		{"nonce of another login", func(t *testing.T, raw string, c map[string]any, kid string) string {
			c["nonce"] = "another"
			return sign(t, testKey(), kid, jose.RS256, c)
		}, nil, sso.ErrDenied},
		{"no nonce", func(t *testing.T, raw string, c map[string]any, kid string) string {
			delete(c, "nonce")
			return sign(t, testKey(), kid, jose.RS256, c)
		}, nil, sso.ErrDenied},
		{"at_hash of another access token", func(t *testing.T, raw string, c map[string]any, kid string) string {
			c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA"
			return sign(t, testKey(), kid, jose.RS256, c)
		}, nil, sso.ErrDenied},
		{"user claim only in userinfo", func(t *testing.T, raw string, c map[string]any, kid string) string {
			delete(c, "preferred_username")
			return sign(t, testKey(), kid, jose.RS256, c)
		}, nil, nil},
		{"user claim only in a userinfo about someone else", func(t *testing.T, raw string, c map[string]any, kid string) string {
			delete(c, "preferred_username")
			return sign(t, testKey(), kid, jose.RS256, c)
		}, func(u map[string]any) { u["sub"], u["preferred_username"] = "2025000002", "2025000002" }, sso.ErrDenied},
		{"card number as a JSON number", func(t *testing.T, raw string, c map[string]any, kid string) string {
			c["preferred_username"] = json.Number("2025000001")
			return sign(t, testKey(), kid, jose.RS256, c)
		}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rw.set(func(t2 string) string {
				c, kid := claimsOf(t, t2)
				return tc.idToken(t, t2, c, kid)
			}, tc.userinfo)
			loginURL, flow := p.Begin(e.callback)
			user, err := p.Finish(ctx, callback(newBrowser(t).mustLogin(t, loginURL)), flow)
			wantRefusal(t, err, tc.want)
			if tc.want == nil && user != "2025000001" {
				t.Errorf("user = %q", user)
			}
		})
	}
}

// rewriter is the relying party's transport with a hand in the answers of
// the token and userinfo endpoints.
type rewriter struct {
	base     http.RoundTripper
	idToken  func(string) string
	userinfo func(map[string]any)
}

// set is called between subtests, when no request is in flight.
func (rw *rewriter) set(idToken func(string) string, userinfo func(map[string]any)) {
	rw.idToken, rw.userinfo = idToken, userinfo
}

func (rw *rewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rw.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	var edit func(map[string]any)
	switch {
	case strings.HasSuffix(r.URL.Path, "/oidc/token") && rw.idToken != nil:
		edit = func(m map[string]any) { m["id_token"] = rw.idToken(m["id_token"].(string)) }
	case strings.HasSuffix(r.URL.Path, "/oidc/userinfo") && rw.userinfo != nil:
		edit = rw.userinfo
	default:
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	edit(m)
	body, _ = json.Marshal(m)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

// claimsOf reads a JWT's claims and key ID without verifying it.
func claimsOf(t *testing.T, raw string) (map[string]any, string) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("the IdP's ID token does not parse: %v", err)
	}
	d := json.NewDecoder(bytes.NewReader(jws.UnsafePayloadWithoutVerification()))
	d.UseNumber()
	var c map[string]any
	if err := d.Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c, jws.Signatures[0].Header.KeyID
}

func encodeClaims(t *testing.T, c map[string]any) string {
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign makes a compact JWS of the claims with any key and algorithm.
func sign(t *testing.T, key any, kid string, alg jose.SignatureAlgorithm, c map[string]any) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
