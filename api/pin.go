package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type resetPINInput struct {
	ID   int64  `path:"id" minimum:"1" doc:"Cardholder ID."`
	Kind string `path:"kind" enum:"query,consumption" doc:"Which PIN."`
	Body *struct {
		PIN string `json:"pin,omitempty" pattern:"^[0-9]{6}$" patternDescription:"six digits" doc:"The new PIN; absent: back to the initial PIN."`
	}
}

// resetPIN sets a cardholder's PIN at the service hall (after the operator
// checked their ID) and clears any lockout.
func (s *Server) resetPIN(ctx context.Context, in *resetPINInput) (*struct{}, error) {
	kind := onecard.PINKind(in.Kind)
	if !kind.Valid() {
		return nil, onecard.Errorf(onecard.EINVALID, "PIN kind must be query or consumption.")
	}
	pin := ""
	if in.Body != nil && in.Body.PIN != "" {
		if err := onecard.ValidatePIN(in.Body.PIN); err != nil {
			return nil, err
		}
		pin = in.Body.PIN
	}
	if _, err := s.scopedCardholder(ctx, in.ID); err != nil {
		return nil, err
	}
	return nil, s.cfg.PINs.ResetPIN(ctx, in.ID, kind, pin)
}
