package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type payCodeOutput struct {
	Body *onecard.PayCode
}

// mePayCode issues the one-card payment code the app shows (seed 001): 18
// digits starting 66, valid one minute and once, charged to the caller's
// transition balance when a POS scans it. The app asks for a new one every
// minute; a blocked card gets none (card_blocked).
func (s *Server) mePayCode(ctx context.Context, _ *struct{}) (*payCodeOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.cfg.PaymentStore.IssuePayCode(ctx, id)
	if err != nil {
		return nil, err
	}
	return &payCodeOutput{Body: c}, nil
}
