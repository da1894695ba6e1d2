package ledger

import "context"

// Reader answers questions about accounts and transfers from committed state.
type Reader interface {
	// Account returns an account. The error's code is onecard.ENOTFOUND
	// when there is no such account.
	Account(ctx context.Context, id int64) (*Account, error)
	// TransferByKey returns a stored transfer. ENOTFOUND.
	TransferByKey(ctx context.Context, key string) (*Transfer, error)
	// AccountTransfers lists transfers touching an account, newest first,
	// with IDs below beforeID (0 = from the newest).
	AccountTransfers(ctx context.Context, account, beforeID int64, limit int) ([]*Transfer, error)
}

// Submitter takes batches of transfers; *Ledger implements it.
type Submitter interface {
	Submit(ctx context.Context, transfers []Transfer) ([]Outcome, error)
}
