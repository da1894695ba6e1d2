package ledger

import (
	"crypto/sha256"
	"encoding/binary"
)

// The journal is the table of transfers itself: append-only, one row per
// transfer in ID order, each row carrying what it did to both accounts
// (its kind, amount and, for posts and voids, the held amount it
// released). Each row's hash covers the previous row's hash and the row,
// so changing, removing or reordering any past transfer breaks every later
// hash. One row per transfer, rather than one per account touched, halves
// what a batch writes.

// Head is the end of the journal: the last transfer's ID and hash. Stores
// keep it in one row that every batch locks, which serialises batches
// across processes sharing a database.
type Head struct {
	TransferID int64
	Hash       [32]byte
}

// ChainHash returns the hash of t given the previous transfer's hash. The
// encoding is fixed-width big-endian with strings length-prefixed, so no two
// different transfers encode alike.
func ChainHash(prev [32]byte, t *Transfer) [32]byte {
	b := make([]byte, 0, 32+8*8+3*2+len(t.Key)+len(t.Code)+len(t.Memo))
	b = append(b, prev[:]...)
	for _, v := range []int64{t.ID, t.Debit, t.Credit, t.Amount, int64(t.Flags), t.PendingID, t.Released, t.Time.UnixMicro()} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	for _, s := range []string{t.Key, t.Code, t.Memo} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return sha256.Sum256(b)
}

// effects returns what t did to its debit and credit accounts.
func effects(t *Transfer) (dr, cr Delta) {
	dr.Account, cr.Account = t.Debit, t.Credit
	switch t.Flags.Kind() {
	case 0:
		dr.Balance, cr.Balance = -t.Amount, t.Amount
	case Pending:
		dr.DebitsPending, cr.CreditsPending = t.Amount, t.Amount
	case PostPending:
		dr.Balance, cr.Balance = -t.Amount, t.Amount
		dr.DebitsPending, cr.CreditsPending = -t.Released, -t.Released
	case VoidPending:
		dr.DebitsPending, cr.CreditsPending = -t.Released, -t.Released
	}
	return dr, cr
}
