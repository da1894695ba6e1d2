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
	// Load locks the journal head until the transaction ends, so that no
	// two batches interleave, and returns it with everything a batch
	// decides on. Stores answer it in as few round trips as they can.
	//
	// A store may instead answer from what it remembers of its own last
	// commit, without locking or reading, and report the batch's Keys as
	// absent, only if Write then fails whenever that answer was not the
	// database's (the head or an account moved meanwhile, a key was
	// already stored), and the store decides the batch again from the
	// database after such a failure, before anything is acknowledged.
	Load(ctx context.Context, q Query) (*Snapshot, error)
	// Write stores a batch's effects: new transfers (IDs and hashes
	// assigned, appended to the journal), new holds, state changes of
	// stored holds, account deltas and the new head. It must apply deltas
	// relative to the stored values and fail if any account would leave its
	// floor or ceiling.
	Write(ctx context.Context, w *Writes) error
}

// Query says what a batch needs loaded.
type Query struct {
	Keys     []string // the batch's own keys, to find retries of stored transfers
	HoldKeys []string // keys of the holds the batch posts or voids
	Accounts []int64  // accounts the batch names
	Sweep    int      // if > 0, also load up to this many holds whose timeout has passed
}

// Snapshot is what Load found: the head, the stored transfers with the
// queried keys, the queried accounts together with every account those
// transfers and the expired holds name, and the expired holds oldest first.
type Snapshot struct {
	Head      Head
	Transfers map[string]*Transfer
	Accounts  map[int64]*Account
	Expired   []*Transfer
}

// Writes are the effects of one batch, in the order they were decided.
type Writes struct {
	Transfers []*Transfer
	Holds     []Hold // pending transfers of this batch, in their state at its end
	Resolved  []Hold // stored holds posted, voided or expired by this batch
	Deltas    []Delta
	Head      Head
}

// Hold is the mutable state of a pending transfer, kept beside the journal
// so that the journal itself never changes.
type Hold struct {
	ID        int64
	State     State
	ExpiresAt int64 // unix microseconds; 0 = never
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
