package onecard

import (
	"context"
	"time"
)

// TerminalKind is what a terminal does (seed 001).
type TerminalKind string

// Terminal kinds.
const (
	TerminalPOS         TerminalKind = "pos"         // canteen and shop point of sale
	TerminalBath        TerminalKind = "bath"        // bath water controller (控水器)
	TerminalKiosk       TerminalKind = "kiosk"       // 圈存机: bank loads, loss reports, PINs
	TerminalCash        TerminalKind = "cash"        // cash top-up machine: 10, 20, 50, 100 yuan notes
	TerminalReplacement TerminalKind = "replacement" // self-service card replacement machine
)

// Valid reports whether k is a known terminal kind.
func (k TerminalKind) Valid() bool {
	switch k {
	case TerminalPOS, TerminalBath, TerminalKiosk, TerminalCash, TerminalReplacement:
		return true
	}
	return false
}

// Terminal is a device of a school: it belongs to a merchant (or, with
// MerchantID 0, to the card centre) and a campus, holds its own key and
// signs every request. Seq is the highest transaction sequence the server
// has accepted from it.
type Terminal struct {
	ID         int64        `json:"id"`
	SchoolID   int64        `json:"school_id"`
	CampusID   int64        `json:"campus_id,omitempty"`
	MerchantID int64        `json:"merchant_id,omitempty"`
	Kind       TerminalKind `json:"kind"`
	Code       string       `json:"code"` // unique within the school, e.g. "canteen1-pos-07"
	Name       string       `json:"name"`
	Disabled   bool         `json:"disabled"`
	Seq        int64        `json:"seq"`
	LastSeenAt *time.Time   `json:"last_seen_at,omitempty"`
	CreatedAt  time.Time    `json:"created_at"`
}

// TerminalService registers terminals and authenticates their requests.
type TerminalService interface {
	// CreateTerminal registers a terminal and returns its key, shown once
	// (it is stored encrypted with the store secret). EINVALID, ENOTFOUND
	// (school, campus, merchant), ECONFLICT (code taken).
	CreateTerminal(ctx context.Context, t *Terminal) (key []byte, err error)
	// Terminal returns one terminal. ENOTFOUND.
	Terminal(ctx context.Context, id int64) (*Terminal, error)
	// Terminals lists a school's terminals.
	Terminals(ctx context.Context, schoolID int64) ([]*Terminal, error)
	// SetTerminalDisabled disables or re-enables a terminal. ENOTFOUND.
	SetTerminalDisabled(ctx context.Context, id int64, disabled bool) (*Terminal, error)
	// TerminalKey returns an active terminal, found by school code and
	// terminal code, with its key, for verifying a request's signature.
	// EUNAUTHORIZED when unknown or disabled (one message for both).
	TerminalKey(ctx context.Context, schoolCode, terminalCode string) (*Terminal, []byte, error)
	// UseNonce records a request nonce of a terminal; a nonce already seen
	// within the replay window is ECONFLICT. Old nonces are forgotten
	// after `window`.
	UseNonce(ctx context.Context, terminalID int64, nonce string, window time.Duration) error
}
