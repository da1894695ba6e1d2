package web

import (
	"io/fs"
	"net/http"
)

// routes registers every page. Read this file for the app's shape; the
// handlers live in files named after the page they serve.
func (s *Server) routes() {
	static, _ := fs.Sub(assets, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(static)))
	s.mux.HandleFunc("POST /lang", s.setLanguage)

	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/app", http.StatusSeeOther) })
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.loginPIN)
	s.mux.HandleFunc("POST /logout", s.logout)

	s.mux.HandleFunc("GET /app", s.cardholder(s.homePage))

	s.cardRoutes()
	s.topUpRoutes()
	s.billRoutes()
	s.publicRoutes()
	s.ssoRoutes()
}
