package devidp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/devidp"
)

var users = map[string]string{"2025000001": "张三", "2025000002": "李四"}

func directory(_ context.Context, username string) (string, bool) {
	name, ok := users[username]
	return name, ok
}

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// clock is the IdP's settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const (
	clientID     = "onecard"
	clientSecret = "dev secret/with+signs" // needs escaping in Basic auth
)

// env is a server with the IdP mounted at /idp/ (http.StripPrefix or not)
// and the registered callback of the application.
type env struct {
	srv      *httptest.Server
	idp      *devidp.IdP
	clock    *clock
	base     string
	callback string
}

func newEnv(t *testing.T, strip bool) *env {
	t.Helper()
	var h atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().(http.Handler).ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	e := &env{srv: srv, clock: &clock{now: time.Now()}, base: srv.URL + "/idp", callback: srv.URL + "/app/callback"}
	idp, err := devidp.New(devidp.Options{BaseURL: e.base, Users: directory, ClientID: clientID, ClientSecret: clientSecret,
		RedirectURIs: []string{e.callback}, Key: testKey(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.idp = idp
	mux := http.NewServeMux()
	if strip {
		mux.Handle("/idp/", http.StripPrefix("/idp", idp))
	} else {
		mux.Handle("/idp/", idp)
	}
	h.Store(http.Handler(mux))
	return e
}

// browser keeps cookies and stops at redirects.
type browser struct{ c *http.Client }

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(t *testing.T, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := b.c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var hiddenQ = regexp.MustCompile(`name="q" value="([^"]*)"`)

// submit opens a login page and posts the form with the fields given.
func (b *browser) submit(t *testing.T, loginURL string, fields url.Values) *http.Response {
	t.Helper()
	resp, body := b.get(t, loginURL)
	m := hiddenQ.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("login page %s: %s\n%s", loginURL, resp.Status, body)
	}
	fields.Set("q", html.UnescapeString(m[1]))
	u, _ := url.Parse(loginURL)
	u.RawQuery = ""
	resp, _ = b.post(t, u.String(), fields)
	return resp
}

func (b *browser) login(t *testing.T, loginURL string) *url.URL {
	t.Helper()
	resp := b.submit(t, loginURL, url.Values{"username": {"2025000001"}, "password": {devidp.DevPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %s", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestNew(t *testing.T) {
	good := devidp.Options{BaseURL: "http://localhost:8080/idp", Users: directory, ClientID: "c", ClientSecret: "s",
		RedirectURIs: []string{"http://localhost:8080/cb"}, Key: testKey()}
	for _, tc := range []struct {
		name string
		edit func(*devidp.Options)
		ok   bool
	}{
		{"good", func(*devidp.Options) {}, true},
		{"relative base", func(o *devidp.Options) { o.BaseURL = "/idp" }, false},
		{"base with a query", func(o *devidp.Options) { o.BaseURL = "http://localhost/idp?x=1" }, false},
		{"no directory", func(o *devidp.Options) { o.Users = nil }, false},
		{"no client secret", func(o *devidp.Options) { o.ClientSecret = "" }, false},
		{"relative redirect URI", func(o *devidp.Options) { o.RedirectURIs = []string{"/cb"} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.edit(&o)
			idp, err := devidp.New(o)
			if tc.ok != (err == nil) {
				t.Fatalf("New = %v, %v", idp, err)
			}
		})
	}
	idp, _ := devidp.New(good)
	want := onecard.SSOConfig{SchoolID: 3, Kind: onecard.SSOOIDC, Issuer: "http://localhost:8080/idp", ClientID: "c", ClientSecret: "s",
		UserClaim: onecard.DefaultUserClaim}
	if got := idp.OIDCConfig(3); got != want {
		t.Errorf("OIDCConfig = %+v, want %+v", got, want)
	}
	if got := idp.CASConfig(3); got.CASURL != "http://localhost:8080/idp/cas" || got.Kind != onecard.SSOCAS || got.Validate() != nil {
		t.Errorf("CASConfig = %+v", got)
	}
}

func TestMountAndDiscovery(t *testing.T) {
	for _, strip := range []bool{false, true} {
		t.Run(map[bool]string{false: "full path", true: "StripPrefix"}[strip], func(t *testing.T) {
			e := newEnv(t, strip)
			resp, body := newBrowser().get(t, e.base+"/.well-known/openid-configuration")
			var doc map[string]any
			if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil {
				t.Fatalf("discovery: %s %s", resp.Status, body)
			}
			for k, want := range map[string]string{"issuer": e.base, "authorization_endpoint": e.base + "/oidc/authorize",
				"token_endpoint": e.base + "/oidc/token", "jwks_uri": e.base + "/oidc/jwks", "userinfo_endpoint": e.base + "/oidc/userinfo"} {
				if doc[k] != want {
					t.Errorf("%s = %v, want %s", k, doc[k], want)
				}
			}
			if e.idp.Issuer() != e.base || e.idp.CASURL() != e.base+"/cas" {
				t.Errorf("Issuer %s, CASURL %s", e.idp.Issuer(), e.idp.CASURL())
			}
			if resp, _ := newBrowser().get(t, e.base+"/nothing"); resp.StatusCode != http.StatusNotFound {
				t.Errorf("unknown path: %s", resp.Status)
			}
			keys := jwks(t, e)
			if len(keys.Keys) != 1 || keys.Keys[0].Algorithm != "RS256" || keys.Keys[0].KeyID == "" || !keys.Keys[0].IsPublic() {
				t.Errorf("JWKS = %+v", keys)
			}
		})
	}
}

func jwks(t *testing.T, e *env) jose.JSONWebKeySet {
	t.Helper()
	_, body := newBrowser().get(t, e.base+"/oidc/jwks")
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &keys); err != nil {
		t.Fatal(err)
	}
	return keys
}

func casLogin(e *env, extra ...string) string {
	v := url.Values{"service": {e.callback + "?state=xyz"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return e.base + "/cas/login?" + v.Encode()
}

func TestCASLoginPage(t *testing.T) {
	e := newEnv(t, false)
	resp, body := newBrowser().get(t, casLogin(e))
	for _, want := range []string{"统一身份认证", "Unified Identity Authentication", "<code>demo</code>", `name="viewport"`,
		`name="username"`, `type="password"`, "开发用身份提供者"} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("login page headers %v", resp.Header)
	}

	for _, tc := range []struct {
		name, url string
		status    int
	}{
		{"no service", e.base + "/cas/login", http.StatusBadRequest},
		{"unregistered service", e.base + "/cas/login?service=" + url.QueryEscape("https://evil.example/cb"), http.StatusBadRequest},
		{"registered path on another host", e.base + "/cas/login?service=" + url.QueryEscape(strings.Replace(e.callback, "127.0.0.1", "localhost", 1)),
			http.StatusBadRequest},
		{"registered service with a query", casLogin(e), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := newBrowser().get(t, tc.url)
			if resp.StatusCode != tc.status || resp.Header.Get("Location") != "" {
				t.Errorf("%s: %s, Location %q", tc.url, resp.Status, resp.Header.Get("Location"))
			}
		})
	}

	for _, tc := range []struct {
		name   string
		fields url.Values
		status int
	}{
		{"wrong password", url.Values{"username": {"2025000001"}, "password": {"wrong"}}, http.StatusUnauthorized},
		{"unknown user", url.Values{"username": {"9999"}, "password": {devidp.DevPassword}}, http.StatusUnauthorized},
		{"continue without a session", url.Values{"action": {"continue"}}, http.StatusUnauthorized},
		{"right password", url.Values{"username": {" 2025000001 "}, "password": {devidp.DevPassword}}, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := newBrowser().submit(t, casLogin(e), tc.fields)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %s, want %d", resp.Status, tc.status)
			}
			if tc.status == http.StatusSeeOther && !strings.HasPrefix(loc, e.callback+"?state=xyz&ticket=ST-") {
				t.Errorf("redirect to %s, want the service with its query kept and a ticket", loc)
			} else if tc.status != http.StatusSeeOther && loc != "" {
				t.Errorf("a refused login redirected to %s", loc)
			}
		})
	}
}

// validate asks the IdP about a ticket and returns the XML answer.
func validate(t *testing.T, e *env, path, ticket, service string, extra ...string) string {
	t.Helper()
	v := url.Values{"ticket": {ticket}, "service": {service}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	resp, body := newBrowser().get(t, e.base+path+"?"+v.Encode())
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("validation: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	return body
}

func TestCASValidation(t *testing.T) {
	e := newEnv(t, false)
	service := e.callback + "?state=xyz"
	const ok = "<cas:user>2025000001</cas:user>"
	for _, tc := range []struct {
		name string
		// steps are validations in order: path, service (or "" for the
		// right one), extra parameters, and what the answer must hold.
		steps []step
		// advance moves the clock after the login.
		advance time.Duration
	}{
		{"CAS 2.0", []step{{"/cas/serviceValidate", "", nil, ok}}, 0},
		{"CAS 3.0 says the login is new", []step{{"/cas/p3/serviceValidate", "", nil, "<cas:isFromNewLogin>true</cas:isFromNewLogin>"}}, 0},
		{"display name attribute", []step{{"/cas/serviceValidate", "", nil, "<cas:displayName>张三</cas:displayName>"}}, 0},
		{"renew with a ticket from the password", []step{{"/cas/serviceValidate", "", []string{"renew", "true"}, ok}}, 0},
		{"replayed", []step{{"/cas/serviceValidate", "", nil, ok}, {"/cas/serviceValidate", "", nil, `code="INVALID_TICKET"`}}, 0},
		{"another service, then spent", []step{{"/cas/serviceValidate", e.callback, nil, `code="INVALID_SERVICE"`},
			{"/cas/serviceValidate", "", nil, `code="INVALID_TICKET"`}}, 0},
		{"expired", []step{{"/cas/serviceValidate", "", nil, `code="INVALID_TICKET"`}}, devidp.TicketTTL},
		{"almost expired", []step{{"/cas/serviceValidate", "", nil, ok}}, devidp.TicketTTL - time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ticket := newBrowser().login(t, casLogin(e)).Query().Get("ticket")
			e.clock.Advance(tc.advance)
			for i, s := range tc.steps {
				svc := s.service
				if svc == "" {
					svc = service
				}
				if got := validate(t, e, s.path, ticket, svc, s.extra...); !strings.Contains(got, s.want) {
					t.Errorf("validation %d: %s\nwant %s", i+1, got, s.want)
				}
			}
		})
	}
	for _, q := range []string{"ticket=ST-1", "service=x", ""} {
		_, body := newBrowser().get(t, e.base+"/cas/serviceValidate?"+q)
		if !strings.Contains(body, `code="INVALID_REQUEST"`) {
			t.Errorf("validation with %q: %s", q, body)
		}
	}
}

type step struct {
	path, service string
	extra         []string
	want          string
}

func TestCASSessionAndLogout(t *testing.T) {
	e := newEnv(t, false)
	service := e.callback + "?state=xyz"
	b := newBrowser()
	b.login(t, casLogin(e))

	if _, body := b.get(t, casLogin(e)); !strings.Contains(body, "已登录为 张三（2025000001）") {
		t.Errorf("second login page does not offer to continue:\n%s", body)
	}
	if _, body := b.get(t, casLogin(e, "renew", "true")); strings.Contains(body, "已登录为") {
		t.Error("renew=true offers to continue without the password")
	}
	resp := b.submit(t, casLogin(e), url.Values{"action": {"continue"}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	ticket := loc.Query().Get("ticket")
	if resp.StatusCode != http.StatusSeeOther || ticket == "" {
		t.Fatalf("continue: %s %s", resp.Status, loc)
	}
	if got := validate(t, e, "/cas/p3/serviceValidate", ticket, service, "renew", "true"); !strings.Contains(got, `code="INVALID_TICKET"`) {
		t.Errorf("a ticket from the session passed renew=true: %s", got)
	}

	resp, _ = b.get(t, casLogin(e, "gateway", "true"))
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, service+"&ticket=ST-") {
		t.Errorf("gateway with a session went to %q", loc)
	}
	resp, _ = b.get(t, e.base+"/cas/logout?service="+url.QueryEscape(service))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != service {
		t.Errorf("logout with a registered service: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	resp, _ = b.get(t, casLogin(e, "gateway", "true"))
	if loc := resp.Header.Get("Location"); loc != service {
		t.Errorf("gateway after logout went to %q, want the service without a ticket", loc)
	}
	resp, body := b.get(t, e.base+"/cas/logout?service="+url.QueryEscape("https://evil.example/"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "您已退出") {
		t.Errorf("logout with an unregistered service: %s", resp.Status)
	}

	// A session outlives nothing: past SessionTTL the form asks again.
	b.login(t, casLogin(e))
	e.clock.Advance(devidp.SessionTTL)
	if _, body := b.get(t, casLogin(e)); strings.Contains(body, "已登录为") {
		t.Error("an expired session is offered")
	}
}

// authorizeURL is a good authorization request with the changes given
// ("" deletes a parameter).
func authorizeURL(e *env, verifier string, changes ...string) string {
	v := url.Values{"client_id": {clientID}, "redirect_uri": {e.callback}, "response_type": {"code"}, "scope": {"openid profile"},
		"state": {"st"}, "nonce": {"nn"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"}}
	for i := 0; i+1 < len(changes); i += 2 {
		if changes[i+1] == "" {
			v.Del(changes[i])
		} else {
			v.Set(changes[i], changes[i+1])
		}
	}
	return e.base + "/oidc/authorize?" + v.Encode()
}

func TestAuthorizeRequests(t *testing.T) {
	e := newEnv(t, false)
	verifier := oauth2.GenerateVerifier()
	for _, tc := range []struct {
		name    string
		changes []string
		// error is the error sent back to the client, or "" for a page
		// (status) that does not redirect anywhere.
		error  string
		status int
	}{
		{"good", nil, "", http.StatusOK},
		{"unknown client", []string{"client_id", "other"}, "", http.StatusBadRequest},
		{"unregistered redirect URI", []string{"redirect_uri", "https://evil.example/cb"}, "", http.StatusBadRequest},
		{"redirect URI with a prefix of a registered one", []string{"redirect_uri", e.srv.URL + "/app/call"}, "", http.StatusBadRequest},
		{"implicit flow", []string{"response_type", "id_token"}, "unsupported_response_type", http.StatusSeeOther},
		{"no openid scope", []string{"scope", "profile"}, "invalid_scope", http.StatusSeeOther},
		{"no PKCE", []string{"code_challenge", "", "code_challenge_method", ""}, "invalid_request", http.StatusSeeOther},
		{"plain PKCE", []string{"code_challenge", verifier, "code_challenge_method", "plain"}, "invalid_request", http.StatusSeeOther},
		{"malformed challenge", []string{"code_challenge", "short"}, "invalid_request", http.StatusSeeOther},
		{"request object", []string{"request", "eyJ..."}, "request_not_supported", http.StatusSeeOther},
		{"prompt none without a session", []string{"prompt", "none"}, "login_required", http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := newBrowser().get(t, authorizeURL(e, verifier, tc.changes...))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %s, want %d", resp.Status, tc.status)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if tc.error == "" {
				if loc.String() != "" {
					t.Errorf("redirected to %s", loc)
				}
				return
			}
			q := loc.Query()
			if !strings.HasPrefix(loc.String(), e.callback+"?") || q.Get("error") != tc.error || q.Get("state") != "st" || q.Get("iss") != e.base {
				t.Errorf("redirected to %s, want error %s with the state and issuer", loc, tc.error)
			}
		})
	}

	b := newBrowser()
	b.login(t, authorizeURL(e, verifier))
	resp, _ := b.get(t, authorizeURL(e, verifier, "prompt", "none"))
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc.Query().Get("code") == "" {
		t.Errorf("prompt=none with a session went to %s, want a code", loc)
	}
	if _, body := b.get(t, authorizeURL(e, verifier, "prompt", "login")); strings.Contains(body, "已登录为") {
		t.Error("prompt=login offers to continue without the password")
	}
}

// code logs in by OIDC and returns the code and its verifier.
func code(t *testing.T, e *env) (string, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	loc := newBrowser().login(t, authorizeURL(e, verifier))
	q := loc.Query()
	if q.Get("state") != "st" || q.Get("iss") != e.base || q.Get("code") == "" {
		t.Fatalf("redirected to %s", loc)
	}
	return q.Get("code"), verifier
}

// tokenRequest posts to the token endpoint; basic selects Basic client
// authentication (form-encoded credentials, as RFC 6749 says).
func tokenRequest(t *testing.T, e *env, form url.Values, basic bool, id, secret string) (*http.Response, map[string]any) {
	t.Helper()
	if !basic {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest(http.MethodPost, e.base+"/oidc/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}

func TestTokenEndpoint(t *testing.T) {
	e := newEnv(t, false)
	grant := func(code, verifier string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.callback}, "code_verifier": {verifier}}
	}
	for _, tc := range []struct {
		name   string
		basic  bool
		id     string
		secret string
		edit   func(url.Values)
		status int
		error  string
	}{
		{"client_secret_post", false, clientID, clientSecret, nil, http.StatusOK, ""},
		{"client_secret_basic", true, clientID, clientSecret, nil, http.StatusOK, ""},
		{"wrong secret, basic", true, clientID, "wrong", nil, http.StatusUnauthorized, "invalid_client"},
		{"wrong secret, post", false, clientID, "wrong", nil, http.StatusUnauthorized, "invalid_client"},
		{"no secret", false, clientID, "", nil, http.StatusUnauthorized, "invalid_client"},
		{"unknown client", false, "other", clientSecret, nil, http.StatusUnauthorized, "invalid_client"},
		{"two authentication methods", true, clientID, clientSecret, func(v url.Values) { v.Set("client_secret", clientSecret) },
			http.StatusBadRequest, "invalid_request"},
		{"other grant type", false, clientID, clientSecret, func(v url.Values) { v.Set("grant_type", "password") },
			http.StatusBadRequest, "unsupported_grant_type"},
		{"wrong verifier", false, clientID, clientSecret, func(v url.Values) { v.Set("code_verifier", oauth2.GenerateVerifier()) },
			http.StatusBadRequest, "invalid_grant"},
		{"no verifier", false, clientID, clientSecret, func(v url.Values) { v.Del("code_verifier") }, http.StatusBadRequest, "invalid_grant"},
		{"other redirect URI", false, clientID, clientSecret, func(v url.Values) { v.Set("redirect_uri", e.srv.URL+"/other") },
			http.StatusBadRequest, "invalid_grant"},
		{"unknown code", false, clientID, clientSecret, func(v url.Values) { v.Set("code", "forged") }, http.StatusBadRequest, "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, verifier := code(t, e)
			form := grant(c, verifier)
			if tc.edit != nil {
				tc.edit(form)
			}
			resp, m := tokenRequest(t, e, form, tc.basic, tc.id, tc.secret)
			if resp.StatusCode != tc.status || (tc.error != "" && m["error"] != tc.error) {
				t.Fatalf("token: %s %v, want %d %s", resp.Status, m, tc.status, tc.error)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Error("token response may be cached")
			}
			if tc.error == "invalid_client" && tc.basic && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate with 401 to Basic")
			}
			if (tc.error == "invalid_grant" || tc.error == "") && form.Get("code") == c {
				// Presented once, whatever happened, the code is spent.
				if resp, m := tokenRequest(t, e, grant(c, verifier), false, clientID, clientSecret); m["error"] != "invalid_grant" {
					t.Errorf("the code again: %s %v, want invalid_grant", resp.Status, m)
				}
			}
		})
	}

	t.Run("replay revokes the access token", func(t *testing.T) {
		c, verifier := code(t, e)
		_, m := tokenRequest(t, e, grant(c, verifier), false, clientID, clientSecret)
		access, _ := m["access_token"].(string)
		if status, _ := userinfo(t, e, access); status != http.StatusOK {
			t.Fatalf("userinfo with a fresh token: %d", status)
		}
		tokenRequest(t, e, grant(c, verifier), false, clientID, clientSecret)
		if status, _ := userinfo(t, e, access); status != http.StatusUnauthorized {
			t.Errorf("userinfo after the code's replay: %d, want 401", status)
		}
	})

	t.Run("expired code", func(t *testing.T) {
		c, verifier := code(t, e)
		e.clock.Advance(devidp.CodeTTL)
		if _, m := tokenRequest(t, e, grant(c, verifier), false, clientID, clientSecret); m["error"] != "invalid_grant" {
			t.Errorf("expired code: %v", m)
		}
	})

	t.Run("GET", func(t *testing.T) {
		if resp, _ := newBrowser().get(t, e.base+"/oidc/token"); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET: %s", resp.Status)
		}
	})
}

func userinfo(t *testing.T, e *env, access string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.base+"/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestIDTokenAndUserinfo(t *testing.T) {
	e := newEnv(t, true)
	c, verifier := code(t, e)
	_, m := tokenRequest(t, e, url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {e.callback},
		"code_verifier": {verifier}}, true, clientID, clientSecret)
	raw, _ := m["id_token"].(string)
	access, _ := m["access_token"].(string)
	if m["token_type"] != "Bearer" || raw == "" || access == "" {
		t.Fatalf("token response %v", m)
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	set := jwks(t, e)
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("the token's key %q is not published", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("the ID token does not verify with the published key: %v", err)
	}
	var claims struct {
		Iss, Sub, Aud, Azp, Nonce, Name string
		PreferredUsername               string `json:"preferred_username"`
		AtHash                          string `json:"at_hash"`
		Iat, Exp                        int64
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(access))
	if claims.Iss != e.base || claims.Aud != clientID || claims.Azp != clientID || claims.Sub != "2025000001" ||
		claims.PreferredUsername != "2025000001" || claims.Name != "张三" || claims.Nonce != "nn" ||
		claims.AtHash != base64.RawURLEncoding.EncodeToString(sum[:16]) || claims.Exp-claims.Iat != int64(devidp.TokenTTL/time.Second) {
		t.Errorf("claims %+v", claims)
	}

	if status, u := userinfo(t, e, access); status != http.StatusOK || u["preferred_username"] != "2025000001" || u["sub"] != "2025000001" {
		t.Errorf("userinfo: %d %v", status, u)
	}
	if status, _ := userinfo(t, e, "forged"); status != http.StatusUnauthorized {
		t.Errorf("userinfo with a forged token: %d", status)
	}
	e.clock.Advance(devidp.TokenTTL)
	if status, _ := userinfo(t, e, access); status != http.StatusUnauthorized {
		t.Errorf("userinfo with an expired token: %d", status)
	}
}
