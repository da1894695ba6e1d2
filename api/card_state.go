package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

// The plain card state changes (report lost, unlock, unfreeze, cancel) are
// registered through onCard in routes.go; the two that take input live here.

type freezeInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Card ID."`
	Body struct {
		Reason onecard.FreezeReason `json:"reason" enum:"arrears,mismatch,abnormal,operator" doc:"Why: arrears, card-account mismatch, abnormal use, or the operator's decision."`
		Note   string               `json:"note,omitempty" maxLength:"256" doc:"For the service hall; not shown to the cardholder."`
	}
}

// freezeCard freezes a card and its accounts' debits.
func (s *Server) freezeCard(ctx context.Context, in *freezeInput) (*cardOutput, error) {
	if _, err := s.scopedCard(ctx, in.ID); err != nil {
		return nil, err
	}
	c, err := s.cfg.Cards.Freeze(ctx, in.ID, in.Body.Reason, in.Body.Note)
	if err != nil {
		return nil, err
	}
	return &cardOutput{Body: newCardView(c)}, nil
}

type replaceInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"The card being replaced."`
	Body struct {
		Key string `json:"key" minLength:"1" maxLength:"128" doc:"Idempotency key: a retry with the same key returns the same new card and charges once."`
	}
}

// replaceCard charges the replacement fee, cancels the old card and issues a
// new one carrying the purse; the answer is the new card.
func (s *Server) replaceCard(ctx context.Context, in *replaceInput) (*cardOutput, error) {
	if _, err := s.scopedCard(ctx, in.ID); err != nil {
		return nil, err
	}
	c, err := s.cfg.Cards.Replace(ctx, in.ID, in.Body.Key)
	if err != nil {
		return nil, err
	}
	return &cardOutput{Body: newCardView(c)}, nil
}
