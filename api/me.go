package api

import (
	"context"
	"time"

	"github.com/onecard-campus/onecard"
)

// meCard is the card as its holder sees it: no operator notes.
type meCard struct {
	ID           int64                `json:"id"`
	UID          string               `json:"uid"`
	State        string               `json:"state" enum:"active,lost,frozen,cancelled" doc:"The one word to show."`
	FreezeReason onecard.FreezeReason `json:"freeze_reason,omitempty" doc:"Why it is frozen: arrears, mismatch, abnormal or operator."`
	Message      string               `json:"message,omitempty" doc:"Why the card cannot be used and what to do; absent when it can."`
	LostAt       *time.Time           `json:"lost_at,omitempty"`
}

func newMeCard(c *onecard.Card) *meCard {
	v := &meCard{ID: c.ID, UID: c.UID, State: c.State(), FreezeReason: c.FreezeReason, LostAt: c.LostAt}
	if err := c.BlockedError(); err != nil {
		v.Message = onecard.ErrorMessage(err)
	}
	return v
}

type meOutput struct {
	Body struct {
		Cardholder *onecard.Cardholder `json:"cardholder"`
		Balance    onecard.Balance     `json:"balance" doc:"Purse (on the card), transition (reached the account, not yet the card) and their sum, in fen."`
		Card       *meCard             `json:"card,omitempty" doc:"The active card; absent when there is none."`
	}
}

// me is the app's home screen: who, how much, and whether the card works.
// The cardholder is read afresh: the session's copy dates from login.
func (s *Server) me(ctx context.Context, _ *struct{}) (*meOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := s.cfg.Cardholders.Cardholder(ctx, id)
	if err != nil {
		return nil, err
	}
	d, err := s.cardholderDetail(ctx, ch)
	if err != nil {
		return nil, err
	}
	out := &meOutput{}
	out.Body.Cardholder, out.Body.Balance = ch, d.Balance
	if d.Card != nil {
		out.Body.Card = newMeCard(&d.Card.Card)
	}
	return out, nil
}

type meHistoryInput struct {
	Before time.Time `query:"before" doc:"Only transactions before this time (RFC 3339); absent: from the newest."`
	Limit  int       `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"At most this many."`
}

// meHistory returns the caller's own transactions.
func (s *Server) meHistory(ctx context.Context, in *meHistoryInput) (*historyOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	return s.historyOf(ctx, id, in.Before, in.Limit)
}
