package ledger

import "time"

// Flags change what a transfer does.
type Flags uint32

// Transfer flags.
const (
	// Linked ties a transfer to the next one in the same request: the chain
	// (up to the first transfer without Linked) succeeds or fails as a whole.
	Linked Flags = 1 << iota
	// Pending reserves the amount (a hold) instead of moving it.
	Pending
	// PostPending moves a held amount, all of it or less (Amount 0 = all).
	PostPending
	// VoidPending releases a hold.
	VoidPending
	// Settle books money that has already moved, so that a frozen debit
	// account does not refuse it: a purchase a card made offline, the
	// reversal of a load, a correction of a card's balance, a fee taken at
	// the counter. A freeze stops new spending, not the books.
	Settle
)

// modifiers are the flags that do not change what kind of transfer it is.
const modifiers = Linked | Settle

// Kind returns the transfer's kind: 0 (a plain transfer), Pending,
// PostPending or VoidPending, without Linked and Settle.
func (f Flags) Kind() Flags { return f &^ modifiers }

// State is where a pending transfer is in its life. Other transfers have none.
type State string

// Pending transfer states.
const (
	StatePending State = "pending"
	StatePosted  State = "posted"
	StateVoided  State = "voided"
	StateExpired State = "expired"
)

// Limits on a transfer's text fields, in bytes of UTF-8.
const (
	MaxKeyLen  = 128
	MaxCodeLen = 32
	MaxMemoLen = 256
)

// Transfer moves Amount fen from Debit to Credit. Callers fill Key, Debit,
// Credit, Amount, Flags, PendingKey, Timeout, Code and Memo; the ledger sets
// ID, Time, PendingID, State and ExpiresAt on the stored record.
type Transfer struct {
	ID         int64         `json:"id"`
	Key        string        `json:"key"` // idempotency key, unique among stored transfers
	Debit      int64         `json:"debit"`
	Credit     int64         `json:"credit"`
	Amount     int64         `json:"amount"`
	Flags      Flags         `json:"flags"`
	PendingKey string        `json:"pending_key,omitempty"` // PostPending, VoidPending: the hold's key
	Timeout    time.Duration `json:"-"`                     // Pending: the hold is released after this; 0 = never
	Code       string        `json:"code"`                  // what it is for: topup, purchase, fee, claim...
	Memo       string        `json:"memo,omitempty"`        // shown in histories
	Time       time.Time     `json:"time"`
	PendingID  int64         `json:"pending_id,omitempty"` // resolved from PendingKey
	Released   int64         `json:"released,omitempty"`   // PostPending, VoidPending: the held amount released
	State      State         `json:"state,omitempty"`      // pending transfers only
	ExpiresAt  *time.Time    `json:"expires_at,omitempty"` // pending transfers with a timeout

	Hash [32]byte `json:"-"` // journal chain hash
	// DebitPrev and CreditPrev link each account's history: the ID of the
	// transfer before this one that touched the debit (credit) account, 0
	// for its first. See Account.Last.
	DebitPrev  int64 `json:"-"`
	CreditPrev int64 `json:"-"`

	pending *Transfer // the hold a post or void resolves, while its batch decides
}

// Result is the outcome of one transfer of a batch.
type Result uint8

// Results. The names (String) are part of the API.
const (
	OK                 Result = iota
	Exists                    // the same transfer was already stored under this key: nothing moved again
	ExistsDifferent           // the key is taken by a different transfer
	InvalidKey                // empty, too long, not UTF-8, control characters, or reserved
	InvalidAmount             // zero, negative or too large
	InvalidFlags              // a combination that means nothing
	SameAccount               // debit and credit are the same account
	DebitNotFound             // no such debit account
	CreditNotFound            // no such credit account
	AccountClosed             // an account is closed
	DebitFrozen               // the debit account is frozen
	InsufficientFunds         // the debit would go below its floor
	LimitExceeded             // the credit would go above its ceiling
	Overflow                  // a balance would overflow int64
	PendingNotFound           // post or void of an unknown hold
	PendingNotPending         // the hold is already posted or voided
	PendingExpired            // the hold timed out before the post
	PendingMismatch           // post or void names other accounts than the hold
	PostExceedsPending        // post for more than was held
	LinkedFailed              // another transfer of the linked chain failed
	LinkedOpen                // the last transfer of a request has Linked set
	InvalidText               // code or memo too long, not UTF-8 or with control characters
)

var resultNames = [...]string{
	OK: "ok", Exists: "exists", ExistsDifferent: "exists_with_different_fields",
	InvalidKey: "invalid_key", InvalidAmount: "invalid_amount", InvalidFlags: "invalid_flags",
	SameAccount: "same_account", DebitNotFound: "debit_account_not_found",
	CreditNotFound: "credit_account_not_found", AccountClosed: "account_closed",
	DebitFrozen: "debit_account_frozen", InsufficientFunds: "insufficient_funds",
	LimitExceeded: "limit_exceeded", Overflow: "overflow", PendingNotFound: "pending_not_found",
	PendingNotPending: "pending_already_resolved", PendingExpired: "pending_expired",
	PendingMismatch: "pending_mismatch", PostExceedsPending: "post_exceeds_pending",
	LinkedFailed: "linked_transfer_failed", LinkedOpen: "linked_chain_open", InvalidText: "invalid_text",
}

// String returns the result's stable name.
func (r Result) String() string {
	if int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "unknown"
}

// Done reports whether the transfer is stored: OK now or Exists from before.
func (r Result) Done() bool { return r == OK || r == Exists }

// Outcome is a transfer's result and, when Done, the stored record.
type Outcome struct {
	Result   Result    `json:"-"`
	Transfer *Transfer `json:"transfer,omitempty"`
}
