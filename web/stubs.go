package web

import (
	"net/http"

	"github.com/onecard-campus/onecard"
)

// The pages below are added by their own files; these keep the app
// building until then.
func (s *Server) cardRoutes()   {}
func (s *Server) topUpRoutes()  {}
func (s *Server) billRoutes()   {}
func (s *Server) publicRoutes() {}
func (s *Server) ssoRoutes()    {}

// ssoKinds fills which schools have unified identity login.
func (s *Server) ssoKinds(r *http.Request, schools []*onecard.School, kinds map[string]string) {}
