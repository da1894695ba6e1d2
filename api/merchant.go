package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type merchantsOutput struct {
	Body struct {
		Items []*onecard.Merchant `json:"items"`
	}
}

// listMerchants lists a school's merchants with their ledger accounts.
func (s *Server) listMerchants(ctx context.Context, in *schoolIDInput) (*merchantsOutput, error) {
	if _, err := s.scopedSchool(ctx, in.ID); err != nil {
		return nil, err
	}
	ms, err := s.cfg.Merchants.Merchants(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := &merchantsOutput{}
	out.Body.Items = nonNil(ms)
	return out, nil
}

type createMerchantInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"School ID."`
	Body struct {
		Code     string `json:"code" minLength:"1" maxLength:"32" doc:"Code unique within the school."`
		Name     string `json:"name" minLength:"1" maxLength:"128" doc:"Name shown in histories."`
		Kind     string `json:"kind" enum:"canteen,bath,network,card_center,shop" doc:"What the merchant is."`
		CampusID int64  `json:"campus_id,omitempty" minimum:"0" doc:"The campus it is on, if one."`
	}
}

type merchantOutput struct {
	Body *onecard.Merchant
}

// createMerchant adds a merchant and opens its ledger account.
func (s *Server) createMerchant(ctx context.Context, in *createMerchantInput) (*merchantOutput, error) {
	if _, err := s.scopedSchool(ctx, in.ID); err != nil {
		return nil, err
	}
	b := in.Body
	m := &onecard.Merchant{SchoolID: in.ID, CampusID: b.CampusID, Code: b.Code, Name: b.Name, Kind: b.Kind}
	if err := s.cfg.Merchants.CreateMerchant(ctx, m); err != nil {
		return nil, err
	}
	return &merchantOutput{Body: m}, nil
}
