package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/payment"
	"github.com/onecard-campus/onecard/sandbox"
	"github.com/onecard-campus/onecard/sms"
	"github.com/onecard-campus/onecard/web"
)

// The sandbox's RSA keys take a while to make; every test shares one set.
var (
	sandboxKeysOnce sync.Once
	sandboxKeys     *sandbox.Keys
)

func sharedSandboxKeys() *sandbox.Keys {
	sandboxKeysOnce.Do(func() {
		var err error
		if sandboxKeys, err = sandbox.NewKeys(); err != nil {
			panic(err)
		}
	})
	return sandboxKeys
}

// payments is the payment side of a test app: a sandbox gateway speaking
// the Alipay, WeChat Pay and bank protocols over real HTTP, and a real
// payment.Service talking to it.
type payments struct {
	sb    *sandbox.Sandbox
	svc   *payment.Service
	sms   *sms.Log // the texts the service sent (codes, notices)
	sbURL string   // the sandbox's address
	// url is the service's PublicURL: the gateways' notifications reach
	// the service's NotifyHandler at url/pay/notify/{channel}; any other
	// path (a payer coming back to /pay/result/{no}) is redirected to the
	// same path on the web app.
	url string
}

// newPayApp is newApp with the payment side on: Config.Payments is the
// service and Config.OAuthURL the sandbox's authorisation page. edit runs
// after both are set.
func newPayApp(t *testing.T, edit func(*web.Config)) (*app, *payments) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := &payments{sms: sms.NewLog(quiet, 100)}
	p.sb = sandbox.NewWithKeys(sandbox.Options{
		RetryDelays: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond},
		LateDelay:   200 * time.Millisecond, Logger: quiet,
	}, sharedSandboxKeys())
	sbSrv := httptest.NewServer(p.sb)
	t.Cleanup(sbSrv.Close)
	p.sbURL = sbSrv.URL
	p.sb.SetBaseURL(sbSrv.URL)
	gateways, err := payment.Gateways(p.sb.Config(), sbSrv.Client())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	pub := httptest.NewServer(mux)
	t.Cleanup(pub.Close)
	p.url = pub.URL

	a := newApp(t, func(cfg *web.Config) {
		p.svc = payment.New(payment.Config{
			Store: cfg.PaymentStore, Schools: cfg.Schools, Cardholders: cfg.Cardholders, Cards: cfg.Cards,
			Banks: cfg.Banks, Merchants: cfg.Merchants, Gateways: gateways, SMS: p.sms, PublicURL: pub.URL,
			CodeWait: 2 * time.Second, CodePoll: 20 * time.Millisecond, Logger: quiet,
		})
		cfg.Payments = p.svc
		cfg.OAuthURL = p.oauthURL
		if edit != nil {
			edit(cfg)
		}
	})
	mux.Handle("POST /pay/notify/{channel}", p.svc.NotifyHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, a.srv.URL+r.URL.RequestURI(), http.StatusSeeOther)
	})
	// Registered last, run first: no notification is in flight when the
	// servers and the store go.
	t.Cleanup(p.sb.Close)
	return a, p
}

// oauthURL is the sandbox's authorisation page (sandbox/oauth_page.go), as
// the demo wires Config.OAuthURL.
func (p *payments) oauthURL(channel, redirectURI, state string) string {
	return p.sbURL + "/sandbox/oauth/" + url.PathEscape(channel) + "?" +
		url.Values{"redirect_uri": {redirectURI}, "state": {state}}.Encode()
}
