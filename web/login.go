package web

import (
	"net/http"
	"strings"

	"github.com/onecard-campus/onecard"
)

// loginData is the login page: the schools to choose from and, per school,
// whether it has unified identity login.
type loginData struct {
	Schools []*onecard.School
	School  string // the chosen school's code
	Number  string
	SSO     map[string]string // school code -> "cas" or "oidc"
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, "", r.URL.Query().Get("school"), "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, errMsg, school, number string) {
	schools, err := s.cfg.Schools.Schools(r.Context())
	if err != nil {
		s.log.Error("web: schools", "err", err)
	}
	d := &loginData{Schools: schools, School: school, Number: number, SSO: map[string]string{}}
	if school == "" && len(schools) > 0 {
		d.School = schools[0].Code
	}
	s.ssoKinds(r, schools, d.SSO)
	s.render(w, r, status, "login", &view{Title: "login.title", Error: errMsg, Notice: s.cardLoginNotice(w, r), Data: d})
}

// loginPIN is the fallback login: school, card number and query PIN. A
// client gets ten tries a minute; each card has its own PIN lockout.
func (s *Server) loginPIN(w http.ResponseWriter, r *http.Request) {
	l := s.i18n.localizer(r)
	school, number := r.FormValue("school"), strings.TrimSpace(r.FormValue("number"))
	if !s.logins.allow(r) {
		s.renderLogin(w, r, http.StatusTooManyRequests, l.T("error.rate_limited"), school, number)
		return
	}
	sess, err := s.cfg.Auth.LoginCardholder(r.Context(), school, number, r.FormValue("pin"))
	if err != nil {
		s.renderLogin(w, r, http.StatusUnauthorized, s.message(l, err), school, number)
		return
	}
	s.signIn(w, r, sess)
}
