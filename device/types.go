package device

import (
	"time"

	"github.com/onecard-campus/onecard/purse"
)

// The request and response bodies of docs/DEVICE_API.md.

// SAMKey is what a POS or bath controller's SAM is provisioned with.
type SAMKey struct {
	PurchaseMasterKey purse.Key        `json:"purchase_master_key"`
	TerminalID        purse.TerminalID `json:"terminal_id"`
}

// CardState is what a card told the terminal at a tap.
type CardState struct {
	UID            purse.UID `json:"uid"`
	Number         string    `json:"number"`
	Balance        int64     `json:"balance"`
	OnlineCounter  uint16    `json:"online_counter"`
	OfflineCounter uint16    `json:"offline_counter"`
}

// StateOf reads a card's state as a terminal sees it.
func StateOf(c *purse.Card) CardState {
	return CardState{UID: c.UID, Number: c.Number, Balance: c.Balance, OnlineCounter: c.OnlineCounter, OfflineCounter: c.OfflineCounter}
}

// TapRequest asks whether an online POS may charge a card.
type TapRequest struct {
	Card   CardState `json:"card"`
	Amount int64     `json:"amount"`
	PIN    string    `json:"pin,omitempty"` // the consumption PIN, when the server asked for it
}

// Tap decisions.
const (
	Approve     = "approve"
	Refuse      = "refuse"
	PINRequired = "pin_required"
)

// TapDecision is the server's answer to a tap.
type TapDecision struct {
	Decision string `json:"decision"`
	Code     string `json:"code,omitempty"`    // with refuse: the error code
	Message  string `json:"message,omitempty"` // with refuse or pin_required: what to show
	LockCard bool   `json:"lock_card,omitempty"`
	Claim    int64  `json:"claim,omitempty"` // load this much transition balance onto the card first
}

// Load kinds.
const (
	LoadClaim = "claim" // the transition balance onto the card (a tap at a POS or kiosk)
	LoadCash  = "cash"  // notes taken by a cash machine
	LoadBank  = "bank"  // 圈存 from the bound bank card at a kiosk
)

// LoadRequest asks the issuer to authorise a load the card opened.
type LoadRequest struct {
	Kind   string         `json:"kind"`
	UID    purse.UID      `json:"uid"`
	Amount int64          `json:"amount"`
	Init   purse.LoadInit `json:"init"`
}

// LoadAuthorization is the issuer's MAC2 and the time it covers.
type LoadAuthorization struct {
	MAC2 purse.MAC `json:"mac2"`
	Time time.Time `json:"time"`
}

// ConfirmLoadRequest reports the TAC of a completed load.
type ConfirmLoadRequest struct {
	UID     purse.UID `json:"uid"`
	Counter uint16    `json:"counter"` // the card's online counter after the load
	TAC     purse.TAC `json:"tac"`
}

// RecordsRequest uploads purchase records, 1 to MaxRecords of them.
type RecordsRequest struct {
	Records []purse.Record `json:"records"`
}

// MaxRecords is the most records one upload may carry.
const MaxRecords = 500

// Record statuses.
const (
	RecordAccepted  = "accepted"
	RecordDuplicate = "duplicate"
	RecordRejected  = "rejected"
)

// RecordResult is what became of one uploaded record.
type RecordResult struct {
	Status     string `json:"status"`
	Code       string `json:"code,omitempty"`
	Message    string `json:"message,omitempty"`
	TransferID int64  `json:"transfer_id,omitempty"`
}

// RecordsResponse answers an upload, one result per record in order.
type RecordsResponse struct {
	Results []RecordResult `json:"results"`
}
