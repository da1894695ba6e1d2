package device

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/api"
)

// maxBody bounds a device request: an offline upload of 500 records is
// about 200 KB of JSON.
const maxBody = 2 << 20

// Config holds what the device API calls.
type Config struct {
	Terminals onecard.TerminalService
	Cards     onecard.CardService
	// Backend serves the purse calls (SAM, taps, loads, records); without
	// one those routes are not served.
	Backend Backend
	// CodePayer, when set, serves POS code payments (POST /device/v1/codepay).
	CodePayer CodePayer
	// Now is the server's clock; tests swap it.
	Now    func() time.Time
	Logger *slog.Logger
}

// Server is the device API. It implements http.Handler for /device/v1/.
type Server struct {
	cfg Config
	mux *http.ServeMux
}

// New returns the device API.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.handle("GET /device/v1/terminal", s.whoami)
	s.handle("GET /device/v1/blacklist", s.blacklist)
	if cfg.Backend != nil {
		s.handle("GET /device/v1/sam", s.sam)
		s.handle("POST /device/v1/taps", s.tap)
		s.handle("POST /device/v1/loads", s.load)
		s.handle("POST /device/v1/loads/confirm", s.confirmLoad)
		s.handle("POST /device/v1/records", s.records)
	}
	if cfg.CodePayer != nil {
		s.handle("POST /device/v1/codepay", s.codePay)
	}
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// handlerFunc is a device handler: it gets the authenticated terminal and
// the request body, and returns a value to send as JSON or an error.
type handlerFunc func(ctx context.Context, t *onecard.Terminal, r *http.Request, body []byte) (any, error)

type terminalKey struct{}

// handle registers an authenticated route.
func (s *Server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		t, body, err := s.authenticate(r)
		if err != nil {
			api.WriteError(w, r, pattern, err)
			return
		}
		ctx := context.WithValue(r.Context(), terminalKey{}, t)
		out, err := h(ctx, t, r, body)
		if err != nil {
			api.WriteError(w, r, pattern, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(out)
	})
}

// authenticate checks the request's signature, timestamp and nonce and
// returns the terminal that signed it with the body it signed.
func (s *Server) authenticate(r *http.Request) (*onecard.Terminal, []byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, nil, onecard.Errorf(onecard.EINVALID, "The request body is too large or unreadable.")
	}
	now := s.cfg.Now()
	sig, err := readSignature(r.Header, now)
	if err != nil {
		return nil, nil, onecard.Errorf(onecard.EUNAUTHORIZED, "%s.", capitalize(err.Error()))
	}
	t, key, err := s.cfg.Terminals.TerminalKey(r.Context(), sig.school, sig.terminal)
	if err != nil {
		return nil, nil, err
	}
	if !sig.verify(key, r.Method, r.URL.RequestURI(), body) {
		return nil, nil, onecard.Errorf(onecard.EUNAUTHORIZED, "The signature does not match the request.")
	}
	if err := s.cfg.Terminals.UseNonce(r.Context(), t.ID, sig.nonce, 2*Skew); err != nil {
		if onecard.ErrorCode(err) == onecard.ECONFLICT {
			return nil, nil, onecard.Errorf(onecard.EUNAUTHORIZED, "This request was already received (replayed nonce).")
		}
		return nil, nil, err
	}
	return t, body, nil
}

// decode reads a JSON body into v, refusing unknown fields.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return onecard.Errorf(onecard.EINVALID, "The request body is not valid JSON for this call (%v).", err)
	}
	return nil
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
