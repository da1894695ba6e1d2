package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/onecard-campus/onecard/ledger"
)

// Audit runs fn over a consistent read-only snapshot of the ledger, for
// `onecard check`. On PostgreSQL the snapshot is a REPEATABLE READ
// transaction; on SQLite a read transaction in WAL mode sees one snapshot.
func (db *DB) Audit(ctx context.Context, fn func(ledger.Auditor) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: begin audit: %w", err)
	}
	defer tx.Rollback()
	return fn(&auditor{tx: tx})
}

type auditor struct{ tx *sql.Tx }

func (a *auditor) Accounts(ctx context.Context, fn func(*ledger.Account) error) error {
	rows, err := a.tx.QueryContext(ctx, `SELECT id, floor, ceiling, balance, debits_pending, credits_pending, frozen, closed,
		last_transfer FROM accounts ORDER BY id`)
	if err != nil {
		return fmt.Errorf("store: audit accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		acc := &ledger.Account{}
		if err := rows.Scan(&acc.ID, &acc.Floor, &acc.Ceiling, &acc.Balance, &acc.DebitsPending, &acc.CreditsPending,
			&acc.Frozen, &acc.Closed, &acc.Last); err != nil {
			return fmt.Errorf("store: audit accounts: %w", err)
		}
		if err := fn(acc); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (a *auditor) Journal(ctx context.Context, fn func(*ledger.Transfer) error) error {
	rows, err := a.tx.QueryContext(ctx, `SELECT j.id, j.key, j.debit, j.credit, j.amount, j.flags, j.pending_id, j.released,
		j.code, j.memo, j.created_at, j.hash, COALESCE(h.state, ''), j.debit_prev, j.credit_prev
		FROM journal j LEFT JOIN holds h ON h.transfer_id = j.id ORDER BY j.id`)
	if err != nil {
		return fmt.Errorf("store: audit journal: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t := &ledger.Transfer{}
		var flags, at int64
		var hash []byte
		var state string
		if err := rows.Scan(&t.ID, &t.Key, &t.Debit, &t.Credit, &t.Amount, &flags, &t.PendingID, &t.Released,
			&t.Code, &t.Memo, &at, &hash, &state, &t.DebitPrev, &t.CreditPrev); err != nil {
			return fmt.Errorf("store: audit journal: %w", err)
		}
		t.Flags, t.Time, t.State = ledger.Flags(flags), fromMicro(at), ledger.State(state)
		copy(t.Hash[:], hash)
		if err := fn(t); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (a *auditor) DuplicateKeys(ctx context.Context) ([]string, error) {
	rows, err := a.tx.QueryContext(ctx, `SELECT key FROM journal GROUP BY key HAVING COUNT(*) > 1 ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("store: audit keys: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

func (a *auditor) StoredHead(ctx context.Context) (ledger.Head, error) {
	var h ledger.Head
	var hash []byte
	err := a.tx.QueryRowContext(ctx, `SELECT transfer_id, hash FROM ledger_head WHERE id = 1`).Scan(&h.TransferID, &hash)
	copy(h.Hash[:], hash)
	return h, err
}
