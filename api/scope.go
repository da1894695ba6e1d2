package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

// The services do not authorise, so every school-scoped resource is loaded
// here and its school compared with the operator's scope before anything is
// read out or changed.

// inSchool refuses an operator whose scope does not cover schoolID.
func inSchool(ctx context.Context, schoolID int64) error {
	o := onecard.OperatorFromContext(ctx)
	if o == nil {
		return onecard.Errorf(onecard.EFORBIDDEN, "Only operators may do this.")
	}
	if !o.CanAccessSchool(schoolID) {
		return onecard.Errorf(onecard.EFORBIDDEN, "Your account is limited to another school.")
	}
	return nil
}

// scopedSchool returns a school the calling operator may see.
func (s *Server) scopedSchool(ctx context.Context, id int64) (*onecard.School, error) {
	if err := inSchool(ctx, id); err != nil {
		return nil, err
	}
	return s.cfg.Schools.School(ctx, id)
}

// scopedCardholder returns a cardholder of a school the operator may see.
func (s *Server) scopedCardholder(ctx context.Context, id int64) (*onecard.Cardholder, error) {
	ch, err := s.cfg.Cardholders.Cardholder(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := inSchool(ctx, ch.SchoolID); err != nil {
		return nil, err
	}
	return ch, nil
}

// scopedCard returns a card of a school the operator may see.
func (s *Server) scopedCard(ctx context.Context, id int64) (*onecard.Card, error) {
	c, err := s.cfg.Cards.Card(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := inSchool(ctx, c.SchoolID); err != nil {
		return nil, err
	}
	return c, nil
}

// self returns the calling cardholder's ID. Every /me handler acts on this
// and nothing from the request, so a cardholder can only ever act on itself.
func self(ctx context.Context) (int64, error) {
	ch := onecard.CardholderFromContext(ctx)
	if ch == nil {
		return 0, onecard.Errorf(onecard.EFORBIDDEN, "Only a cardholder session may do this.")
	}
	return ch.ID, nil
}
