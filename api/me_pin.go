package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type changePINInput struct {
	Kind string `path:"kind" enum:"query,consumption" doc:"Which PIN."`
	Body struct {
		Old string `json:"old" pattern:"^[0-9]{6}$" patternDescription:"six digits" doc:"The current PIN."`
		New string `json:"new" pattern:"^[0-9]{6}$" patternDescription:"six digits" doc:"The new PIN."`
	}
}

// meChangePIN changes one of the caller's PINs, then ends all their
// sessions: whoever knew the old PIN may be logged in somewhere.
func (s *Server) meChangePIN(ctx context.Context, in *changePINInput) (*struct{}, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	kind := onecard.PINKind(in.Kind)
	if !kind.Valid() {
		return nil, onecard.Errorf(onecard.EINVALID, "PIN kind must be query or consumption.")
	}
	if err := onecard.ValidatePIN(in.Body.New); err != nil {
		return nil, err
	}
	if err := s.cfg.PINs.ChangePIN(ctx, id, kind, in.Body.Old, in.Body.New); err != nil {
		return nil, err
	}
	return nil, s.cfg.Auth.RevokeCardholderSessions(ctx, id)
}
