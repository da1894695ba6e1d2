package api

import (
	"context"

	"github.com/onecard-campus/onecard/ledger"
)

// accountView is a ledger account with "no floor" and "no ceiling" left out
// rather than sent as ±2^63, which JavaScript cannot hold.
type accountView struct {
	ID             int64  `json:"id"`
	Balance        int64  `json:"balance" doc:"Credits minus debits of posted transfers, in fen."`
	DebitsPending  int64  `json:"debits_pending" doc:"Fen held by pending debits."`
	CreditsPending int64  `json:"credits_pending" doc:"Fen held by pending credits."`
	Floor          *int64 `json:"floor,omitempty" doc:"Balance less pending debits never goes below this; absent: no floor."`
	Ceiling        *int64 `json:"ceiling,omitempty" doc:"Balance plus pending credits never goes above this; absent: no ceiling."`
	Frozen         bool   `json:"frozen" doc:"Debits refused; credits still land."`
	Closed         bool   `json:"closed" doc:"Nothing moves."`
}

type accountIDInput struct {
	ID int64 `path:"id" minimum:"1" doc:"Ledger account ID."`
}

type accountOutput struct {
	Body *accountView
}

// getAccount returns a ledger account's balances.
func (s *Server) getAccount(ctx context.Context, in *accountIDInput) (*accountOutput, error) {
	a, err := s.cfg.Accounts.Account(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	v := &accountView{ID: a.ID, Balance: a.Balance, DebitsPending: a.DebitsPending,
		CreditsPending: a.CreditsPending, Frozen: a.Frozen, Closed: a.Closed}
	if a.Floor != ledger.NoFloor {
		v.Floor = &a.Floor
	}
	if a.Ceiling != ledger.NoCeiling {
		v.Ceiling = &a.Ceiling
	}
	return &accountOutput{Body: v}, nil
}

type accountTransfersInput struct {
	ID     int64 `path:"id" minimum:"1" doc:"Ledger account ID."`
	Before int64 `query:"before" minimum:"0" doc:"Only transfers with IDs below this; 0 or absent: from the newest."`
	Limit  int   `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"At most this many."`
}

type transfersOutput struct {
	Body struct {
		Items []*transferView `json:"items" doc:"Newest first."`
	}
}

// accountTransfers lists the transfers touching an account, a page at a time.
func (s *Server) accountTransfers(ctx context.Context, in *accountTransfersInput) (*transfersOutput, error) {
	if _, err := s.cfg.Accounts.Account(ctx, in.ID); err != nil { // an unknown account is 404, not an empty page
		return nil, err
	}
	ts, err := s.cfg.Accounts.AccountTransfers(ctx, in.ID, in.Before, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &transfersOutput{}
	out.Body.Items = []*transferView{}
	for _, t := range ts {
		out.Body.Items = append(out.Body.Items, newTransferView(t))
	}
	return out, nil
}
