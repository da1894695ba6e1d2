package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type mePaymentInput struct {
	Body struct {
		Key        string `json:"key" minLength:"1" maxLength:"128" doc:"Idempotency key: a retry with the same key returns the first payment and charges once."`
		MerchantID int64  `json:"merchant_id" minimum:"1" doc:"The merchant paid, of the cardholder's school."`
		Amount     int64  `json:"amount" minimum:"1" maximum:"1000000000" doc:"Amount in fen (分): 1 yuan = 100 fen."`
		Memo       string `json:"memo,omitempty" maxLength:"256" doc:"Shown in the history."`
	}
}

// mePay pays a merchant from the caller's transition balance. The payer is
// always the session's cardholder; the body has no field to name another.
func (s *Server) mePay(ctx context.Context, in *mePaymentInput) (*historyItemOutput, error) {
	me := onecard.CardholderFromContext(ctx)
	if me == nil {
		return nil, onecard.Errorf(onecard.EFORBIDDEN, "Only a cardholder session may do this.")
	}
	b := in.Body
	if err := onecard.ValidateAmount(b.Amount); err != nil {
		return nil, err
	}
	m, err := s.cfg.Merchants.Merchant(ctx, b.MerchantID)
	if err != nil {
		return nil, err
	}
	if m.SchoolID != me.SchoolID { // as if absent: a cardholder has no business with other schools' merchants
		return nil, onecard.Errorf(onecard.ENOTFOUND, "No merchant %d at your school.", b.MerchantID)
	}
	h, err := s.cfg.Money.Pay(ctx, &onecard.Payment{
		Key: b.Key, CardholderID: me.ID, MerchantID: b.MerchantID, Amount: b.Amount, Memo: b.Memo,
	})
	if err != nil {
		return nil, err
	}
	return &historyItemOutput{Body: h}, nil
}
