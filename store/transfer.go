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
	// Two index range scans merged, rather than an OR the planners may not split.
	rows, err := db.query(ctx, `SELECT `+transferColumns+` FROM (
		SELECT * FROM (SELECT `+transferColumns+` FROM transfers WHERE debit = ? AND id < ? ORDER BY id DESC LIMIT ?) d
		UNION ALL
		SELECT * FROM (SELECT `+transferColumns+` FROM transfers WHERE credit = ? AND id < ? ORDER BY id DESC LIMIT ?) c
	) t ORDER BY id DESC LIMIT ?`, account, beforeID, limit, account, beforeID, limit, limit)
	if err != nil {
		return nil, fmt.Errorf("store: account transfers: %w", err)
	}
	return scanTransfers(rows)
}
