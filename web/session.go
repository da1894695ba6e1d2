package web

import (
	"context"
	"net/http"
	"time"

	"github.com/onecard-campus/onecard"
)

// sessionCookie holds the session token. Only its hash is stored; the
// session itself (expiry, revocation) lives on the server.
const sessionCookie = "onecard_session"

type viewerKey struct{}

// Viewer is the logged-in cardholder of a request.
type Viewer struct {
	Cardholder *onecard.Cardholder
	Token      string
}

// viewer returns the request's cardholder; cardholder() guarantees one.
func viewer(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey{}).(*Viewer)
	return v
}

// cardholder wraps a page that needs a logged-in cardholder: without a
// valid session (none, expired, or revoked by a loss report or a PIN
// change) the browser goes to the login page.
func (s *Server) cardholder(page http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		p, err := s.cfg.Auth.Authenticate(r.Context(), c.Value)
		if err != nil || p.Cardholder == nil {
			s.clearSession(w)
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		ctx := onecard.NewContextWithPrincipal(r.Context(), p)
		ctx = context.WithValue(ctx, viewerKey{}, &Viewer{Cardholder: p.Cardholder, Token: c.Value})
		page(w, r.WithContext(ctx))
	}
}

// signIn sets the session cookie of a new session and sends the browser
// home. Login by PIN and by unified identity both end here.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, sess *onecard.Session) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/app", http.StatusSeeOther)
}

func (s *Server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// logout ends the session on the server, not just in the browser.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.cfg.Auth.Logout(r.Context(), c.Value); err != nil && onecard.ErrorCode(err) != onecard.EUNAUTHORIZED {
			s.log.Warn("web: logout", "err", err)
		}
	}
	s.clearSession(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setCookie sets a short-lived helper cookie (a flash message, SSO state).
func (s *Server) setCookie(w http.ResponseWriter, name, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(ttl / time.Second),
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}
