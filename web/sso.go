package web

import (
	"net/http"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/sso"
)

// ssoCookie keeps a unified identity login in progress (sso.Flow: its
// state, nonce and PKCE verifier) in the browser that began it.
const ssoCookie = "onecard_sso"

// ssoRoutes registers unified identity login (统一身份认证), CAS or OpenID
// Connect as each school configures it. The callback is per school, so the
// address registered with the school's identity provider is
// PUBLIC/login/sso/{school}/callback.
func (s *Server) ssoRoutes() {
	if s.cfg.SSO == nil {
		return
	}
	s.providers = sso.NewProviders(nil)
	s.mux.HandleFunc("GET /login/sso/{school}", s.ssoBegin)
	s.mux.HandleFunc("GET /login/sso/{school}/callback", s.ssoFinish)
}

// ssoKinds fills which schools have unified identity login.
func (s *Server) ssoKinds(r *http.Request, schools []*onecard.School, kinds map[string]string) {
	if s.cfg.SSO == nil {
		return
	}
	for _, sc := range schools {
		if c, err := s.cfg.SSO.SSOConfig(r.Context(), sc.ID); err == nil {
			kinds[sc.Code] = c.Kind
		}
	}
}

// ssoProvider finds a school's identity provider.
func (s *Server) ssoProvider(r *http.Request) (*onecard.School, sso.Provider, error) {
	school, err := s.cfg.Schools.SchoolByCode(r.Context(), r.PathValue("school"))
	if err != nil {
		return nil, nil, err
	}
	cfg, err := s.cfg.SSO.SSOConfig(r.Context(), school.ID)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.providers.For(r.Context(), cfg)
	return school, p, err
}

// callback is where the identity provider sends the browser back: on the
// public address when one is configured, else on the address the browser
// used.
func (s *Server) callback(r *http.Request, school string) string {
	base := s.cfg.PublicURL
	if base == "" {
		scheme := "http"
		if s.cfg.SecureCookies || r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/login/sso/" + school + "/callback"
}

func (s *Server) ssoBegin(w http.ResponseWriter, r *http.Request) {
	school, p, err := s.ssoProvider(r)
	if err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, s.message(s.i18n.localizer(r), err), r.PathValue("school"), "")
		return
	}
	loginURL, flow := p.Begin(s.callback(r, school.Code))
	s.setCookie(w, ssoCookie, flow.Encode(), sso.FlowTTL)
	http.Redirect(w, r, loginURL, http.StatusSeeOther)
}

// ssoFinish checks the provider's answer against the flow this browser
// began (used once), then opens a session for the card number the
// provider vouched for.
func (s *Server) ssoFinish(w http.ResponseWriter, r *http.Request) {
	l := s.i18n.localizer(r)
	code := r.PathValue("school")
	c, err := r.Cookie(ssoCookie)
	s.setCookie(w, ssoCookie, "", -1)
	if err != nil {
		s.renderLogin(w, r, http.StatusUnauthorized, l.T("login.sso_expired"), code, "")
		return
	}
	flow, err := sso.DecodeFlow(c.Value)
	if err != nil {
		s.renderLogin(w, r, http.StatusUnauthorized, l.T("login.sso_expired"), code, "")
		return
	}
	school, p, err := s.ssoProvider(r)
	if err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, s.message(l, err), code, "")
		return
	}
	username, err := p.Finish(r.Context(), r, flow)
	if err != nil {
		s.log.Info("web: unified identity login refused", "school", school.Code, "err", err)
		s.renderLogin(w, r, http.StatusUnauthorized, l.T("login.sso_failed"), code, "")
		return
	}
	sess, err := s.cfg.SSO.CardholderSession(r.Context(), school.ID, username, p.Kind())
	if err != nil {
		s.renderLogin(w, r, http.StatusUnauthorized, s.message(l, err), code, "")
		return
	}
	s.signIn(w, r, sess)
}
