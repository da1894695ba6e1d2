package ledger

import (
	"context"
	"fmt"
	"math/big"
)

// Auditor reads what Check verifies. Stores implement it over a read-only
// snapshot.
type Auditor interface {
	// Accounts calls fn for every account.
	Accounts(ctx context.Context, fn func(a *Account) error) error
	// Journal calls fn for every transfer in ID order, with its hash and,
	// for pending transfers, its hold's state.
	Journal(ctx context.Context, fn func(t *Transfer) error) error
	// DuplicateKeys returns idempotency keys stored more than once.
	DuplicateKeys(ctx context.Context) ([]string, error)
	// StoredHead returns the head row as stored.
	StoredHead(ctx context.Context) (Head, error)
}

// Report is what Check found.
type Report struct {
	Accounts   int64    `json:"accounts"`
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

// hold is what Check remembers of a pending transfer while reading on.
type hold struct {
	t        Transfer
	resolved []*Transfer
}

// Check verifies the ledger's invariants. It replays the journal from the
// first transfer: the hash chain must be intact up to the stored head, IDs
// consecutive, every post and void must resolve an earlier hold once, for
// its accounts and its held amount, and every transfer must link to the
// transfer before it of each of its accounts. Then every account's balance
// and pending amounts must equal what the journal says, its history must
// start at its newest transfer, no account may be
// outside its floor or ceiling, all balances must sum to zero (and pending
// debits to pending credits), and no idempotency key may be stored twice.
// Violations go in the report; an error means the check could not run.
func Check(ctx context.Context, a Auditor) (*Report, error) {
	r := &Report{}
	sums := map[int64]*Delta{}
	add := func(d Delta) {
		s := sums[d.Account]
		if s == nil {
			s = &Delta{Account: d.Account}
			sums[d.Account] = s
		}
		s.Balance += d.Balance
		s.DebitsPending += d.DebitsPending
		s.CreditsPending += d.CreditsPending
	}
	holds := map[int64]*hold{}
	newest := map[int64]int64{} // account -> its newest transfer so far
	var prev [32]byte
	var last int64
	err := a.Journal(ctx, func(t *Transfer) error {
		r.Transfers++
		if t.ID != last+1 {
			r.add("transfer %d follows transfer %d: transfers are missing", t.ID, last)
		}
		last = t.ID
		if want := ChainHash(prev, t); want != t.Hash {
			r.add("transfer %d: hash does not match its content and the previous hash (altered?)", t.ID)
		}
		prev = t.Hash
		if t.Amount <= 0 || t.Debit == t.Credit {
			r.add("transfer %d: amount %d from %d to %d is not a transfer", t.ID, t.Amount, t.Debit, t.Credit)
		}
		switch t.Flags.Kind() {
		case 0:
		case Pending:
			holds[t.ID] = &hold{t: *t}
		case PostPending, VoidPending:
			h := holds[t.PendingID]
			switch {
			case h == nil:
				r.add("transfer %d resolves hold %d, which is not an earlier pending transfer", t.ID, t.PendingID)
			case h.t.Debit != t.Debit || h.t.Credit != t.Credit || h.t.Amount != t.Released:
				r.add("transfer %d: releases %d between %d and %d, but hold %d held %d between %d and %d",
					t.ID, t.Released, t.Debit, t.Credit, h.t.ID, h.t.Amount, h.t.Debit, h.t.Credit)
			case t.Flags&PostPending != 0 && t.Amount > t.Released:
				r.add("transfer %d posts %d of a hold of %d", t.ID, t.Amount, t.Released)
			case t.Flags&VoidPending != 0 && t.Amount != t.Released:
				r.add("transfer %d voids %d of a hold of %d", t.ID, t.Amount, t.Released)
			}
			if h != nil {
				h.resolved = append(h.resolved, t)
			}
		default:
			r.add("transfer %d has unknown flags %d", t.ID, t.Flags)
		}
		if want := newest[t.Debit]; t.DebitPrev != want {
			r.add("transfer %d: links to transfer %d as the previous one of account %d, but that is %d", t.ID, t.DebitPrev, t.Debit, want)
		}
		if want := newest[t.Credit]; t.CreditPrev != want {
			r.add("transfer %d: links to transfer %d as the previous one of account %d, but that is %d", t.ID, t.CreditPrev, t.Credit, want)
		}
		newest[t.Debit], newest[t.Credit] = t.ID, t.ID
		dr, cr := effects(t)
		add(dr)
		add(cr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, h := range holds {
		resolved := len(h.resolved) > 0
		switch {
		case len(h.resolved) > 1:
			r.add("hold %d is resolved %d times", h.t.ID, len(h.resolved))
		case resolved == (h.t.State == StatePending):
			r.add("hold %d is %q but the journal says it was resolved: %v", h.t.ID, h.t.State, resolved)
		}
	}
	head, err := a.StoredHead(ctx)
	if err != nil {
		return nil, err
	}
	if head.TransferID != last || head.Hash != prev {
		r.add("ledger head (transfer %d) does not match the journal's last transfer %d", head.TransferID, last)
	}

	var sum, sumDP, sumCP big.Int
	err = a.Accounts(ctx, func(acc *Account) error {
		r.Accounts++
		sum.Add(&sum, big.NewInt(acc.Balance))
		sumDP.Add(&sumDP, big.NewInt(acc.DebitsPending))
		sumCP.Add(&sumCP, big.NewInt(acc.CreditsPending))
		j := Delta{}
		if s := sums[acc.ID]; s != nil {
			j = *s
			delete(sums, acc.ID)
		}
		if acc.Balance != j.Balance || acc.DebitsPending != j.DebitsPending || acc.CreditsPending != j.CreditsPending {
			r.add("account %d: balance %d, pending debits %d, pending credits %d, but the journal says %d, %d, %d",
				acc.ID, acc.Balance, acc.DebitsPending, acc.CreditsPending, j.Balance, j.DebitsPending, j.CreditsPending)
		}
		if acc.Last != newest[acc.ID] {
			r.add("account %d: its history starts at transfer %d, but its newest transfer is %d", acc.ID, acc.Last, newest[acc.ID])
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
	for id := range sums {
		r.add("the journal moves money of account %d, which does not exist", id)
	}
	if sum.Sign() != 0 {
		r.add("balances sum to %s fen, not zero", sum.String())
	}
	if sumDP.Cmp(&sumCP) != 0 {
		r.add("pending debits sum to %s fen but pending credits to %s", sumDP.String(), sumCP.String())
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
