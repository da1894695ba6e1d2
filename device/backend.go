package device

import (
	"context"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/purse"
)

// Backend does the work of the purse calls (SAM, taps, loads, records) for
// an authenticated terminal; *store.DB implements it. The handlers check
// which kinds of terminal may make each call and the shape of the request;
// the Backend checks the cards, the money and the crypto, inside its own
// transactions.
type Backend interface {
	// PurseIssuer returns the purse issuer of a school. ENOTFOUND.
	PurseIssuer(ctx context.Context, schoolID int64) (*purse.Issuer, error)
	// Tap decides whether an online POS may charge a card (approve,
	// refuse or pin_required) and offers the transition balance as a claim.
	// Refusals are decisions, not errors; errors are EINVALID input or
	// failures.
	Tap(ctx context.Context, t *onecard.Terminal, req *TapRequest) (*TapDecision, error)
	// AuthorizeLoad checks a load's MAC1, moves the money and returns
	// MAC2. EINVALID, EFORBIDDEN, ENOTFOUND, ECARDBLOCKED, EINSUFFICIENT,
	// ELIMIT, ECONFLICT.
	AuthorizeLoad(ctx context.Context, t *onecard.Terminal, req *LoadRequest) (*LoadAuthorization, error)
	// ConfirmLoad checks the TAC of a completed load and marks it
	// confirmed. EINVALID, ENOTFOUND, ECONFLICT.
	ConfirmLoad(ctx context.Context, t *onecard.Terminal, req *ConfirmLoadRequest) error
	// UploadRecords takes 1 to MaxRecords purchase records of the terminal
	// and returns one result each, in order. EINVALID only for the batch
	// as a whole.
	UploadRecords(ctx context.Context, t *onecard.Terminal, records []purse.Record) ([]RecordResult, error)
}
