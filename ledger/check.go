package ledger

import "context"

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
