package devidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// authRequest is a checked authorization request.
type authRequest struct {
	redirectURI, state, nonce, challenge, scope, prompt string
}

// authCode is an authorization code: good once, for the request it
// answers. accessToken is what it was exchanged for, revoked if the code
// comes back (RFC 6749 section 4.1.2: a replayed code means it leaked).
type authCode struct {
	req               authRequest
	username, display string
	authTime, expires time.Time
	used              bool
	accessToken       string
}

type accessToken struct {
	username, display string
	expires           time.Time
}

func (p *IdP) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                         p.base,
		"authorization_endpoint":                         p.base + "/oidc/authorize",
		"token_endpoint":                                 p.base + "/oidc/token",
		"jwks_uri":                                       p.base + "/oidc/jwks",
		"userinfo_endpoint":                              p.base + "/oidc/userinfo",
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code"},
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"scopes_supported":                               []string{"openid", "profile"},
		"claims_supported":                               []string{"sub", "name", "preferred_username"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":               []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
	})
}

func (p *IdP) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: p.keyID, Algorithm: string(jose.RS256), Use: "sig"},
	}})
}

// authorize is /oidc/authorize: the form on GET, the credentials on POST,
// then a redirect with a code.
func (p *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	q, ok := requestQuery(w, r)
	if !ok {
		return
	}
	req, ok := p.checkAuthRequest(w, r, q)
	if !ok {
		return
	}
	sess := p.session(r)
	if req.prompt == "login" {
		sess = nil
	}
	if req.prompt == "none" {
		if sess == nil {
			p.redirectError(w, r, req, "login_required", "The user is not logged in.")
			return
		}
		p.redirectWithCode(w, r, req, sess.username, sess.display)
		return
	}
	pg := page{Title: "统一身份认证", TitleEN: "Unified Identity Authentication", Form: true, Action: p.basePath + "/oidc/authorize",
		Q: q.Encode(), Client: clientHost(req.redirectURI), Password: p.opts.Password}
	if sess != nil {
		pg.Session = &sessionView{Username: sess.username, Display: sess.display}
	}
	if r.Method != http.MethodPost {
		render(w, http.StatusOK, pg)
		return
	}
	username, display, _, err := p.login(r, req.prompt != "login")
	if err != nil {
		pg.Error, pg.ErrorEN, pg.Username = "账号或密码错误。", "Wrong account or password.", r.PostFormValue("username")
		render(w, http.StatusUnauthorized, pg)
		return
	}
	p.startSession(w, username, display)
	p.redirectWithCode(w, r, req, username, display)
}

// checkAuthRequest checks an authorization request. Until the client and
// its redirect URI are known good the answer is a page; after, errors go
// back to the client as the protocol says.
func (p *IdP) checkAuthRequest(w http.ResponseWriter, r *http.Request, q url.Values) (authRequest, bool) {
	if q.Get("client_id") != p.opts.ClientID {
		errorPage(w, http.StatusBadRequest, "该应用未在本身份提供者登记。", "This application (client_id) is not registered with this identity provider.")
		return authRequest{}, false
	}
	req := authRequest{redirectURI: q.Get("redirect_uri"), state: q.Get("state"), nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), scope: q.Get("scope"), prompt: q.Get("prompt")}
	if !p.registered(req.redirectURI) {
		errorPage(w, http.StatusBadRequest, "返回地址未在本身份提供者登记。", "The redirect_uri is not registered with this identity provider.")
		return authRequest{}, false
	}
	fail := func(code, desc string) (authRequest, bool) {
		p.redirectError(w, r, req, code, desc)
		return authRequest{}, false
	}
	switch {
	case q.Get("response_type") != "code":
		return fail("unsupported_response_type", "Only the authorization code flow (response_type=code) is supported.")
	case !slices.Contains(strings.Fields(req.scope), "openid"):
		return fail("invalid_scope", "The openid scope is required.")
	case q.Get("code_challenge_method") != "S256" || !validPKCE(req.challenge):
		// PKCE is required (OAuth 2.1), and only S256: "plain" would put
		// the verifier itself in the browser's address bar.
		return fail("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256.")
	case q.Has("request") || q.Has("request_uri"):
		return fail("request_not_supported", "Request objects are not supported.")
	case req.prompt != "" && req.prompt != "none" && req.prompt != "login" && req.prompt != "consent":
		return fail("invalid_request", "Unsupported prompt value.")
	}
	return req, true
}

// validPKCE checks the shape of a code challenge or verifier: 43 to 128
// unreserved characters (RFC 7636 section 4.1).
func validPKCE(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}

func (p *IdP) redirectError(w http.ResponseWriter, r *http.Request, req authRequest, code, desc string) {
	v := url.Values{"error": {code}, "error_description": {desc}, "iss": {p.base}}
	if req.state != "" {
		v.Set("state", req.state)
	}
	http.Redirect(w, r, withQuery(req.redirectURI, v), http.StatusSeeOther)
}

// redirectWithCode answers with a code and the issuer (RFC 9207), so a
// client talking to several providers can tell whose answer it is.
func (p *IdP) redirectWithCode(w http.ResponseWriter, r *http.Request, req authRequest, username, display string) {
	code := random()
	now := p.opts.Now()
	p.mu.Lock()
	prune(p.codes, now, func(c *authCode) time.Time { return c.expires })
	p.codes[code] = &authCode{req: req, username: username, display: display, authTime: now, expires: now.Add(CodeTTL)}
	p.mu.Unlock()
	v := url.Values{"code": {code}, "iss": {p.base}}
	if req.state != "" {
		v.Set("state", req.state)
	}
	http.Redirect(w, r, withQuery(req.redirectURI, v), http.StatusSeeOther)
}

// token is /oidc/token: a code, the client's credentials and the PKCE
// verifier in; an ID token and an access token out.
func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		tokenError(w, http.StatusMethodNotAllowed, "invalid_request", "Use POST.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "The body is not a form.")
		return
	}
	clientID, secret, basic := r.BasicAuth()
	if basic {
		if r.PostForm.Has("client_secret") {
			tokenError(w, http.StatusBadRequest, "invalid_request", "Use one client authentication method, not two.")
			return
		}
		// RFC 6749 section 2.3.1: both are form-encoded before Basic.
		var err1, err2 error
		clientID, err1 = url.QueryUnescape(clientID)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			clientID, secret = "", ""
		}
	} else {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if clientID != p.opts.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.opts.ClientSecret)) != 1 {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="devidp"`)
		}
		tokenError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Only authorization_code is supported.")
		return
	}
	now := p.opts.Now()
	access := random()
	expires := now.Add(TokenTTL)
	c, desc := p.redeem(r.PostForm, now, access, expires)
	if desc != "" {
		tokenError(w, http.StatusBadRequest, "invalid_grant", desc)
		return
	}

	atHash := sha256.Sum256([]byte(access))
	claims := map[string]any{
		"iss": p.base, "sub": c.username, "aud": p.opts.ClientID, "azp": p.opts.ClientID,
		"iat": now.Unix(), "exp": expires.Unix(), "auth_time": c.authTime.Unix(),
		"at_hash":            base64.RawURLEncoding.EncodeToString(atHash[:16]),
		"name":               c.display,
		"preferred_username": c.username,
	}
	if c.req.nonce != "" {
		claims["nonce"] = c.req.nonce
	}
	idToken, err := p.sign(claims)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "Unable to sign the ID token.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer",
		"expires_in": int(TokenTTL / time.Second), "id_token": idToken, "scope": c.req.scope})
}

// redeem spends a code for an access token, all under the lock so that a
// replay racing the first use still finds the token to revoke. It returns
// why the grant is refused, or "".
func (p *IdP) redeem(form url.Values, now time.Time, access string, expires time.Time) (*authCode, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.codes[form.Get("code")]
	switch {
	case c == nil || !now.Before(c.expires):
		return nil, "The code is unknown or expired."
	case c.used:
		delete(p.tokens, c.accessToken)
		return nil, "The code was already used; the tokens issued for it are revoked."
	}
	// Spent at its first presentation, whatever follows: a wrong verifier
	// must not be guessed again with the same code.
	c.used = true
	if form.Get("redirect_uri") != c.req.redirectURI {
		return nil, "The redirect_uri differs from the authorization request's."
	}
	verifier := form.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	if !validPKCE(verifier) || subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.req.challenge)) != 1 {
		return nil, "The code_verifier does not match the code_challenge."
	}
	prune(p.tokens, now, func(t *accessToken) time.Time { return t.expires })
	p.tokens[access] = &accessToken{username: c.username, display: c.display, expires: expires}
	c.accessToken = access
	return c, ""
}

// sign makes a compact RS256 JWT of the claims.
func (p *IdP) sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// userinfo is /oidc/userinfo, for a bearer access token.
func (p *IdP) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	t := p.tokens[tok]
	p.mu.Unlock()
	if !ok || t == nil || !p.opts.Now().Before(t.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"sub": t.username, "name": t.display, "preferred_username": t.username})
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// writeJSON answers with JSON that no cache may keep: token responses hold
// bearer secrets (RFC 6749 section 5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
