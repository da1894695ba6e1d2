package onecard

import "time"

// CardStatus is whether a card still exists as a usable card.
type CardStatus string

// Card statuses. A cancelled card (replaced, or its holder closed) never
// comes back; lost and frozen are flags on an active card.
const (
	CardActive    CardStatus = "active"
	CardCancelled CardStatus = "cancelled"
)

// FreezeReason says why a card is frozen (seed 001, Part 08).
type FreezeReason string

// Freeze reasons.
const (
	FreezeArrears  FreezeReason = "arrears"  // balance below zero; lifts itself once topped up
	FreezeMismatch FreezeReason = "mismatch" // card-vs-account difference over the threshold
	FreezeAbnormal FreezeReason = "abnormal" // suspected theft, expiry or other abnormal use
	FreezeOperator FreezeReason = "operator" // an operator's decision
)

// Valid reports whether r is a known freeze reason.
func (r FreezeReason) Valid() bool {
	switch r {
	case FreezeArrears, FreezeMismatch, FreezeAbnormal, FreezeOperator:
		return true
	}
	return false
}

// Card is one physical (or virtual) card of a cardholder. A cardholder has at
// most one active card; replacements cancel the old one.
type Card struct {
	ID           int64        `json:"id"`
	SchoolID     int64        `json:"school_id"`
	CardholderID int64        `json:"cardholder_id"`
	UID          string       `json:"uid"` // chip serial, hex
	Status       CardStatus   `json:"status"`
	Lost         bool         `json:"lost"`
	FreezeReason FreezeReason `json:"freeze_reason,omitempty"`
	FreezeNote   string       `json:"freeze_note,omitempty"`
	IssuedAt     time.Time    `json:"issued_at"`
	LostAt       *time.Time   `json:"lost_at,omitempty"`
	FrozenAt     *time.Time   `json:"frozen_at,omitempty"`
	CancelledAt  *time.Time   `json:"cancelled_at,omitempty"`
	ReplacedBy   int64        `json:"replaced_by,omitempty"` // the card that replaced this one
}

// State is the one word shown to a person: cancelled, lost, frozen or active,
// in that order of precedence.
func (c *Card) State() string {
	switch {
	case c.Status == CardCancelled:
		return "cancelled"
	case c.Lost:
		return "lost"
	case c.FreezeReason != "":
		return "frozen"
	}
	return "active"
}

// Usable reports whether the card may pay: active, not lost, not frozen.
func (c *Card) Usable() bool { return c.State() == "active" }

// BlockedError returns the ECARDBLOCKED error explaining why the card cannot
// be used and what to do, or nil if it is usable.
func (c *Card) BlockedError() error {
	switch c.State() {
	case "cancelled":
		return Errorf(ECARDBLOCKED, "This card has been cancelled.")
	case "lost":
		return Errorf(ECARDBLOCKED, "This card is reported lost. Unlock it in the app or at a kiosk if you found it.")
	case "frozen":
		if c.FreezeReason == FreezeArrears {
			return Errorf(ECARDBLOCKED, "This card is frozen for arrears. A top-up that brings the balance to zero or above unfreezes it.")
		}
		return Errorf(ECARDBLOCKED, "This card is frozen (%s). Please bring it to the service hall.", c.FreezeReason)
	}
	return nil
}

// Balance is what a cardholder sees: the purse (on the card), the transition
// balance (pending, not yet on the card) and their sum.
type Balance struct {
	Purse      int64 `json:"purse"`
	Transition int64 `json:"transition"`
	Total      int64 `json:"total"`
}
