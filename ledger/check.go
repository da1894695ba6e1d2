package ledger

import (
	"context"
	"fmt"
	"math/big"
)

// Auditor reads what Check verifies. Stores implement it over a read-only
// snapshot.
type Auditor interface {
	// AccountSums calls fn for every account with the sums of its journal
	// entries (in a Delta whose Account is the account's ID).
	AccountSums(ctx context.Context, fn func(a *Account, journal Delta) error) error
	// Journal calls fn for every entry in seq order, with its transfer.
	Journal(ctx context.Context, fn func(e *Entry, t *Transfer) error) error
	// DuplicateKeys returns idempotency keys stored more than once.
	DuplicateKeys(ctx context.Context) ([]string, error)
	// StoredHead returns the head row as stored.
	StoredHead(ctx context.Context) (Head, error)
}

// Report is what Check found.
type Report struct {
	Accounts   int64    `json:"accounts"`
	Entries    int64    `json:"entries"`
	Transfers  int64    `json:"transfers"`
	Violations []string `json:"violations"`
	// Truncated counts violations beyond the first maxViolations listed.
	Truncated int `json:"truncated,omitempty"`
}

// OK reports whether nothing was wrong.
func (r *Report) OK() bool { return len(r.Violations) == 0 }

const maxViolations = 200

func (r *Report) add(format string, args ...any) {
	if len(r.Violations) >= maxViolations {
		r.Truncated++
		return
	}
	r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
}

// Check verifies the ledger's invariants: balances sum to zero (and pending
// debits to pending credits); every balance equals the sum of its journal;
// no account is outside its floor or ceiling; the hash chain is intact from
// the first entry to the stored head; every entry matches its transfer; and
// no idempotency key is stored twice. Violations go in the report; an error
// means the check itself could not run.
func Check(ctx context.Context, a Auditor) (*Report, error) {
	r := &Report{}
	var sum, sumDP, sumCP big.Int
	err := a.AccountSums(ctx, func(acc *Account, j Delta) error {
		r.Accounts++
		sum.Add(&sum, big.NewInt(acc.Balance))
		sumDP.Add(&sumDP, big.NewInt(acc.DebitsPending))
		sumCP.Add(&sumCP, big.NewInt(acc.CreditsPending))
		if acc.Balance != j.Balance || acc.DebitsPending != j.DebitsPending || acc.CreditsPending != j.CreditsPending {
			r.add("account %d: balance %d, pending debits %d, pending credits %d, but its journal sums to %d, %d, %d",
				acc.ID, acc.Balance, acc.DebitsPending, acc.CreditsPending, j.Balance, j.DebitsPending, j.CreditsPending)
		}
		if acc.DebitsPending < 0 || acc.CreditsPending < 0 {
			r.add("account %d: negative pending amounts (%d, %d)", acc.ID, acc.DebitsPending, acc.CreditsPending)
		}
		if acc.Floor != NoFloor && acc.Balance-acc.DebitsPending < acc.Floor {
			r.add("account %d: balance %d less pending %d is below its floor %d", acc.ID, acc.Balance, acc.DebitsPending, acc.Floor)
		}
		if acc.Ceiling != NoCeiling && acc.Balance+acc.CreditsPending > acc.Ceiling {
			r.add("account %d: balance %d plus pending %d is above its ceiling %d", acc.ID, acc.Balance, acc.CreditsPending, acc.Ceiling)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sum.Sign() != 0 {
		r.add("balances sum to %s fen, not zero", sum.String())
	}
	if sumDP.Cmp(&sumCP) != 0 {
		r.add("pending debits sum to %s fen but pending credits to %s", sumDP.String(), sumCP.String())
	}

	var prev [32]byte
	var group []Entry
	var gt Transfer
	flush := func() {
		if len(group) > 0 {
			checkTransferEntries(r, &gt, group)
			r.Transfers++
		}
		group = group[:0]
	}
	err = a.Journal(ctx, func(e *Entry, t *Transfer) error {
		r.Entries++
		if e.Seq != r.Entries {
			r.add("journal entry %d follows entry %d: entries are missing or out of order", e.Seq, r.Entries-1)
			r.Entries = e.Seq
		}
		if want := ChainHash(prev, e, t.Key); want != e.Hash {
			r.add("journal entry %d: hash does not match its content and the previous hash (entry altered?)", e.Seq)
		}
		prev = e.Hash
		if t.ID == 0 {
			r.add("journal entry %d: transfer %d does not exist", e.Seq, e.TransferID)
		}
		if len(group) > 0 && group[0].TransferID != e.TransferID {
			flush()
		}
		if len(group) == 0 {
			gt = *t
		}
		group = append(group, *e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	flush()
	head, err := a.StoredHead(ctx)
	if err != nil {
		return nil, err
	}
	if head.Seq != r.Entries || head.Hash != prev {
		r.add("ledger head (entry %d) does not match the journal's last entry %d", head.Seq, r.Entries)
	}
	dups, err := a.DuplicateKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range dups {
		r.add("idempotency key %q is stored more than once", k)
	}
	return r, nil
}

// checkTransferEntries verifies that a transfer's two entries move exactly
// its amount between its two accounts, as its kind says.
func checkTransferEntries(r *Report, t *Transfer, g []Entry) {
	if len(g) != 2 {
		r.add("transfer %d has %d journal entries, want 2", t.ID, len(g))
		return
	}
	dr, cr := g[0], g[1]
	if dr.Account != t.Debit || cr.Account != t.Credit {
		r.add("transfer %d: entries name accounts %d and %d, the transfer %d and %d", t.ID, dr.Account, cr.Account, t.Debit, t.Credit)
	}
	ok := true
	switch t.Flags &^ Linked {
	case 0:
		ok = dr.Balance == -t.Amount && cr.Balance == t.Amount && dr.DebitsPending == 0 && cr.CreditsPending == 0
	case Pending:
		ok = dr.Balance == 0 && cr.Balance == 0 && dr.DebitsPending == t.Amount && cr.CreditsPending == t.Amount
	case PostPending:
		ok = dr.Balance == -t.Amount && cr.Balance == t.Amount && dr.DebitsPending < 0 && dr.DebitsPending == cr.CreditsPending &&
			-dr.DebitsPending >= t.Amount
	case VoidPending:
		ok = dr.Balance == 0 && cr.Balance == 0 && dr.DebitsPending == -t.Amount && cr.CreditsPending == -t.Amount
	default:
		ok = false
	}
	if !ok || dr.CreditsPending != 0 || cr.DebitsPending != 0 {
		r.add("transfer %d: journal entries do not match its amount %d and kind", t.ID, t.Amount)
	}
}
