package api

import "github.com/onecard-campus/onecard"

// cardView is a card with the one word a person sees and, when it cannot
// pay, why and what to do.
type cardView struct {
	onecard.Card
	State   string `json:"state" enum:"active,lost,frozen,cancelled" doc:"cancelled, lost, frozen or active, in that order of precedence."`
	Message string `json:"message,omitempty" doc:"Why the card cannot be used and what to do; absent when it can."`
}

func newCardView(c *onecard.Card) *cardView {
	v := &cardView{Card: *c, State: c.State()}
	if err := c.BlockedError(); err != nil {
		v.Message = onecard.ErrorMessage(err)
	}
	return v
}

// cardOutput answers with one card.
type cardOutput struct {
	Body *cardView
}

// cardIDInput names a card in the path.
type cardIDInput struct {
	ID int64 `path:"id" minimum:"1" doc:"Card ID."`
}

// cardholderIDInput names a cardholder in the path.
type cardholderIDInput struct {
	ID int64 `path:"id" minimum:"1" doc:"Cardholder ID."`
}

// schoolIDInput names a school in the path.
type schoolIDInput struct {
	ID int64 `path:"id" minimum:"1" doc:"School ID."`
}

// historyOutput answers with a page of a cardholder's transactions.
type historyOutput struct {
	Body struct {
		Items []*onecard.HistoryItem `json:"items" doc:"Newest first. Amounts in fen: + in, - out."`
	}
}
