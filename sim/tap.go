package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
)

// Who refused a tap.
const (
	ByServer   = "server"   // the online check: limits, PIN, a blocked card, the balance
	ByTerminal = "terminal" // an offline POS found the card on its blacklist
	ByCard     = "card"     // the card itself: too little on it, or locked
)

// TapResult is what one tap at a POS came to.
type TapResult struct {
	Terminal string
	Card     string // the card number
	Amount   int64  // fen asked
	Offline  bool

	// Before and After are the card's balance before the tap and after it.
	Before, After int64
	// Decision is device.Approve when the card was charged, device.Refuse
	// (RefusedBy, Code and Message say why), or device.PINRequired when
	// the server asked for the consumption PIN and none was known.
	Decision  string
	RefusedBy string
	Code      string
	Message   string
	PINAsked  bool // the server asked for the PIN, and it was typed
	// LockedCard: the POS set the card's blacklist flag (the server said
	// so, or the card was on an offline POS's blacklist).
	LockedCard bool
	// Claim is the transition balance loaded onto the card first, in fen.
	Claim int64
	// Record is the purchase; with Recovered it completes a purchase an
	// earlier tap of this card lost the answer of, and charged nothing new.
	Record    *purse.Record
	Recovered bool
	// Abandoned is an unfinished purchase the POS could not resolve and
	// set aside (purse.ErrUnresolved); this tap went on as a new one.
	Abandoned *purse.Pending
	// Upload is the server's verdict on Record; nil while it is queued (an
	// offline POS, or UploadErr). Uploaded is every record that upload
	// carried: Record and any the POS had queued before.
	Upload    *device.RecordResult
	Uploaded  []Upload
	UploadErr error
	// Latency is the online round trip, from the check to the record's
	// acceptance; zero otherwise.
	Latency time.Duration
}

// PendingError means a POS still has an unfinished purchase on another
// card: that card must be tapped first, to tell whether it was charged.
type PendingError struct {
	Terminal string
	Card     string // the card number
	Amount   int64
}

// Error implements error.
func (e *PendingError) Error() string {
	return fmt.Sprintf("terminal %s has an unfinished purchase of %s on card %s: tap that card there first",
		e.Terminal, onecard.Yuan(e.Amount), e.Card)
}

// cardRefusal reports whether err is the card declining a purchase (too
// little on it, locked) rather than a failure.
func cardRefusal(err error) bool {
	return errors.Is(err, purse.ErrInsufficient) || errors.Is(err, purse.ErrBlacklisted)
}

// refuse marks r as refused by whom with err's code and message.
func (r *TapResult) refuse(by string, err error) {
	r.Decision, r.RefusedBy, r.Code, r.Message = device.Refuse, by, onecard.ErrorCode(err), onecard.ErrorMessage(err)
}

// now is the terminals' clock.
func now() time.Time { return time.Now() }
