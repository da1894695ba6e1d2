package purse

import (
	"crypto/rand"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	onecard "github.com/onecard-campus/onecard"
)

// UID is a card chip's 8-byte serial number; card keys are diversified by it.
type UID [8]byte

// ParseUID parses a UID from 16 hex digits.
func ParseUID(s string) (UID, error) {
	var u UID
	return u, u.UnmarshalText([]byte(s))
}

// String returns the UID in hex, as onecard.Card.UID stores it.
func (u UID) String() string { return strings.ToUpper(string(hexText(u[:]))) }

// MarshalText encodes the UID as hex.
func (u UID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText decodes a hex UID.
func (u *UID) UnmarshalText(b []byte) error { return unhexText(u[:], b, "UID") }

// Card is the image of a card's purse application: what the chip stores.
// The simulator keeps cards as JSON, keys included. A Card is not safe for
// concurrent use: like a chip, it serves one reader at a time.
type Card struct {
	UID            UID      `json:"uid"`
	Number         string   `json:"number"`          // the card number printed on the card
	Balance        int64    `json:"balance"`         // fen, 0 <= Balance <= Ceiling
	Ceiling        int64    `json:"ceiling"`         // the most the purse may hold, set at personalization
	OnlineCounter  uint16   `json:"online_counter"`  // completed loads
	OfflineCounter uint16   `json:"offline_counter"` // completed purchases
	Blacklisted    bool     `json:"blacklisted"`     // locked by a terminal that found it on the blacklist: purchases refused; the card center clears it
	Keys           CardKeys `json:"keys"`

	// The proofs of the last load and the last purchase, for GET
	// TRANSACTION PROVE after a torn transaction.
	LastLoad     *LoadResult     `json:"last_load,omitempty"`
	LastPurchase *PurchaseResult `json:"last_purchase,omitempty"`

	// Bath is a bath in progress (PBOC's compound purchase record): kept in
	// the card's file, not its RAM, so that it survives the card leaving the
	// water controller until that controller writes the unused part back.
	Bath *BathSession `json:"bath,omitempty"`

	// Rand supplies the card's randoms; nil means crypto/rand. Tests set it
	// for fixed vectors.
	Rand io.Reader `json:"-"`

	// session is the transaction opened by InitLoad or InitPurchase. Like a
	// chip's RAM it is lost when the card leaves the field (or the image is
	// saved), and any other command ends it.
	session *session
}

// session is an opened load or purchase.
type session struct {
	typ      Type
	amount   int64
	terminal TerminalID
	random   Random
	counter  uint16 // the card's counter when the session was opened
}

func (c *Card) newRandom() (Random, error) {
	var r Random
	src := c.Rand
	if src == nil {
		src = rand.Reader
	}
	if _, err := io.ReadFull(src, r[:]); err != nil {
		return r, fmt.Errorf("purse: card random: %w", err)
	}
	return r, nil
}

// take ends the open session and returns it if it is of type t.
func (c *Card) take(t Type) *session {
	s := c.session
	c.session = nil
	if s == nil || s.typ != t {
		return nil
	}
	return s
}

func validAmount(amount int64) bool { return amount > 0 && amount <= onecard.MaxAmount }

// counterExhausted reports whether a counter has no next value.
func counterExhausted(c uint16) bool { return c == math.MaxUint16 }

// unix drops what a MAC does not cover, so that records carry exactly the
// time the card signed.
func unix(t time.Time) time.Time { return time.Unix(t.Unix(), 0).UTC() }
