package ledger

import "math"

// Account bounds that mean "none".
const (
	NoFloor   int64 = math.MinInt64
	NoCeiling int64 = math.MaxInt64
)

// Account is a ledger account's state. Balance is credits minus debits of
// posted transfers; pending transfers reserve DebitsPending on the debit side
// and CreditsPending on the credit side until they are posted or voided.
type Account struct {
	ID             int64 `json:"id"`
	Floor          int64 `json:"floor"`   // Balance - DebitsPending never goes below it
	Ceiling        int64 `json:"ceiling"` // Balance + CreditsPending never goes above it
	Balance        int64 `json:"balance"`
	DebitsPending  int64 `json:"debits_pending"`
	CreditsPending int64 `json:"credits_pending"`
	Frozen         bool  `json:"frozen"` // debits are refused; credits still land (so arrears can be cleared)
	Closed         bool  `json:"closed"` // nothing moves
	// Last is the newest transfer that touched the account, 0 for none:
	// the head of the account's history, which runs back through each
	// transfer's DebitPrev or CreditPrev. The links replace two journal
	// indexes by debit and by credit account: a link is written in the row
	// the batch writes anyway, an index entry lands on a page of its own
	// (SQLite 11,104-11,384 -> 13,557-17,173 transfers/s, docs/BENCHMARKS.md).
	Last int64 `json:"last_transfer"`
}

// Available is what can still be debited: the balance less pending debits,
// down to the floor. It is unbounded (math.MaxInt64) without a floor.
func (a *Account) Available() int64 {
	if a.Floor == NoFloor {
		return math.MaxInt64
	}
	return a.Balance - a.DebitsPending - a.Floor
}

// Delta is the change a batch makes to one account.
type Delta struct {
	Account        int64
	Balance        int64
	DebitsPending  int64
	CreditsPending int64
	Last           int64 // in Writes: the account's newest transfer after the batch (its new last_transfer)
}
