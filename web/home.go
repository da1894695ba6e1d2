package web

import (
	"net/http"

	"github.com/onecard-campus/onecard"
)

// homeData is the home page: the three balances and the card's state.
type homeData struct {
	School  *onecard.School
	Balance onecard.Balance
	Card    *onecard.Card // nil when the cardholder has no active card
	State   string        // active, lost, frozen, cancelled, none
}

// homePage shows the card balance, the transition balance ("pending: tap
// any canteen POS to move it to your card"), their sum, and the card's
// state with the reason of a freeze and what to do about it.
func (s *Server) homePage(w http.ResponseWriter, r *http.Request) {
	h := viewer(r.Context()).Cardholder
	d := &homeData{State: "none"}
	var err error
	if d.School, err = s.cfg.Schools.School(r.Context(), h.SchoolID); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Balance, err = s.cfg.Cardholders.Balance(r.Context(), h.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Card, err = s.cfg.Cards.ActiveCard(r.Context(), h.ID)
	switch {
	case err == nil:
		d.State = d.Card.State()
	case onecard.ErrorCode(err) != onecard.ENOTFOUND:
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "home", &view{Title: "home.title", Nav: "home", Data: d, Loc: d.School.Settings.Location()})
}

// fail renders the error page for an unexpected failure.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	l := s.i18n.localizer(r)
	status := http.StatusInternalServerError
	switch onecard.ErrorCode(err) {
	case onecard.ENOTFOUND:
		status = http.StatusNotFound
	case onecard.EINVALID:
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "error", &view{Title: "error.title", Error: s.message(l, err), localizer: l})
}
