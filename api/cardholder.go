package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type createCardholderInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"School ID."`
	Body struct {
		CampusID int64                  `json:"campus_id,omitempty" minimum:"0" doc:"Home campus, if any."`
		Number   string                 `json:"number" minLength:"1" maxLength:"32" doc:"Card number (学工号); SN:000999 is stored as 999."`
		Name     string                 `json:"name" minLength:"1" maxLength:"64" doc:"Full name."`
		Kind     onecard.CardholderKind `json:"kind" enum:"student,staff,visitor" doc:"Who the cardholder is."`
		IDType   onecard.IDType         `json:"id_type,omitempty" enum:"id_card,passport" doc:"Identity document type; default id_card."`
		IDNumber string                 `json:"id_number" minLength:"1" maxLength:"32" doc:"Identity document number. Used to derive the initial PINs and a matching hash, then dropped; never stored or shown."`
		Phone    string                 `json:"phone,omitempty" maxLength:"20" doc:"Mobile number for notices."`
	}
}

type cardholderOutput struct {
	Body *onecard.Cardholder
}

// createCardholder registers a cardholder at the service hall; the service
// opens their accounts and sets both PINs to the school's initial PIN.
func (s *Server) createCardholder(ctx context.Context, in *createCardholderInput) (*cardholderOutput, error) {
	if _, err := s.scopedSchool(ctx, in.ID); err != nil {
		return nil, err
	}
	b := in.Body
	n := &onecard.NewCardholder{SchoolID: in.ID, CampusID: b.CampusID, Number: b.Number, Name: b.Name,
		Kind: b.Kind, IDType: b.IDType, IDNumber: b.IDNumber, Phone: b.Phone}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	ch, err := s.cfg.Cardholders.CreateCardholder(ctx, n)
	if err != nil {
		return nil, err
	}
	return &cardholderOutput{Body: ch}, nil
}

type findCardholdersInput struct {
	ID     int64  `path:"id" minimum:"1" doc:"School ID."`
	Q      string `query:"q" maxLength:"64" doc:"Prefix of the card number or name."`
	Status string `query:"status" enum:"active,graduated,closed" doc:"Only cardholders with this status."`
	Offset int    `query:"offset" minimum:"0" doc:"Skip this many."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"At most this many."`
}

type cardholdersOutput struct {
	Body struct {
		Items []*onecard.Cardholder `json:"items"`
		Total int                   `json:"total" doc:"How many match in all."`
	}
}

// findCardholders searches a school's cardholders, a page at a time.
func (s *Server) findCardholders(ctx context.Context, in *findCardholdersInput) (*cardholdersOutput, error) {
	if _, err := s.scopedSchool(ctx, in.ID); err != nil {
		return nil, err
	}
	items, total, err := s.cfg.Cardholders.FindCardholders(ctx, onecard.CardholderFilter{
		SchoolID: in.ID, Query: in.Q, Status: onecard.CardholderStatus(in.Status), Offset: in.Offset, Limit: in.Limit,
	})
	if err != nil {
		return nil, err
	}
	out := &cardholdersOutput{}
	out.Body.Items, out.Body.Total = nonNil(items), total
	return out, nil
}

// cardholderDetail is what the service hall sees of one cardholder.
type cardholderDetail struct {
	Cardholder *onecard.Cardholder `json:"cardholder"`
	Balance    onecard.Balance     `json:"balance" doc:"Purse (on the card), transition (not yet on the card) and total, in fen."`
	Card       *cardView           `json:"card,omitempty" doc:"The active card, absent when there is none."`
}

type cardholderDetailOutput struct {
	Body *cardholderDetail
}

// getCardholder returns a cardholder with balance and active card.
func (s *Server) getCardholder(ctx context.Context, in *cardholderIDInput) (*cardholderDetailOutput, error) {
	ch, err := s.scopedCardholder(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	d, err := s.cardholderDetail(ctx, ch)
	if err != nil {
		return nil, err
	}
	return &cardholderDetailOutput{Body: d}, nil
}

// cardholderDetail gathers balance and active card; having no card is
// normal (before issue, after cancel), not an error.
func (s *Server) cardholderDetail(ctx context.Context, ch *onecard.Cardholder) (*cardholderDetail, error) {
	bal, err := s.cfg.Cardholders.Balance(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	d := &cardholderDetail{Cardholder: ch, Balance: bal}
	c, err := s.cfg.Cards.ActiveCard(ctx, ch.ID)
	switch {
	case err == nil:
		d.Card = newCardView(c)
	case onecard.ErrorCode(err) != onecard.ENOTFOUND:
		return nil, err
	}
	return d, nil
}

type setStatusInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Cardholder ID."`
	Body struct {
		Status onecard.CardholderStatus `json:"status" enum:"active,graduated,closed" doc:"Closing needs a zero balance and cancels the card."`
	}
}

// setCardholderStatus marks a cardholder graduated, closed or active again.
func (s *Server) setCardholderStatus(ctx context.Context, in *setStatusInput) (*cardholderOutput, error) {
	if _, err := s.scopedCardholder(ctx, in.ID); err != nil {
		return nil, err
	}
	ch, err := s.cfg.Cardholders.SetCardholderStatus(ctx, in.ID, in.Body.Status)
	if err != nil {
		return nil, err
	}
	return &cardholderOutput{Body: ch}, nil
}

type setPhoneInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Cardholder ID."`
	Body struct {
		Phone string `json:"phone" maxLength:"20" doc:"Mobile number for notices; empty clears it."`
	}
}

// setPhone changes the phone used for notices.
func (s *Server) setPhone(ctx context.Context, in *setPhoneInput) (*cardholderOutput, error) {
	if _, err := s.scopedCardholder(ctx, in.ID); err != nil {
		return nil, err
	}
	if err := s.cfg.Cardholders.SetPhone(ctx, in.ID, in.Body.Phone); err != nil {
		return nil, err
	}
	ch, err := s.cfg.Cardholders.Cardholder(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &cardholderOutput{Body: ch}, nil
}
