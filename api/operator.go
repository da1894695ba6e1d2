package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type operatorsOutput struct {
	Body struct {
		Items []*onecard.Operator `json:"items"`
	}
}

// listOperators lists console users; a school-scoped admin sees only the
// operators of their school.
func (s *Server) listOperators(ctx context.Context, _ *struct{}) (*operatorsOutput, error) {
	all, err := s.cfg.Operators.Operators(ctx)
	if err != nil {
		return nil, err
	}
	me := onecard.OperatorFromContext(ctx)
	out := &operatorsOutput{}
	out.Body.Items = []*onecard.Operator{}
	for _, o := range all {
		if me.SchoolID == 0 || o.SchoolID == me.SchoolID {
			out.Body.Items = append(out.Body.Items, o)
		}
	}
	return out, nil
}

type createOperatorInput struct {
	Body struct {
		Username string       `json:"username" minLength:"1" maxLength:"64" doc:"Login name."`
		Name     string       `json:"name" minLength:"1" maxLength:"64" doc:"The person's name."`
		Role     onecard.Role `json:"role" enum:"admin,operator,finance,auditor" doc:"admin: everything; operator: the service hall; finance: ledger and deposits; auditor: read-only."`
		SchoolID int64        `json:"school_id,omitempty" minimum:"0" doc:"The one school the operator works for; 0 or absent: every school."`
		Password string       `json:"password" minLength:"10" maxLength:"256" doc:"Initial password, at least 10 characters."`
	}
}

type operatorOutput struct {
	Body *onecard.Operator
}

// createOperator adds a console user. A school-scoped admin may only add
// operators of their own school, never platform-wide ones.
func (s *Server) createOperator(ctx context.Context, in *createOperatorInput) (*operatorOutput, error) {
	b := in.Body
	me := onecard.OperatorFromContext(ctx)
	if me.SchoolID != 0 && b.SchoolID != me.SchoolID {
		return nil, onecard.Errorf(onecard.EFORBIDDEN, "Your account is limited to school %d; new operators must be of that school.", me.SchoolID)
	}
	// The admin chose the password, so its owner must replace it at first login.
	o := &onecard.Operator{Username: b.Username, Name: b.Name, Role: b.Role, SchoolID: b.SchoolID, MustChangePassword: true}
	if err := s.cfg.Operators.CreateOperator(ctx, o, b.Password); err != nil {
		return nil, err
	}
	return &operatorOutput{Body: o}, nil
}

type changePasswordInput struct {
	Body struct {
		Old string `json:"old" minLength:"1" maxLength:"256" doc:"Current password."`
		New string `json:"new" minLength:"10" maxLength:"256" doc:"New password, at least 10 characters."`
	}
}

// changeOwnPassword is the one call an operator who must change their
// password may make (besides logout).
func (s *Server) changeOwnPassword(ctx context.Context, in *changePasswordInput) (*struct{}, error) {
	me := onecard.OperatorFromContext(ctx)
	return nil, s.cfg.Operators.ChangeOperatorPassword(ctx, me.ID, in.Body.Old, in.Body.New)
}

type setOperatorDisabledInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Operator ID."`
	Body struct {
		Disabled bool `json:"disabled" doc:"True to lock the operator out at once (their sessions end)."`
	}
}

// setOperatorDisabled disables or re-enables a console user. Nobody
// disables themselves, and a school-scoped admin only their school's.
func (s *Server) setOperatorDisabled(ctx context.Context, in *setOperatorDisabledInput) (*operatorOutput, error) {
	me := onecard.OperatorFromContext(ctx)
	if in.ID == me.ID {
		return nil, onecard.Errorf(onecard.EFORBIDDEN, "You cannot disable your own account.")
	}
	if me.SchoolID != 0 {
		all, err := s.cfg.Operators.Operators(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range all {
			if o.ID == in.ID && o.SchoolID != me.SchoolID {
				return nil, onecard.Errorf(onecard.EFORBIDDEN, "Your account is limited to another school.")
			}
		}
	}
	o, err := s.cfg.Operators.SetOperatorDisabled(ctx, in.ID, in.Body.Disabled)
	if err != nil {
		return nil, err
	}
	return &operatorOutput{Body: o}, nil
}
