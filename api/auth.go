package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

// sessionOutput answers a login with the token, shown this once.
type sessionOutput struct {
	Body *onecard.Session
}

type operatorLoginInput struct {
	Body struct {
		Username string `json:"username" minLength:"1" maxLength:"64" doc:"Operator username."`
		Password string `json:"password" minLength:"1" maxLength:"256" doc:"Operator password."`
	}
}

// loginOperator starts a console session. Unknown user and wrong password
// get the same answer from the service.
func (s *Server) loginOperator(ctx context.Context, in *operatorLoginInput) (*sessionOutput, error) {
	sess, err := s.cfg.Auth.LoginOperator(ctx, in.Body.Username, in.Body.Password)
	if err != nil {
		return nil, err
	}
	return &sessionOutput{Body: sess}, nil
}

type cardholderLoginInput struct {
	Body struct {
		School string `json:"school" minLength:"1" maxLength:"32" doc:"The school's login code, e.g. nankai."`
		Number string `json:"number" minLength:"1" maxLength:"32" doc:"Card number as printed; a visitor card SN:000999 may be typed as 999."`
		PIN    string `json:"pin" pattern:"^[0-9]{6}$" patternDescription:"six digits" doc:"Query PIN (查询密码), six digits."`
	}
}

// loginCardholder starts an app session with school, card number and query
// PIN; wrong PINs count towards the lockout.
func (s *Server) loginCardholder(ctx context.Context, in *cardholderLoginInput) (*sessionOutput, error) {
	if err := onecard.ValidatePIN(in.Body.PIN); err != nil {
		return nil, err
	}
	sess, err := s.cfg.Auth.LoginCardholder(ctx, in.Body.School, in.Body.Number, in.Body.PIN)
	if err != nil {
		return nil, err
	}
	return &sessionOutput{Body: sess}, nil
}

// logout revokes the caller's own token.
func (s *Server) logout(ctx context.Context, _ *struct{}) (*struct{}, error) {
	return nil, s.cfg.Auth.Logout(ctx, tokenFrom(ctx))
}
