package sso_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
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

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/devidp"
	"github.com/onecard-campus/onecard/sso"
)

var ctx = context.Background()

// users is the directory of the test IdPs: card numbers and names.
var users = map[string]string{"2025000001": "张三", "2025000002": "李四"}

func directory(_ context.Context, username string) (string, bool) {
	name, ok := users[username]
	return name, ok
}

// testKey is the IdPs' signing key, made once: RSA key generation under the
// race detector is slow, and the tampering tests sign with it too.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// env is a test server with a development IdP mounted under /idp/ (as the
// demo mounts it) and a callback URL the IdP accepts. The browser stops at
// the redirect to the callback, which the test hands to Finish.
type env struct {
	srv      *httptest.Server
	idp      *devidp.IdP
	callback string
	other    string // a second registered callback
	hc       *http.Client
	handler  atomic.Value // http.Handler serving srv
}

const (
	clientID     = "onecard"
	clientSecret = "onecard-dev-secret"
)

// newEnv starts a server; opts adjust the IdP's options.
func newEnv(t *testing.T, opts ...func(*devidp.Options)) *env {
	t.Helper()
	e := &env{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	*e = env{srv: srv, callback: srv.URL + "/app/login/sso/demo/callback", other: srv.URL + "/app/other/callback", hc: srv.Client()}
	o := devidp.Options{BaseURL: srv.URL + "/idp", Users: directory, ClientID: clientID, ClientSecret: clientSecret,
		RedirectURIs: []string{e.callback, e.other}, Key: testKey()}
	for _, f := range opts {
		f(&o)
	}
	idp, err := devidp.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.idp = idp
	mux := http.NewServeMux()
	mux.Handle("/idp/", idp)
	e.handler.Store(http.Handler(mux))
	return e
}

// provider builds the client of the env's IdP for the kind.
func (e *env) provider(t *testing.T, kind string) sso.Provider {
	t.Helper()
	cfg := e.idp.CASConfig(1)
	if kind == onecard.SSOOIDC {
		cfg = e.idp.OIDCConfig(1)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the IdP's config does not validate: %v", err)
	}
	p, err := sso.For(ctx, &cfg, e.hc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// browser is a person's browser: it keeps cookies and stops at redirects.
type browser struct{ c *http.Client }

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)">\s*<input type="hidden" name="q" value="([^"]*)">\s*<label`)
)

// login opens loginURL, fills in the password form and returns where the
// IdP redirects (the callback with a ticket or code), or "" and the status
// when it does not.
func (b *browser) login(t *testing.T, loginURL, username, password string) (string, int) {
	t.Helper()
	resp, err := b.c.Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login page: %s\n%s", resp.Status, body)
	}
	m := formAction.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no login form in\n%s", body)
	}
	u, _ := url.Parse(loginURL)
	action, _ := u.Parse(html.UnescapeString(m[1]))
	resp, err = b.c.PostForm(action.String(), url.Values{"q": {html.UnescapeString(m[2])}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", resp.StatusCode
	}
	return resp.Header.Get("Location"), resp.StatusCode
}

// mustLogin logs in as 2025000001 with the right password.
func (b *browser) mustLogin(t *testing.T, loginURL string) string {
	t.Helper()
	loc, status := b.login(t, loginURL, "2025000001", devidp.DevPassword)
	if loc == "" {
		t.Fatalf("login refused: %d", status)
	}
	return loc
}

// callback is the request the browser makes to the callback.
func callback(location string) *http.Request {
	return httptest.NewRequest(http.MethodGet, location, nil)
}

// withParam returns location with one query parameter replaced.
func withParam(location, k, v string) string {
	u, _ := url.Parse(location)
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

// wantRefusal fails unless err is the refusal want (nil for success) and
// carries EUNAUTHORIZED for the web layer.
func wantRefusal(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("Finish: %v, want success", err)
	case want == nil:
	case !errors.Is(err, want):
		t.Fatalf("Finish: %v, want %v", err, want)
	case onecard.ErrorCode(err) != onecard.EUNAUTHORIZED:
		t.Fatalf("Finish: code %q, want %q", onecard.ErrorCode(err), onecard.EUNAUTHORIZED)
	}
}

func TestCASLogin(t *testing.T) {
	for _, path := range []string{"", "serviceValidate", "p3/serviceValidate"} {
		t.Run("validate at "+path, func(t *testing.T) {
			e := newEnv(t)
			p := e.provider(t, onecard.SSOCAS)
			if path != "" {
				p.(*sso.CAS).ValidatePath = path
			}
			loginURL, flow := p.Begin(e.callback)
			if !strings.HasPrefix(loginURL, e.idp.CASURL()+"/login?service=") {
				t.Errorf("login URL %s", loginURL)
			}
			// The flow travels in a cookie.
			flow, err := sso.DecodeFlow(flow.Encode())
			if err != nil {
				t.Fatal(err)
			}
			loc := newBrowser(t).mustLogin(t, loginURL)
			if !strings.HasPrefix(loc, e.callback+"?state=") || !strings.Contains(loc, "&ticket=ST-") {
				t.Errorf("redirected to %s, want the callback with the state and a ticket", loc)
			}
			user, err := p.Finish(ctx, callback(loc), flow)
			if err != nil || user != "2025000001" {
				t.Fatalf("Finish = %q, %v", user, err)
			}
			if p.Kind() != onecard.SSOCAS {
				t.Errorf("Kind = %q", p.Kind())
			}
		})
	}
}

func TestCASRefusals(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, onecard.SSOCAS)

	t.Run("wrong password refused at the IdP", func(t *testing.T) {
		loginURL, _ := p.Begin(e.callback)
		for _, tc := range []struct{ user, pass string }{{"2025000001", "wrong"}, {"2025000001", ""}, {"nobody", devidp.DevPassword}} {
			if loc, status := newBrowser(t).login(t, loginURL, tc.user, tc.pass); loc != "" || status != http.StatusUnauthorized {
				t.Errorf("login %q/%q: redirected to %q (%d), want 401 and no ticket", tc.user, tc.pass, loc, status)
			}
		}
	})

	for _, tc := range []struct {
		name string
		// tamper changes the callback URL or the flow before Finish.
		tamper func(loc string, f *sso.Flow) string
		want   error
	}{
		{"genuine", func(loc string, f *sso.Flow) string { return loc }, nil},
		{"wrong state in the callback", func(loc string, f *sso.Flow) string { return withParam(loc, "state", "forged") }, sso.ErrState},
		{"no state in the callback", func(loc string, f *sso.Flow) string { return strings.Replace(loc, "state=", "x=", 1) }, sso.ErrState},
		{"flow of another login", func(loc string, f *sso.Flow) string {
			_, *f = p.Begin(e.callback)
			return loc
		}, sso.ErrState},
		{"flow too old", func(loc string, f *sso.Flow) string {
			f.Started = f.Started.Add(-sso.FlowTTL - time.Second)
			return loc
		}, sso.ErrState},
		{"flow begun with another CAS server", func(loc string, f *sso.Flow) string {
			f.IdP = "https://cas.elsewhere.edu.cn/cas"
			return loc
		}, sso.ErrState},
		{"flow begun by OIDC", func(loc string, f *sso.Flow) string {
			f.Kind = onecard.SSOOIDC
			return loc
		}, sso.ErrState},
		{"forged ticket", func(loc string, f *sso.Flow) string { return withParam(loc, "ticket", "ST-forged") }, sso.ErrDenied},
		{"no ticket", func(loc string, f *sso.Flow) string { return strings.Replace(loc, "ticket=", "x=", 1) }, sso.ErrDenied},
		{"ticket validated for another service", func(loc string, f *sso.Flow) string {
			f.Callback = e.other
			return loc
		}, sso.ErrDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loginURL, flow := p.Begin(e.callback)
			loc := newBrowser(t).mustLogin(t, loginURL)
			loc = tc.tamper(loc, &flow)
			_, err := p.Finish(ctx, callback(loc), flow)
			wantRefusal(t, err, tc.want)
		})
	}

	t.Run("replayed ticket", func(t *testing.T) {
		loginURL, flow := p.Begin(e.callback)
		loc := newBrowser(t).mustLogin(t, loginURL)
		if _, err := p.Finish(ctx, callback(loc), flow); err != nil {
			t.Fatal(err)
		}
		_, err := p.Finish(ctx, callback(loc), flow)
		wantRefusal(t, err, sso.ErrDenied)
	})

	t.Run("IdP unreachable is not a refusal", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		c, err := sso.NewCAS(dead.URL+"/cas", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, flow := c.Begin(e.callback)
		_, err = c.Finish(ctx, callback(withParam(withParam(e.callback, "state", flow.State), "ticket", "ST-1")), flow)
		if err == nil || errors.Is(err, sso.ErrDenied) || onecard.ErrorCode(err) != onecard.EINTERNAL {
			t.Errorf("Finish = %v, want an internal error", err)
		}
	})
}

func TestDecodeFlow(t *testing.T) {
	for _, s := range []string{"", "!!!", "e30", "bm90IGpzb24"} { // "", garbage, {}, "not json"
		_, err := sso.DecodeFlow(s)
		wantRefusal(t, err, sso.ErrState)
	}
}

func TestFor(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		cfg  onecard.SSOConfig
		kind string
	}{
		{"cas", e.idp.CASConfig(1), onecard.SSOCAS},
		{"oidc", e.idp.OIDCConfig(1), onecard.SSOOIDC},
		{"unknown kind", onecard.SSOConfig{Kind: "saml"}, ""},
		{"cas without URL", onecard.SSOConfig{Kind: onecard.SSOCAS}, ""},
		{"oidc with an issuer that is not there", onecard.SSOConfig{Kind: onecard.SSOOIDC, Issuer: e.srv.URL + "/nothing",
			ClientID: clientID, ClientSecret: clientSecret}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := sso.For(ctx, &tc.cfg, e.hc)
			if tc.kind == "" {
				if err == nil || p != nil {
					t.Errorf("For = %v, %v; want an error and a nil provider", p, err)
				}
				return
			}
			if err != nil || p.Kind() != tc.kind {
				t.Errorf("For = %v, %v; want a %s provider", p, err, tc.kind)
			}
		})
	}

	ps := sso.NewProviders(e.hc)
	cfg := e.idp.OIDCConfig(1)
	p1, err := ps.For(ctx, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p2, _ := ps.For(ctx, &cfg); p2 != p1 {
		t.Error("Providers built the same configuration twice")
	}
	cas := e.idp.CASConfig(1)
	if p3, _ := ps.For(ctx, &cas); p3 == p1 || p3.Kind() != onecard.SSOCAS {
		t.Errorf("Providers kept the old configuration of a school: %v", p3)
	}
}
