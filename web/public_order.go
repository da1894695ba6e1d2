package web

import (
	"net/http"

	"github.com/onecard-campus/onecard"
)

// publicOrderData is all an order number tells someone without a session:
// the state, the amount and the card number masked.
type publicOrderData struct {
	Available bool
	No        string
	State     onecard.TopUpState
	Amount    int64
	Card      string // ****0001
	CreatedAt string // school time, for the records on this phone
}

// publicOrderPage answers the payer's "did it work?", asking the gateway
// while the order is pending and reloading until it is not. Only public
// top-ups have this page; any other number is not found.
func (s *Server) publicOrderPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := s.i18n.localizer(r)
	d := &publicOrderData{Available: s.cfg.Payments != nil && s.cfg.PaymentStore != nil}
	v := &view{Title: "public.order.title", Data: d, localizer: l}
	if !d.Available {
		s.render(w, r, http.StatusOK, "public_order", v)
		return
	}
	no := r.PathValue("no")
	notFound := onecard.Errorf(onecard.ENOTFOUND, "%s", l.T("public.order.not_found"))
	if len(no) > 64 {
		s.fail(w, r, notFound)
		return
	}
	t, err := s.cfg.PaymentStore.TopUp(ctx, no)
	if onecard.ErrorCode(err) == onecard.ENOTFOUND || (err == nil && t.Kind != onecard.TopUpPublic) {
		s.fail(w, r, notFound)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	if t.State == onecard.TopUpPending {
		if after, err := s.cfg.Payments.Settle(ctx, t.No); err == nil && after != nil {
			t = after
		} else if err != nil {
			s.log.Warn("web: top-up not settled on read", "no", t.No, "err", err)
		}
	}
	h, err := s.cfg.Cardholders.Cardholder(ctx, t.CardholderID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	school, err := s.cfg.Schools.School(ctx, t.SchoolID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := school.Settings.Location()
	d.No, d.State, d.Amount, d.Card = t.No, t.State, t.Amount, publicMaskNumber(h.Number)
	d.CreatedAt = t.CreatedAt.In(loc).Format("2006-01-02 15:04")
	v.Loc = loc
	if t.State == onecard.TopUpPending {
		v.Refresh = 3
	}
	s.render(w, r, http.StatusOK, "public_order", v)
}
