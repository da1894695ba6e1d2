package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type pinInput struct {
	Body struct {
		PIN string `json:"pin" pattern:"^[0-9]{6}$" patternDescription:"six digits" doc:"Query PIN (查询密码)."`
	}
}

type meCardOutput struct {
	Body *meCard
}

// meReportLost blocks the caller's card after checking the query PIN, then
// ends every session of theirs (seed: a loss report logs the phone out too,
// in case it went missing with the card). The caller's token dies with them.
func (s *Server) meReportLost(ctx context.Context, in *pinInput) (*meCardOutput, error) {
	id, card, err := s.ownCardAfterPIN(ctx, in.Body.PIN)
	if err != nil {
		return nil, err
	}
	c, err := s.cfg.Cards.ReportLost(ctx, card.ID)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Auth.RevokeCardholderSessions(ctx, id); err != nil {
		return nil, err
	}
	return &meCardOutput{Body: newMeCard(c)}, nil
}

// meUnlock unblocks the caller's lost card after checking the query PIN.
func (s *Server) meUnlock(ctx context.Context, in *pinInput) (*meCardOutput, error) {
	_, card, err := s.ownCardAfterPIN(ctx, in.Body.PIN)
	if err != nil {
		return nil, err
	}
	c, err := s.cfg.Cards.Unlock(ctx, card.ID)
	if err != nil {
		return nil, err
	}
	return &meCardOutput{Body: newMeCard(c)}, nil
}

// ownCardAfterPIN verifies the caller's query PIN (wrong ones count towards
// the lockout) and returns their active card.
func (s *Server) ownCardAfterPIN(ctx context.Context, pin string) (int64, *onecard.Card, error) {
	id, err := self(ctx)
	if err != nil {
		return 0, nil, err
	}
	if err := onecard.ValidatePIN(pin); err != nil {
		return 0, nil, err
	}
	if err := s.cfg.PINs.VerifyPIN(ctx, id, onecard.QueryPIN, pin); err != nil {
		return 0, nil, err
	}
	c, err := s.cfg.Cards.ActiveCard(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	return id, c, nil
}
