package web

import (
	"net/http"

	"github.com/onecard-campus/onecard"
)

// topUpOrderData is one of the viewer's orders.
type topUpOrderData struct {
	Order *onecard.TopUp
}

// topUpOrderPage shows one of the viewer's own orders, asking the gateway
// first while it is pending (so that a payer back from paying does not
// wait for a late notification) and reloading itself until it is not.
// Another's order is not found, as if absent, and its gateway is never
// asked.
func (s *Server) topUpOrderPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := s.i18n.localizer(r)
	h := viewer(ctx).Cardholder
	no := r.PathValue("no")
	notFound := onecard.Errorf(onecard.ENOTFOUND, "%s", l.T("topup.order.not_found"))
	if s.cfg.PaymentStore == nil || len(no) > 64 {
		s.fail(w, r, notFound)
		return
	}
	t, err := s.cfg.PaymentStore.TopUp(ctx, no)
	if onecard.ErrorCode(err) == onecard.ENOTFOUND || (err == nil && t.CardholderID != h.ID) {
		s.fail(w, r, notFound)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	if t.State == onecard.TopUpPending && s.cfg.Payments != nil {
		// A gateway out of reach leaves the stored state, which is still
		// true; the settle job catches up.
		if after, err := s.cfg.Payments.Settle(ctx, t.No); err == nil && after != nil {
			t = after
		} else if err != nil {
			s.log.Warn("web: top-up not settled on read", "no", t.No, "err", err)
		}
	}
	school, err := s.cfg.Schools.School(ctx, h.SchoolID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := &view{Title: "topup.order.title", Nav: "topup", Data: &topUpOrderData{Order: t}, Loc: school.Settings.Location()}
	if t.State == onecard.TopUpPending {
		v.Refresh = 3
	}
	s.render(w, r, http.StatusOK, "topup_order", v)
}
