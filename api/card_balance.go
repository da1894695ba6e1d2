package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

// BalanceCorrector corrects a card-vs-account mismatch (卡库不符): it sets
// the purse shadow to what the card holds through the school's over/short
// account and lifts a mismatch freeze. *store.DB implements it.
type BalanceCorrector interface {
	// CorrectMismatch sets card cardID's purse shadow to cardBalance fen.
	// EINVALID, ENOTFOUND, ECONFLICT.
	CorrectMismatch(ctx context.Context, cardID, cardBalance int64, note string) (*onecard.Card, error)
}

type correctBalanceInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Card ID."`
	Body struct {
		CardBalance int64  `json:"card_balance" minimum:"0" doc:"The balance the card actually holds, read at the service hall, in fen."`
		Note        string `json:"note,omitempty" maxLength:"200" doc:"Why, for the audit log."`
	}
}

// correctBalance moves the difference between the purse shadow and the
// card's actual balance through the over/short account and unfreezes a
// card frozen for mismatch.
func (s *Server) correctBalance(ctx context.Context, in *correctBalanceInput) (*cardOutput, error) {
	if _, err := s.scopedCard(ctx, in.ID); err != nil {
		return nil, err
	}
	if s.cfg.Balances == nil {
		return nil, onecard.Errorf(onecard.EINTERNAL, "Balance corrections are not configured on this server.")
	}
	c, err := s.cfg.Balances.CorrectMismatch(ctx, in.ID, in.Body.CardBalance, in.Body.Note)
	if err != nil {
		return nil, err
	}
	return &cardOutput{Body: newCardView(c)}, nil
}
