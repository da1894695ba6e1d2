package onecard

import (
	"context"
	"time"
)

// The services below are implemented by the store package inside database
// transactions. The caller's identity travels in the context (see
// NewContextWithPrincipal); the services record it in the audit log but do
// not authorise: the HTTP layer decides who may call what.

// SchoolService manages schools, campuses and their settings.
type SchoolService interface {
	// CreateSchool stores s with its campuses; zero settings become
	// DefaultSettings. EINVALID, ECONFLICT (code taken).
	CreateSchool(ctx context.Context, s *School) error
	// School returns a school with its campuses. ENOTFOUND.
	School(ctx context.Context, id int64) (*School, error)
	// SchoolByCode finds a school by its login code. ENOTFOUND.
	SchoolByCode(ctx context.Context, code string) (*School, error)
	// Schools lists all schools by name.
	Schools(ctx context.Context) ([]*School, error)
	// UpdateSettings replaces a school's settings. EINVALID, ENOTFOUND.
	UpdateSettings(ctx context.Context, id int64, s Settings) (*School, error)
	// CreateCampus adds a campus to a school. EINVALID, ENOTFOUND, ECONFLICT.
	CreateCampus(ctx context.Context, c *Campus) error
}

// CardholderFilter selects cardholders in a listing.
type CardholderFilter struct {
	SchoolID int64
	Query    string // prefix of number or name
	Status   CardholderStatus
	Offset   int
	Limit    int // default 50, at most 500
}

// CardholderService registers cardholders and answers for their balances.
type CardholderService interface {
	// CreateCardholder registers a cardholder, opens their purse and
	// transition accounts and sets both PINs to the school's initial PIN.
	// EINVALID, ENOTFOUND (school), ECONFLICT (number taken).
	CreateCardholder(ctx context.Context, n *NewCardholder) (*Cardholder, error)
	// Cardholder returns one cardholder. ENOTFOUND.
	Cardholder(ctx context.Context, id int64) (*Cardholder, error)
	// CardholderByNumber finds a cardholder by school and card number (as
	// typed: it is normalised). ENOTFOUND.
	CardholderByNumber(ctx context.Context, schoolID int64, number string) (*Cardholder, error)
	// FindCardholders lists cardholders and the total matching.
	FindCardholders(ctx context.Context, f CardholderFilter) ([]*Cardholder, int, error)
	// SetCardholderStatus marks a cardholder graduated or closed (or active
	// again). Closing needs a zero balance and cancels the card. EINVALID,
	// ENOTFOUND, ECONFLICT.
	SetCardholderStatus(ctx context.Context, id int64, status CardholderStatus) (*Cardholder, error)
	// SetPhone changes the phone used for notices. EINVALID, ENOTFOUND.
	SetPhone(ctx context.Context, id int64, phone string) error
	// Balance returns purse, transition and total. ENOTFOUND.
	Balance(ctx context.Context, cardholderID int64) (Balance, error)
	// MatchIDNumber reports whether idNumber is the one registered (keyed
	// hash comparison). ENOTFOUND.
	MatchIDNumber(ctx context.Context, cardholderID int64, idNumber string) (bool, error)
}

// CardService runs the card lifecycle. Every state change bumps the school's
// blacklist version so terminals can pull the delta.
type CardService interface {
	// IssueCard gives a cardholder a new card; they must have no active one.
	// An empty uid gets a random one. ECONFLICT, ENOTFOUND, EINVALID.
	IssueCard(ctx context.Context, cardholderID int64, uid string) (*Card, error)
	// Card returns one card. ENOTFOUND.
	Card(ctx context.Context, id int64) (*Card, error)
	// ActiveCard returns the cardholder's active card. ENOTFOUND when none.
	ActiveCard(ctx context.Context, cardholderID int64) (*Card, error)
	// CardByUID finds a card of a school by its chip serial (hex), as a
	// terminal reads it. ENOTFOUND.
	CardByUID(ctx context.Context, schoolID int64, uid string) (*Card, error)
	// Cards lists all of a cardholder's cards, newest first.
	Cards(ctx context.Context, cardholderID int64) ([]*Card, error)
	// ReportLost blocks a card. ECONFLICT if already lost or cancelled.
	ReportLost(ctx context.Context, cardID int64) (*Card, error)
	// Unlock unblocks a lost card. ECONFLICT if not lost.
	Unlock(ctx context.Context, cardID int64) (*Card, error)
	// Freeze freezes a card and its accounts' debits. EINVALID, ECONFLICT.
	Freeze(ctx context.Context, cardID int64, reason FreezeReason, note string) (*Card, error)
	// Unfreeze lifts a freeze. ECONFLICT if not frozen.
	Unfreeze(ctx context.Context, cardID int64) (*Card, error)
	// Replace charges the school's replacement fee (transition balance
	// first, then purse), cancels and blacklists the old card and issues a
	// new one that carries the purse shadow. The key makes a retry return
	// the same new card, whether it names the old card or the new one (a
	// machine that lost the answer finds the new card active).
	// EINSUFFICIENT, ECONFLICT, ENOTFOUND.
	Replace(ctx context.Context, cardID int64, key string) (*Card, error)
	// Cancel ends a card for good. ECONFLICT if already cancelled.
	Cancel(ctx context.Context, cardID int64) (*Card, error)
	// Blacklist returns the blocked/unblocked changes of a school's cards
	// after version `since`, and the current version.
	Blacklist(ctx context.Context, schoolID, since int64) ([]BlacklistEntry, int64, error)
}

// BlacklistEntry says a card became blocked (lost, frozen, cancelled) or
// unblocked, at a version of the school's blacklist.
type BlacklistEntry struct {
	Version int64     `json:"version"`
	CardID  int64     `json:"card_id"`
	UID     string    `json:"uid"`
	Blocked bool      `json:"blocked"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
}

// PINService checks and changes cardholders' PINs with lockout.
type PINService interface {
	// VerifyPIN checks a PIN. A wrong one counts towards the school's
	// lockout: EWRONGPIN (message says the attempts left), then ELOCKED.
	// A right one resets the count. EINVALID, ENOTFOUND.
	VerifyPIN(ctx context.Context, cardholderID int64, kind PINKind, pin string) error
	// ChangePIN sets a new PIN after verifying the old one. The errors of
	// VerifyPIN and EINVALID.
	ChangePIN(ctx context.Context, cardholderID int64, kind PINKind, old, new string) error
	// ResetPIN (operators only) sets the PIN to pin, or back to the initial
	// PIN when pin is empty, and clears any lockout. EINVALID, ENOTFOUND.
	ResetPIN(ctx context.Context, cardholderID int64, kind PINKind, pin string) error
}

// AuthService logs people in and out.
type AuthService interface {
	// LoginOperator checks a username and password. EUNAUTHORIZED (same
	// message for unknown user and wrong password), ELOCKED.
	LoginOperator(ctx context.Context, username, password string) (*Session, error)
	// LoginCardholder checks school code, card number and query PIN.
	// EUNAUTHORIZED, EWRONGPIN, ELOCKED.
	LoginCardholder(ctx context.Context, schoolCode, number, pin string) (*Session, error)
	// Authenticate resolves a bearer token. EUNAUTHORIZED if unknown,
	// expired or revoked.
	Authenticate(ctx context.Context, token string) (*Principal, error)
	// Logout revokes a token.
	Logout(ctx context.Context, token string) error
	// RevokeCardholderSessions ends every session of a cardholder (after a
	// loss report or PIN change).
	RevokeCardholderSessions(ctx context.Context, cardholderID int64) error
}

// OperatorService manages console users.
type OperatorService interface {
	// CreateOperator stores an operator with a password. EINVALID, ECONFLICT.
	CreateOperator(ctx context.Context, o *Operator, password string) error
	// Operators lists operators.
	Operators(ctx context.Context) ([]*Operator, error)
	// SetOperatorDisabled disables (ending every session at once) or
	// re-enables an operator. Disabling the last enabled administrator of
	// every school is ECONFLICT: nobody could then manage the deployment.
	// ENOTFOUND.
	SetOperatorDisabled(ctx context.Context, id int64, disabled bool) (*Operator, error)
	// ChangeOperatorPassword verifies the old password and sets a new one
	// (at least 10 characters). EUNAUTHORIZED, EINVALID.
	ChangeOperatorPassword(ctx context.Context, id int64, old, new string) error
	// EnsureAdmin creates the first administrator if no operator exists and
	// returns the password it set: the given one, or a random one-time
	// password that must be changed at first login. Empty when an operator
	// already existed.
	EnsureAdmin(ctx context.Context, password string) (string, error)
	// AuditLog returns audit entries newest first.
	AuditLog(ctx context.Context, schoolID int64, limit int) ([]*AuditEntry, error)
}

// MerchantService manages merchants and their accounts.
type MerchantService interface {
	// CreateMerchant stores a merchant and opens its ledger account.
	// EINVALID, ENOTFOUND (school), ECONFLICT (code taken).
	CreateMerchant(ctx context.Context, m *Merchant) error
	// Merchant returns one merchant. ENOTFOUND.
	Merchant(ctx context.Context, id int64) (*Merchant, error)
	// Merchants lists a school's merchants.
	Merchants(ctx context.Context, schoolID int64) ([]*Merchant, error)
}

// Payment asks to move money from a cardholder to a merchant without the
// card present (the network fee, a counter sale): it is drawn from the
// transition balance, which may go down to the school's arrears limit.
type Payment struct {
	Key          string `json:"key"`
	CardholderID int64  `json:"cardholder_id"`
	MerchantID   int64  `json:"merchant_id"`
	Amount       int64  `json:"amount"`
	Memo         string `json:"memo,omitempty"`
}

// Deposit asks to credit a cardholder's transition balance from one of the
// school's system accounts (cash at the service hall counter).
type Deposit struct {
	Key          string `json:"key"`
	CardholderID int64  `json:"cardholder_id"`
	Amount       int64  `json:"amount"`
	Memo         string `json:"memo,omitempty"`
}

// HistoryItem is one line of a cardholder's transactions.
type HistoryItem struct {
	TransferID int64     `json:"transfer_id"`
	Time       time.Time `json:"time"`
	Code       string    `json:"code"`
	Memo       string    `json:"memo,omitempty"`
	Amount     int64     `json:"amount"`  // + in, - out, from the cardholder's view
	Account    string    `json:"account"` // purse or transition
	State      string    `json:"state,omitempty"`
}

// MoneyService moves money for cardholders with the domain's checks (card
// usable, limits, arrears) on top of the ledger's.
type MoneyService interface {
	// Pay charges a payment. ECARDBLOCKED, ELIMIT, EINSUFFICIENT, EINVALID,
	// ENOTFOUND. Retrying with the same key returns the first transfer.
	Pay(ctx context.Context, p *Payment) (*HistoryItem, error)
	// Deposit credits cash taken at the counter. EINVALID, ENOTFOUND.
	Deposit(ctx context.Context, d *Deposit) (*HistoryItem, error)
	// History returns a cardholder's transactions, newest first.
	History(ctx context.Context, cardholderID int64, before time.Time, limit int) ([]*HistoryItem, error)
}
