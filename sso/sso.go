// Package sso logs cardholders in through their school's unified identity
// authentication (统一身份认证), by CAS or OpenID Connect. It only finds out
// who the identity provider says the person is (the user name, which is the
// card number); turning that into a OneCard session is
// onecard.SSOService.CardholderSession.
//
// A login is two requests, and the web layer keeps a Flow between them:
//
//	// GET /app/login/sso?school=nankai
//	cfg, _ := db.SSOConfig(ctx, school.ID)            // ENOTFOUND: no SSO button
//	p, _ := providers.For(ctx, cfg)                   // or sso.For(ctx, cfg, hc)
//	loginURL, flow := p.Begin("https://card.example.edu.cn/app/login/sso/nankai/callback")
//	// set flow.Encode() in a short-lived (FlowTTL), HttpOnly, Secure,
//	// SameSite=Lax cookie, then redirect to loginURL
//
//	// GET /app/login/sso/nankai/callback?...
//	flow, err := sso.DecodeFlow(cookie.Value)         // and delete the cookie: a flow is used once
//	number, err := p.Finish(ctx, r, flow)
//	sess, err := db.CardholderSession(ctx, school.ID, number, p.Kind())
//
// The callback must be an absolute URL that reaches the web layer; for OIDC
// it must be registered at the provider as is, for CAS (which adds the
// state to its query) without the query. Lax, not Strict, SameSite: the
// callback arrives by a top-level navigation from the provider's site, and
// a Strict cookie would not be sent with it.
//
// Errors from Finish: errors.Is ErrState (the flow is not this response's:
// expired, another tab, another browser, a forged callback) or ErrDenied
// (the provider did not vouch: wrong password there, cancelled, a spent or
// forged ticket or code, a token that does not verify). Both carry an
// onecard.Error with EUNAUTHORIZED and a message fit for the person; their
// Error() has the provider's details for the log. Anything else (provider
// unreachable, malformed answer, misconfiguration) is EINTERNAL.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/onecard-campus/onecard"
)

// Provider is one school's identity provider.
type Provider interface {
	// Kind is onecard.SSOCAS or onecard.SSOOIDC: the via of
	// CardholderSession.
	Kind() string
	// Begin starts a login that comes back to callback. It returns where
	// to send the browser and the flow to keep until Finish.
	Begin(callback string) (loginURL string, f Flow)
	// Finish checks the callback request r against the flow, has the
	// provider confirm the login (CAS ticket validation; OIDC code
	// exchange and ID token verification) and returns the user name.
	Finish(ctx context.Context, r *http.Request, f Flow) (username string, err error)
}

// Flow is what a login in progress must remember between Begin and
// Finish: the secrets that bind the provider's answer to this browser. The
// web layer keeps it in a cookie of the browser that began the login (its
// fields are useless to anyone else) and uses it once.
type Flow struct {
	Kind     string    `json:"k"`           // onecard.SSOCAS or onecard.SSOOIDC
	IdP      string    `json:"i"`           // the CAS URL or the issuer it was begun with
	Callback string    `json:"c"`           // where the provider returns
	State    string    `json:"s"`           // compared with the state that comes back
	Nonce    string    `json:"n,omitempty"` // OIDC: must be in the ID token
	Verifier string    `json:"v,omitempty"` // OIDC: PKCE code verifier
	Started  time.Time `json:"t"`
}

// FlowTTL is how long a login may take, from Begin to Finish: long enough
// to type a password on a phone, short enough that an old cookie is
// worthless.
const FlowTTL = 10 * time.Minute

// Encode returns the flow as a cookie value (base64url JSON, about 300
// bytes).
func (f Flow) Encode() string {
	b, _ := json.Marshal(f)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeFlow reads a flow from Encode's form. A damaged value is ErrState.
func DecodeFlow(s string) (Flow, error) {
	var f Flow
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil || f.State == "" {
		return Flow{}, refuse(ErrState, "unreadable flow")
	}
	return f, nil
}

// check verifies that a flow was begun by this provider, in time, and that
// the state that came back is its own.
func (f Flow) check(kind, idp, state string) error {
	switch age := time.Since(f.Started); {
	case f.Kind != kind || f.IdP != idp:
		return refuse(ErrState, fmt.Sprintf("flow begun with %s %s, finished with %s %s", f.Kind, f.IdP, kind, idp))
	case age > FlowTTL || age < -time.Minute:
		return refuse(ErrState, fmt.Sprintf("flow started %v ago", age.Round(time.Second)))
	case f.State == "" || subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1:
		return refuse(ErrState, "state mismatch")
	}
	return nil
}

// Refusals.
var (
	ErrState  = errors.New("sso: the response does not belong to this login")
	ErrDenied = errors.New("sso: the identity provider did not vouch for the login")
)

// Messages shown for refusals. The provider's own words go to the log
// only: they may name tickets, and they are in whatever language it speaks.
var (
	msgState  = onecard.Errorf(onecard.EUNAUTHORIZED, "This login has expired or was started elsewhere. Please log in again.")
	msgDenied = onecard.Errorf(onecard.EUNAUTHORIZED, "The unified identity login did not succeed. Please try again.")
)

// refusal is ErrState or ErrDenied with the shown message and the details.
type refusal struct {
	reason error
	shown  *onecard.Error
	detail string
}

func refuse(reason error, detail string) error {
	shown := msgDenied
	if reason == ErrState {
		shown = msgState
	}
	return &refusal{reason: reason, shown: shown, detail: detail}
}

func (e *refusal) Error() string   { return e.reason.Error() + ": " + e.detail }
func (e *refusal) Unwrap() []error { return []error{e.reason, e.shown} }

// random returns 256 random bits, base64url.
func random() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// DefaultClient is used when a constructor is given no client: the
// provider's answers come back within seconds or not at all, and a login
// must not hang on a dead server.
var DefaultClient = &http.Client{Timeout: 10 * time.Second}

func client(hc *http.Client) *http.Client {
	if hc == nil {
		return DefaultClient
	}
	return hc
}

// For builds the provider of a school's configuration. For OIDC it fetches
// the discovery document, so it takes a network round trip: Providers
// keeps what it built.
func For(ctx context.Context, cfg *onecard.SSOConfig, hc *http.Client) (Provider, error) {
	// Each branch returns its own nil on error: a nil *CAS in a Provider
	// would not be a nil Provider.
	switch cfg.Kind {
	case onecard.SSOCAS:
		c, err := NewCAS(cfg.CASURL, hc)
		if err != nil {
			return nil, err
		}
		return c, nil
	case onecard.SSOOIDC:
		o, err := NewOIDC(ctx, cfg.Issuer, cfg.ClientID, cfg.ClientSecret, cfg.UserClaim, hc)
		if err != nil {
			return nil, err
		}
		return o, nil
	}
	return nil, fmt.Errorf("sso: unknown kind %q", cfg.Kind)
}

// Providers builds providers with For and keeps them, keyed by the whole
// configuration (a changed one builds anew), for ProviderTTL: discovery
// and the provider's signing keys are fetched once, not at every login,
// and a rotated key is fetched when a token names it. Safe for concurrent
// use.
type Providers struct {
	hc *http.Client
	mu sync.Mutex
	m  map[onecard.SSOConfig]cachedProvider
}

// ProviderTTL is how long Providers keeps a provider before discovering
// again, so that a provider that moved its endpoints is followed.
const ProviderTTL = time.Hour

type cachedProvider struct {
	p       Provider
	expires time.Time
}

// NewProviders returns an empty cache using hc (DefaultClient when nil).
func NewProviders(hc *http.Client) *Providers {
	return &Providers{hc: hc, m: map[onecard.SSOConfig]cachedProvider{}}
}

// For returns the provider of cfg, building it when needed. A failure is
// not kept: the next login tries again.
func (ps *Providers) For(ctx context.Context, cfg *onecard.SSOConfig) (Provider, error) {
	now := time.Now()
	ps.mu.Lock()
	c, ok := ps.m[*cfg]
	ps.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.p, nil
	}
	p, err := For(ctx, cfg, ps.hc)
	if err != nil {
		return nil, err
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for k, v := range ps.m {
		// A school has one configuration: an older one is dead.
		if k.SchoolID == cfg.SchoolID || !now.Before(v.expires) {
			delete(ps.m, k)
		}
	}
	ps.m[*cfg] = cachedProvider{p: p, expires: now.Add(ProviderTTL)}
	return p, nil
}
