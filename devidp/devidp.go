// Package devidp is a development identity provider: a stand-in for a
// school's unified identity authentication (统一身份认证) that speaks both
// protocols OneCard's package sso does, so the demo and the tests can log
// cardholders in without a real one.
//
//   - CAS 2.0/3.0: /cas/login, /cas/serviceValidate, /cas/p3/serviceValidate,
//     /cas/logout.
//   - OpenID Connect (authorization code flow with PKCE S256 required):
//     /.well-known/openid-configuration, /oidc/authorize, /oidc/token,
//     /oidc/jwks, /oidc/userinfo. ID tokens are RS256, signed with a key
//     made when the provider starts.
//
// Everyone the Users function knows may log in, with one fixed password
// shown on the login page (DevPassword unless set). It is for development
// and demos only: it keeps its state in memory and trusts whoever knows that
// password.
//
// The IdP is an http.Handler meant to be mounted on another server at the
// path of its BaseURL (mux.Handle("/idp/", idp) for BaseURL
// http://host/idp), with or without http.StripPrefix.
package devidp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/onecard-campus/onecard"
)

// DevPassword is every user's password unless Options.Password says
// otherwise. It is printed on the login page: this provider proves nothing
// about anyone.
const DevPassword = "demo"

// Lifetimes. Tickets and codes go from the browser to OneCard's server and
// back to the IdP within seconds; two minutes leave room for a slow phone
// and little for a leaked one. The login session lets a second login (as at
// a real 统一身份认证) skip the password for a working day.
const (
	TicketTTL  = 2 * time.Minute // CAS service tickets
	CodeTTL    = 2 * time.Minute // OIDC authorization codes
	TokenTTL   = 5 * time.Minute // ID and access tokens
	SessionTTL = 8 * time.Hour   // the IdP's own login session (cookie)
)

// Options configure a development IdP.
type Options struct {
	// BaseURL is the public URL the IdP is reached at, by browsers and by
	// OneCard's server alike, e.g. http://localhost:8080/idp. It is the
	// OIDC issuer; the CAS URL is BaseURL/cas.
	BaseURL string
	// Users says whether a user name (the card number) exists and what name
	// to show for it. Required.
	Users func(ctx context.Context, username string) (display string, ok bool)
	// ClientID and ClientSecret are OneCard's OIDC client registration.
	ClientID, ClientSecret string
	// RedirectURIs may receive logins: OIDC redirect URIs must equal one;
	// a CAS service URL must equal one once its query is removed (OneCard
	// puts its state there).
	RedirectURIs []string
	// Password is everyone's password; DevPassword when empty.
	Password string
	// Key signs ID tokens; a fresh 2048-bit key when nil.
	Key *rsa.PrivateKey
	// Now is the clock; time.Now when nil. Tests move it to expire tickets.
	Now func() time.Time
}

// IdP is a running development identity provider.
type IdP struct {
	opts     Options
	base     string // BaseURL without a trailing slash
	basePath string // its path, "" at the root
	secure   bool   // https: cookies are Secure
	key      *rsa.PrivateKey
	keyID    string
	signer   jose.Signer

	mu       sync.Mutex
	tickets  map[string]*ticket
	codes    map[string]*authCode
	tokens   map[string]*accessToken
	sessions map[string]*session
}

// New checks the options and starts an IdP.
func New(opts Options) (*IdP, error) {
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("devidp: BaseURL %q is not an absolute http(s) URL without query", opts.BaseURL)
	}
	if opts.Users == nil {
		return nil, errors.New("devidp: Users is required")
	}
	if opts.ClientID == "" || opts.ClientSecret == "" {
		return nil, errors.New("devidp: ClientID and ClientSecret are required")
	}
	for _, ru := range opts.RedirectURIs {
		if u, err := url.Parse(ru); err != nil || !u.IsAbs() || u.Fragment != "" {
			return nil, fmt.Errorf("devidp: redirect URI %q is not an absolute URL without fragment", ru)
		}
	}
	if opts.Password == "" {
		opts.Password = DevPassword
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &IdP{
		opts: opts, base: strings.TrimRight(opts.BaseURL, "/"), basePath: strings.TrimRight(u.Path, "/"), secure: u.Scheme == "https",
		key: opts.Key, tickets: map[string]*ticket{}, codes: map[string]*authCode{}, tokens: map[string]*accessToken{},
		sessions: map[string]*session{},
	}
	if p.key == nil {
		if p.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("devidp: unable to make a signing key: %w", err)
		}
	}
	// The key ID is the key's thumbprint (RFC 7638), so that two IdPs with
	// different keys never share one and a relying party asks for the new
	// key instead of failing on the cached one.
	thumb, err := (&jose.JSONWebKey{Key: &p.key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("devidp: unable to name the signing key: %w", err)
	}
	p.keyID = base64.RawURLEncoding.EncodeToString(thumb)
	p.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: p.key, KeyID: p.keyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("devidp: unable to make a signer: %w", err)
	}
	return p, nil
}

// Issuer is the OIDC issuer: the base URL.
func (p *IdP) Issuer() string { return p.base }

// CASURL is the CAS server's base URL.
func (p *IdP) CASURL() string { return p.base + "/cas" }

// CASConfig is a school's configuration for logging in through this IdP
// by CAS, to pass to SetSSOConfig.
func (p *IdP) CASConfig(schoolID int64) onecard.SSOConfig {
	return onecard.SSOConfig{SchoolID: schoolID, Kind: onecard.SSOCAS, CASURL: p.CASURL()}
}

// OIDCConfig is a school's configuration for logging in through this IdP
// by OpenID Connect, to pass to SetSSOConfig.
func (p *IdP) OIDCConfig(schoolID int64) onecard.SSOConfig {
	return onecard.SSOConfig{SchoolID: schoolID, Kind: onecard.SSOOIDC, Issuer: p.Issuer(), ClientID: p.opts.ClientID,
		ClientSecret: p.opts.ClientSecret, UserClaim: onecard.DefaultUserClaim}
}

// ServeHTTP routes the IdP's endpoints under the base URL's path.
func (p *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if p.basePath != "" {
		// Mounted without StripPrefix: the path still starts with the base.
		if rest, ok := strings.CutPrefix(path, p.basePath); ok && (rest == "" || rest[0] == '/') {
			path = rest
		}
	}
	switch path {
	case "/cas/login":
		p.casLogin(w, r)
	case "/cas/serviceValidate":
		p.casValidate(w, r, false)
	case "/cas/p3/serviceValidate":
		p.casValidate(w, r, true)
	case "/cas/logout":
		p.casLogout(w, r)
	case "/.well-known/openid-configuration":
		p.discovery(w, r)
	case "/oidc/authorize":
		p.authorize(w, r)
	case "/oidc/token":
		p.token(w, r)
	case "/oidc/jwks":
		p.jwks(w, r)
	case "/oidc/userinfo":
		p.userinfo(w, r)
	default:
		http.NotFound(w, r)
	}
}

// session is the IdP's own login, kept in a cookie, so that a second
// application (or a second login) is let through without the password, as
// 统一身份认证 does.
type session struct {
	username, display string
	expires           time.Time
}

const sessionCookie = "devidp_session"

func (p *IdP) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sessions[c.Value]
	if s == nil || !p.opts.Now().Before(s.expires) {
		return nil
	}
	return s
}

func (p *IdP) startSession(w http.ResponseWriter, username, display string) {
	id := random()
	now := p.opts.Now()
	p.mu.Lock()
	prune(p.sessions, now, func(s *session) time.Time { return s.expires })
	p.sessions[id] = &session{username: username, display: display, expires: now.Add(SessionTTL)}
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: p.basePath + "/", MaxAge: int(SessionTTL / time.Second),
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
}

func (p *IdP) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		p.mu.Lock()
		delete(p.sessions, c.Value)
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: p.basePath + "/", MaxAge: -1,
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
}

// errBadLogin is the one answer for an unknown user and a wrong password.
var errBadLogin = errors.New("wrong account or password")

// login judges the login form: either "continue" with the IdP session (when
// the relying party did not ask for fresh credentials) or a user name and
// the password. fresh says the password was typed just now.
func (p *IdP) login(r *http.Request, allowSession bool) (username, display string, fresh bool, err error) {
	if r.PostFormValue("action") == "continue" {
		if s := p.session(r); s != nil && allowSession {
			// The directory may have dropped the user since.
			if display, ok := p.opts.Users(r.Context(), s.username); ok {
				return s.username, display, false, nil
			}
		}
		return "", "", false, errBadLogin
	}
	username = strings.TrimSpace(r.PostFormValue("username"))
	pass := r.PostFormValue("password")
	okPass := subtle.ConstantTimeCompare([]byte(pass), []byte(p.opts.Password)) == 1
	if username == "" || !okPass {
		return "", "", false, errBadLogin
	}
	display, ok := p.opts.Users(r.Context(), username)
	if !ok {
		return "", "", false, errBadLogin
	}
	return username, display, true, nil
}

// allowedService reports whether a CAS service URL, without its query, is
// a registered redirect URI.
func (p *IdP) allowedService(service string) bool {
	u, err := url.Parse(service)
	if err != nil || !u.IsAbs() || u.Fragment != "" {
		return false
	}
	u.RawQuery, u.ForceQuery = "", false
	return p.registered(u.String())
}

// registered reports whether uri is exactly a registered redirect URI:
// no prefix or pattern matching, which is how open redirects creep in.
func (p *IdP) registered(uri string) bool {
	for _, r := range p.opts.RedirectURIs {
		if r == uri {
			return true
		}
	}
	return false
}

// random returns 256 random bits, base64url: tickets, codes, tokens and
// session IDs are bearer secrets.
func random() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// prune drops expired entries; the maps only hold what is in flight, so a
// scan at each insertion stays small.
func prune[V any](m map[string]V, now time.Time, expires func(V) time.Time) {
	for k, v := range m {
		if !now.Before(expires(v)) {
			delete(m, k)
		}
	}
}

// withQuery returns uri with the parameters appended to its query. The
// query already there is kept byte for byte: a CAS client compares the
// service URL it sent, and OAuth requires a redirect URI's query to survive.
func withQuery(uri string, params url.Values) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + params.Encode()
}
