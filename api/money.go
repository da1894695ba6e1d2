package api

import (
	"context"
	"time"

	"github.com/onecard-campus/onecard"
)

type depositInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Cardholder ID."`
	Body struct {
		Key    string `json:"key" minLength:"1" maxLength:"128" doc:"Idempotency key: a retry with the same key returns the first deposit and credits once."`
		Amount int64  `json:"amount" minimum:"1" maximum:"1000000000" doc:"Amount in fen (分): 1 yuan = 100 fen."`
		Memo   string `json:"memo,omitempty" maxLength:"256" doc:"Shown in the cardholder's history."`
	}
}

type historyItemOutput struct {
	Body *onecard.HistoryItem
}

// deposit credits cash taken at the counter to the transition balance.
func (s *Server) deposit(ctx context.Context, in *depositInput) (*historyItemOutput, error) {
	if err := onecard.ValidateAmount(in.Body.Amount); err != nil {
		return nil, err
	}
	if _, err := s.scopedCardholder(ctx, in.ID); err != nil {
		return nil, err
	}
	h, err := s.cfg.Money.Deposit(ctx, &onecard.Deposit{
		Key: in.Body.Key, CardholderID: in.ID, Amount: in.Body.Amount, Memo: in.Body.Memo,
	})
	if err != nil {
		return nil, err
	}
	return &historyItemOutput{Body: h}, nil
}

type historyInput struct {
	ID     int64     `path:"id" minimum:"1" doc:"Cardholder ID."`
	Before time.Time `query:"before" doc:"Only transactions before this time (RFC 3339); absent: from the newest."`
	Limit  int       `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"At most this many."`
}

// history returns a cardholder's transactions for the service hall.
func (s *Server) history(ctx context.Context, in *historyInput) (*historyOutput, error) {
	if _, err := s.scopedCardholder(ctx, in.ID); err != nil {
		return nil, err
	}
	return s.historyOf(ctx, in.ID, in.Before, in.Limit)
}

func (s *Server) historyOf(ctx context.Context, cardholderID int64, before time.Time, limit int) (*historyOutput, error) {
	items, err := s.cfg.Money.History(ctx, cardholderID, before, limit)
	if err != nil {
		return nil, err
	}
	out := &historyOutput{}
	out.Body.Items = nonNil(items)
	return out, nil
}
