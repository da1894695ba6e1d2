package sso

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/onecard-campus/onecard"
)

// OIDC is an OpenID Connect relying party for the authorization code flow,
// on github.com/coreos/go-oidc (discovery, key sets, ID token signature,
// issuer, audience and expiry) and golang.org/x/oauth2 (the code exchange).
// Begin adds a nonce and a PKCE S256 challenge; the flow keeps the nonce
// and the verifier, so the code is worth nothing without the browser's
// cookie, and the ID token is this login's own.
type OIDC struct {
	issuer    string
	clientID  string
	userClaim string
	provider  *oidc.Provider
	verifier  *oidc.IDTokenVerifier
	oauth     oauth2.Config // without RedirectURL, which each flow sets
	hc        *http.Client
}

// NewOIDC discovers the provider at issuer and returns a client of it.
// userClaim is the claim holding the card number (DefaultUserClaim when
// empty). hc nil means DefaultClient; it is used for discovery, keys, the
// token and userinfo endpoints.
func NewOIDC(ctx context.Context, issuer, clientID, clientSecret, userClaim string, hc *http.Client) (*OIDC, error) {
	if clientID == "" {
		return nil, errors.New("sso: oidc: a client ID is required")
	}
	if userClaim == "" {
		userClaim = onecard.DefaultUserClaim
	}
	hc = client(hc)
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, hc), issuer)
	if err != nil {
		return nil, fmt.Errorf("sso: oidc: discovery at %s: %w", issuer, err)
	}
	var meta struct {
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("sso: oidc: discovery at %s: %w", issuer, err)
	}
	ep := p.Endpoint()
	// The auth style is chosen from discovery rather than auto-detected:
	// detection retries a refused request the other way, and a provider
	// that spends the code on the first try would then refuse a good login.
	// Basic is the default the spec gives when the list is absent.
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if len(meta.AuthMethods) > 0 && !slices.Contains(meta.AuthMethods, "client_secret_basic") &&
		slices.Contains(meta.AuthMethods, "client_secret_post") {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &OIDC{
		issuer: issuer, clientID: clientID, userClaim: userClaim, provider: p, hc: hc,
		verifier: p.Verifier(&oidc.Config{ClientID: clientID}),
		oauth: oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, Endpoint: ep,
			Scopes: []string{oidc.ScopeOpenID, "profile"}},
	}, nil
}

// Kind implements Provider.
func (o *OIDC) Kind() string { return onecard.SSOOIDC }

// Begin implements Provider.
func (o *OIDC) Begin(callback string) (string, Flow) {
	f := Flow{Kind: onecard.SSOOIDC, IdP: o.issuer, Callback: callback, State: random(), Nonce: random(),
		Verifier: oauth2.GenerateVerifier(), Started: time.Now().UTC()}
	cfg := o.oauth
	cfg.RedirectURL = callback
	return cfg.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), f
}

// Finish implements Provider.
func (o *OIDC) Finish(ctx context.Context, r *http.Request, f Flow) (string, error) {
	q := r.URL.Query()
	if err := f.check(onecard.SSOOIDC, o.issuer, q.Get("state")); err != nil {
		return "", err
	}
	// RFC 9207: a provider that names itself must be this one, or the
	// answer is another provider's, mixed up on the way.
	if iss := q.Get("iss"); iss != "" && iss != o.issuer {
		return "", refuse(ErrState, fmt.Sprintf("answer from issuer %q", iss))
	}
	if e := q.Get("error"); e != "" {
		return "", refuse(ErrDenied, fmt.Sprintf("authorization error %s: %s", e, q.Get("error_description")))
	}
	code := q.Get("code")
	if code == "" {
		return "", refuse(ErrDenied, "no code")
	}
	ctx = oidc.ClientContext(ctx, o.hc)
	cfg := o.oauth
	cfg.RedirectURL = f.Callback
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			// Spent, expired or forged code, or a verifier that is not
			// this code's: the person's login, not the configuration.
			return "", refuse(ErrDenied, fmt.Sprintf("token endpoint: invalid_grant: %s", re.ErrorDescription))
		}
		return "", fmt.Errorf("sso: oidc: code exchange: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return "", errors.New("sso: oidc: the token response has no id_token")
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		// A signature, issuer, audience or expiry that does not verify.
		return "", refuse(ErrDenied, fmt.Sprintf("ID token: %v", err))
	}
	// go-oidc leaves the nonce to the caller: it is what ties the token to
	// this flow rather than to any login of the same person.
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return "", refuse(ErrDenied, "ID token nonce is not the flow's")
	}
	var std struct {
		AZP string `json:"azp"`
	}
	if err := idt.Claims(&std); err != nil {
		return "", refuse(ErrDenied, fmt.Sprintf("ID token claims: %v", err))
	}
	// Core 3.1.3.7: with several audiences the token must have been issued
	// to this client (azp), not merely mention it.
	if (len(idt.Audience) > 1 || std.AZP != "") && std.AZP != o.clientID {
		return "", refuse(ErrDenied, fmt.Sprintf("ID token issued to %q", std.AZP))
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return "", refuse(ErrDenied, fmt.Sprintf("ID token at_hash: %v", err))
		}
	}
	user, err := o.username(ctx, idt, tok)
	if err != nil {
		return "", err
	}
	return user, nil
}

// username reads the user claim from the ID token or, as some providers
// put only sub there, from userinfo (whose sub must be the token's).
func (o *OIDC) username(ctx context.Context, idt *oidc.IDToken, tok *oauth2.Token) (string, error) {
	var claims map[string]json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return "", refuse(ErrDenied, fmt.Sprintf("ID token claims: %v", err))
	}
	if v, ok := claimString(claims[o.userClaim]); ok {
		return v, nil
	}
	if o.provider.UserInfoEndpoint() == "" {
		return "", fmt.Errorf("sso: oidc: the ID token has no %q claim and the provider no userinfo", o.userClaim)
	}
	info, err := o.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return "", fmt.Errorf("sso: oidc: userinfo: %w", err)
	}
	if info.Subject != idt.Subject {
		return "", refuse(ErrDenied, fmt.Sprintf("userinfo is about %q, the ID token about %q", info.Subject, idt.Subject))
	}
	claims = nil
	if err := info.Claims(&claims); err != nil {
		return "", fmt.Errorf("sso: oidc: userinfo: %w", err)
	}
	if v, ok := claimString(claims[o.userClaim]); ok {
		return v, nil
	}
	return "", fmt.Errorf("sso: oidc: neither the ID token nor userinfo has the %q claim: set the school's user claim", o.userClaim)
}

// claimString reads a claim as text. Student numbers are sometimes sent
// as JSON numbers, which are kept digit for digit rather than through a
// float.
func claimString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		s = strings.TrimSpace(s)
		return s, s != ""
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var n json.Number
	if d.Decode(&n) == nil {
		return n.String(), true
	}
	return "", false
}
