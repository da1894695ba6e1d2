package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type issueCardInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Cardholder ID."`
	Body *struct {
		UID string `json:"uid,omitempty" maxLength:"32" pattern:"^[0-9A-Fa-f]*$" patternDescription:"hex digits" doc:"Chip serial in hex; absent: a random one (virtual card)."`
	}
}

// issueCard gives a cardholder without an active card a new one.
func (s *Server) issueCard(ctx context.Context, in *issueCardInput) (*cardOutput, error) {
	if _, err := s.scopedCardholder(ctx, in.ID); err != nil {
		return nil, err
	}
	uid := ""
	if in.Body != nil {
		uid = in.Body.UID
	}
	c, err := s.cfg.Cards.IssueCard(ctx, in.ID, uid)
	if err != nil {
		return nil, err
	}
	return &cardOutput{Body: newCardView(c)}, nil
}

type cardsOutput struct {
	Body struct {
		Items []*cardView `json:"items" doc:"Newest first, cancelled ones included."`
	}
}

// listCards lists every card a cardholder has had.
func (s *Server) listCards(ctx context.Context, in *cardholderIDInput) (*cardsOutput, error) {
	if _, err := s.scopedCardholder(ctx, in.ID); err != nil {
		return nil, err
	}
	cs, err := s.cfg.Cards.Cards(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := &cardsOutput{}
	out.Body.Items = []*cardView{}
	for _, c := range cs {
		out.Body.Items = append(out.Body.Items, newCardView(c))
	}
	return out, nil
}

// getCard returns one card with its state.
func (s *Server) getCard(ctx context.Context, in *cardIDInput) (*cardOutput, error) {
	c, err := s.scopedCard(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &cardOutput{Body: newCardView(c)}, nil
}

// cardAction is a state change that takes nothing but the card, as a method
// expression such as onecard.CardService.ReportLost.
type cardAction func(cs onecard.CardService, ctx context.Context, cardID int64) (*onecard.Card, error)

// onCard checks the operator's scope over the card, then applies act.
func (s *Server) onCard(act cardAction) func(context.Context, *cardIDInput) (*cardOutput, error) {
	return func(ctx context.Context, in *cardIDInput) (*cardOutput, error) {
		if _, err := s.scopedCard(ctx, in.ID); err != nil {
			return nil, err
		}
		c, err := act(s.cfg.Cards, ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &cardOutput{Body: newCardView(c)}, nil
	}
}
