package ledger

import (
	"context"
	"time"
)

// Tx is the part of a store's write transaction the engine needs. A store's
// own transaction type implements it, so domain operations (a card
// replacement charging its fee) can run ledger transfers atomically with
// their other writes.
type Tx interface {
	// Now is the transaction's one fixed time; transfers are stamped with it.
	Now() time.Time
	// LockHead returns the journal head and holds a lock on it until the
	// transaction ends, so that no two batches interleave.
	LockHead(ctx context.Context) (Head, error)
	// Accounts loads the accounts with these IDs; unknown IDs are absent.
	Accounts(ctx context.Context, ids []int64) (map[int64]*Account, error)
	// TransfersByKey loads stored transfers by key; unknown keys are absent.
	TransfersByKey(ctx context.Context, keys []string) (map[string]*Transfer, error)
	// ExpiredPending returns at most limit transfers still pending whose
	// ExpiresAt is at or before now, oldest first.
	ExpiredPending(ctx context.Context, now time.Time, limit int) ([]*Transfer, error)
	// Write stores a batch's effects: new transfers (IDs assigned), state
	// changes of pending transfers, account deltas, journal entries and the
	// new head. It must apply deltas relative to the stored values and fail
	// if any account would leave its floor or ceiling.
	Write(ctx context.Context, w *Writes) error
}

// Writes are the effects of one batch, in the order they were decided.
type Writes struct {
	Transfers []*Transfer
	Resolved  []Resolution
	Deltas    []Delta
	Entries   []Entry
	Head      Head
}

// Resolution records that a pending transfer was posted, voided or expired.
type Resolution struct {
	ID    int64
	State State
}

// DB runs durable write transactions. Update calls fn in a transaction and
// commits it when fn returns nil; a commit that returns nil is on disk.
type DB interface {
	Update(ctx context.Context, fn func(Tx) error) error
}

// Apply runs one request's transfers inside a transaction the caller owns
// (see Ledger for the group-committed path). Linked chains may not span
// requests. It returns an outcome per transfer; an error means the
// transaction must be rolled back.
func Apply(ctx context.Context, tx Tx, transfers []Transfer) ([]Outcome, error) {
	out, err := applyRequests(ctx, tx, [][]Transfer{transfers}, false)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}
