package device

import (
	"context"
	"net/http"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/purse"
)

// ReplacementRequest asks a self-service machine for a new card: the
// cardholder types the card number and presents the ID document the
// machine reads (seed 001, Part 06).
type ReplacementRequest struct {
	Number   string `json:"number"`
	IDNumber string `json:"id_number"`
	// Key makes a retry after a lost answer return the same new card
	// instead of charging the fee twice.
	Key string `json:"key"`
}

// ReplacementAnswer is the new card and the image the machine writes onto
// a blank chip: personalized by the issuer, its purse carrying the purse
// shadow (the balance the lost card held), its keys included because the
// machine is the card centre's own writer standing in for an issuer SAM.
type ReplacementAnswer struct {
	Card    *onecard.Card   `json:"card"`
	Image   *purse.Card     `json:"image"`
	Balance onecard.Balance `json:"balance"`
}

func (k *services) replace(ctx context.Context, t *onecard.Terminal, _ *http.Request, body []byte) (any, error) {
	var req ReplacementRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	h, err := k.Cardholders.CardholderByNumber(ctx, t.SchoolID, req.Number)
	if err != nil {
		return nil, err
	}
	ok, err := k.Cardholders.MatchIDNumber(ctx, h.ID, req.IDNumber)
	if err != nil {
		return nil, err
	} else if !ok {
		return nil, onecard.Errorf(onecard.EINVALID, "The ID document does not match the cardholder of card %s.", h.Number)
	}
	old, err := k.Cards.ActiveCard(ctx, h.ID)
	if err != nil {
		return nil, err
	}
	card, err := k.Cards.Replace(ctx, old.ID, req.Key)
	if err != nil {
		return nil, err
	}
	bal, err := k.Cardholders.Balance(ctx, h.ID)
	if err != nil {
		return nil, err
	}
	is, err := k.Issuer.PurseIssuer(ctx, t.SchoolID)
	if err != nil {
		return nil, err
	}
	uid, err := purse.ParseUID(card.UID)
	if err != nil {
		return nil, err
	}
	school, err := k.Schools.School(ctx, t.SchoolID)
	if err != nil {
		return nil, err
	}
	img := is.Personalize(uid, h.Number, school.Settings.PurseCeiling)
	img.Balance = bal.Purse
	return &ReplacementAnswer{Card: card, Image: img, Balance: bal}, nil
}
