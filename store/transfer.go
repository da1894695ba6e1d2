package store

import (
	"context"
	"fmt"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

// TransferByKey implements ledger.Reader.
func (db *DB) TransferByKey(ctx context.Context, key string) (*ledger.Transfer, error) {
	rows, err := db.query(ctx, `SELECT `+transferColumns+` FROM transfers WHERE key = ?`, key)
	if err != nil {
		return nil, fmt.Errorf("store: transfer: %w", err)
	}
	ts, err := scanTransfers(rows)
	if err != nil {
		return nil, err
	} else if len(ts) == 0 {
		return nil, onecard.Errorf(onecard.ENOTFOUND, "No transfer has key %q.", key)
	}
	return ts[0], nil
}

// AccountTransfers implements ledger.Reader.
func (db *DB) AccountTransfers(ctx context.Context, account, beforeID int64, limit int) ([]*ledger.Transfer, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	// A page's cursor is the last transfer of the page before, one of the
	// account's: the walk starts at the transfer before it, so that a page
	// deep in a canteen's history costs what the first one does. Any other
	// cursor walks from the account's newest transfer, and the walk stops
	// once it has passed limit transfers before the cursor.
	start := `COALESCE((SELECT CASE WHEN c.debit = accounts.id THEN c.debit_prev ELSE c.credit_prev END
		FROM journal c WHERE c.id = ? AND accounts.id IN (c.debit, c.credit)), last_transfer)`
	rows, err := db.query(ctx, walkHistoryFrom(start, 1, `w.n < ?`, `j.id < ?`)+`SELECT `+transferColumns+` FROM transfers
		WHERE `+db.inWalk("")+` AND id > 0 AND id < ? ORDER BY id DESC LIMIT ?`,
		beforeID, account, beforeID, limit, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: account transfers: %w", err)
	}
	return scanTransfers(rows)
}
