// Package api is OneCard's JSON HTTP API under /api/v1, described by the
// OpenAPI 3.1 document it serves at /openapi.json.
//
// It is written against the root package's service interfaces and the
// ledger's Submitter and Reader: it authenticates callers, decides who may
// call what (roles, school scope, cardholder self-service), validates input at
// the edge and maps error codes to HTTP statuses (error.go is the one place).
// The services do the work inside their own transactions.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/payment"
)

// Config holds the services the API serves. In production one *store.DB
// implements every onecard service and ledger.Reader, and a *ledger.Ledger
// implements Submitter.
type Config struct {
	Schools     onecard.SchoolService
	Cardholders onecard.CardholderService
	Cards       onecard.CardService
	PINs        onecard.PINService
	Auth        onecard.AuthService
	Operators   onecard.OperatorService
	Merchants   onecard.MerchantService
	Terminals   onecard.TerminalService
	Money       onecard.MoneyService
	Balances    BalanceCorrector
	Ledger      ledger.Submitter
	Accounts    ledger.Reader
	// Payments, when set, serves the payment side: top-ups, bindings,
	// payment codes, the public top-up, the operators' refunds and
	// reconciliations (routes.go), and the gateways' notifications and the
	// payer's result page outside /api/v1 (pay_pages.go). PaymentStore is
	// read directly for listings and settings that need no gateway.
	Payments     *payment.Service
	PaymentStore onecard.PaymentStore
	// Banks shows the bound bank card in GET /me/bindings; nil falls back
	// to PaymentStore when it implements onecard.BankBindingService (as
	// *store.DB does).
	Banks onecard.BankBindingService
	// Logger receives internal errors with their real cause; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Server is the HTTP API. It implements http.Handler.
type Server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
	api huma.API
}

// New returns the API with every route registered.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	s.api = humago.New(s.mux, humaConfig())
	s.mux.HandleFunc("GET /healthz", healthz)
	if cfg.Payments != nil {
		if cfg.PaymentStore == nil {
			panic("api: Config.Payments needs Config.PaymentStore")
		}
		if s.cfg.Banks == nil {
			s.cfg.Banks, _ = cfg.PaymentStore.(onecard.BankBindingService)
		}
		s.payPages()
	}
	s.routes()
	return s
}

// OpenAPI returns the API's description, e.g. for a command that writes it
// to a file.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// humaConfig is huma's default minus what this API does not want: the docs
// page (it loads scripts from a CDN) and the $schema links added to every
// response body.
func humaConfig() huma.Config {
	c := huma.DefaultConfig("OneCard API", "1")
	c.Info.Description = "The campus one-card system's JSON API. Amounts are int64 fen (分): 1 yuan = 100 fen. " +
		"Errors are {\"code\", \"message\"}; clients switch on code."
	c.OpenAPIPath = "/openapi" // serves /openapi.json and /openapi.yaml
	c.DocsPath = ""
	c.SchemasPath = ""
	c.CreateHooks = nil
	c.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		bearerScheme: {Type: "http", Scheme: "bearer", Description: "The token from a login."},
	}
	// onecard.Duration is an int64 underneath but travels as "30m0s".
	c.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[onecard.Duration](), reflect.TypeFor[string]())
	return c
}

type loggerKey struct{}

// ServeHTTP answers unknown paths and methods in the API's error shape (the
// mux would answer in plain text), carries the logger for huma's own errors
// and turns a panic into a logged internal error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(context.WithValue(r.Context(), loggerKey{}, s.log))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "api: panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			writeJSONError(w, internalError())
		}
	}()
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.noRoute(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// noRoute writes the mux's 404 or 405 as an API error, keeping its Allow header.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		w.Header()["Allow"] = rec.header["Allow"]
		writeJSONError(w, &ErrorResponse{Code: onecard.EINVALID, Status: http.StatusMethodNotAllowed,
			Message: "Method " + r.Method + " is not allowed on " + r.URL.Path + "."})
		return
	}
	writeJSONError(w, &ErrorResponse{Code: onecard.ENOTFOUND, Status: http.StatusNotFound,
		Message: "There is no endpoint " + r.Method + " " + r.URL.Path + "."})
}

// headerRecorder keeps the status and headers of the mux's fallback handlers
// and drops their plain-text body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(status int)      { h.status = status }

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// loggerFrom returns the server's logger for code that only has a context.
func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
