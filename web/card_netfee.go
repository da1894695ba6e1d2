package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/onecard-campus/onecard"
)

// The network fee (网费缴纳, seed 003): paid from the balance to the
// school's network center, the merchant of kind "network". The page asks
// the query PIN, as the schools' apps do for every account action there;
// the consumption PIN stays the POS's, for purchases over the per-meal
// threshold. Each form carries a random token that is the payment's key:
// a double submit, or a retry after a lost answer, pays once.

// cardNetworkMerchant returns the school's network center, nil when it has
// none (the section is then hidden).
func (s *Server) cardNetworkMerchant(ctx context.Context, schoolID int64) (*onecard.Merchant, error) {
	if s.cfg.Merchants == nil || s.cfg.Money == nil {
		return nil, nil
	}
	ms, err := s.cfg.Merchants.Merchants(ctx, schoolID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Kind == "network" {
			return m, nil
		}
	}
	return nil, nil
}

// cardNetFee pays the network fee.
func (s *Server) cardNetFee(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	h := viewer(ctx).Cardholder
	m, err := s.cardNetworkMerchant(ctx, h.SchoolID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if m == nil {
		s.cardNotHere(w, r)
		return
	}
	amountText, token := r.PostFormValue("amount"), r.PostFormValue("token")
	edit := func(f *cardForm) {
		f.NetFeeAmount = amountText
		if validCardToken(token) {
			f.NetFeeToken = token // nothing was paid with it: the retry may use it
		}
	}
	if !validCardToken(token) {
		s.renderCard(w, r, http.StatusBadRequest, "", s.i18n.localizer(r).T("card.error.form_expired"), edit)
		return
	}
	amount, err := onecard.ParseYuan(amountText)
	if err == nil {
		err = onecard.ValidateAmount(amount)
	}
	if err != nil {
		s.cardFailed(w, r, err, edit)
		return
	}
	if err := s.cardCheckPIN(ctx, h.ID, r.PostFormValue("pin")); err != nil {
		s.cardFailed(w, r, err, edit)
		return
	}
	_, err = s.cfg.Money.Pay(ctx, &onecard.Payment{
		Key: fmt.Sprintf("web:netfee:%d:%s", h.ID, token), CardholderID: h.ID, MerchantID: m.ID, Amount: amount,
	})
	if err != nil {
		s.cardFailed(w, r, err, edit)
		return
	}
	s.cardDone(w, r, "netfee:"+strconv.FormatInt(amount, 10))
}
