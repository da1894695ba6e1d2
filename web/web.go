// Package web is the cardholder web app and the public top-up page: mobile
// first, server-rendered from templates embedded in the binary, in Chinese
// by default and English on request, light on JavaScript. It works inside
// WeChat, Alipay or Feishu and in any phone browser.
//
// The pages call the same services as the JSON API. Sessions live on the
// server (the store's sessions, the same as the API's bearer tokens): the
// browser holds only an HttpOnly cookie with the token, and a loss report
// or a PIN change ends them. Every form is protected against cross-origin
// posts (net/http's CrossOriginProtection), and no cardholder data goes
// into a URL.
package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/payment"
	"github.com/onecard-campus/onecard/sso"
)

// Config holds the services the pages use. In production one *store.DB
// implements every onecard service.
type Config struct {
	Schools      onecard.SchoolService
	Cardholders  onecard.CardholderService
	Cards        onecard.CardService
	PINs         onecard.PINService
	Auth         onecard.AuthService
	Money        onecard.MoneyService
	Merchants    onecard.MerchantService
	Banks        onecard.BankBindingService
	PaymentStore onecard.PaymentStore
	// Bills answers the bills pages; nil hides them.
	Bills onecard.BillService
	// Payments is the payment side; nil hides top-ups and payment codes.
	Payments *payment.Service
	// OAuthURL returns the address of a channel's (alipay, wechat) OAuth
	// authorisation page that sends the payer back to redirectURI with
	// auth_code and state: how an account is bound to the card. A
	// production deployment returns the channel's real authorisation URL
	// (Alipay's publicAppAuthorize, WeChat's oauth2/authorize, with the
	// app ID and scope); the demo points it at the sandbox's page
	// (/sandbox/oauth/{channel}). The redirect URI is this server's
	// /app/card/bind/{channel}/callback at the address the browser used
	// (https when SecureCookies is set): the one to register with the
	// channel. Nil hides the bind links.
	OAuthURL func(channel, redirectURI, state string) string
	// SSO configures unified identity login per school; nil offers the
	// card number and query PIN only.
	SSO onecard.SSOService
	// PublicURL is the app's address as browsers reach it, for the
	// identity providers' callbacks; empty uses the request's Host.
	PublicURL string
	// SecureCookies marks cookies Secure (set when served over HTTPS, as
	// in production behind TLS).
	SecureCookies bool
	Logger        *slog.Logger
	Now           func() time.Time
}

// Server is the web app. It implements http.Handler.
type Server struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	handler http.Handler
	pages   *pages
	i18n    *translations
	logins  *limiter
	// providers caches the schools' identity providers (discovery, keys).
	providers *sso.Providers
}

// New returns the web app with every page registered.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), i18n: loadTranslations(), logins: newLimiter(10, time.Minute)}
	s.pages = parsePages(s)
	s.routes()
	cop := http.NewCrossOriginProtection()
	s.handler = securityHeaders(cop.Handler(s.mux))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// securityHeaders sets what every page needs: no framing by other sites,
// no sniffing, no referrer leaking paths to gateways, scripts and styles
// from this server only.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
