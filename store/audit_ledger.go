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
	return fn(&auditor{tx: tx, db: db})
}

type auditor struct {
	tx *sql.Tx
	db *DB
}

func (a *auditor) AccountSums(ctx context.Context, fn func(*ledger.Account, ledger.Delta) error) error {
	rows, err := a.tx.QueryContext(ctx, `SELECT a.id, a.floor, a.ceiling, a.balance, a.debits_pending, a.credits_pending,
		a.frozen, a.closed, COALESCE(j.b, 0), COALESCE(j.dp, 0), COALESCE(j.cp, 0)
		FROM accounts a LEFT JOIN (
			SELECT account_id, SUM(balance) AS b, SUM(debits_pending) AS dp, SUM(credits_pending) AS cp
			FROM journal GROUP BY account_id
		) j ON j.account_id = a.id ORDER BY a.id`)
	if err != nil {
		return fmt.Errorf("store: audit accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		acc := &ledger.Account{}
		var d ledger.Delta
		if err := rows.Scan(&acc.ID, &acc.Floor, &acc.Ceiling, &acc.Balance, &acc.DebitsPending, &acc.CreditsPending,
			&acc.Frozen, &acc.Closed, &d.Balance, &d.DebitsPending, &d.CreditsPending); err != nil {
			return fmt.Errorf("store: audit accounts: %w", err)
		}
		d.Account = acc.ID
		if err := fn(acc, d); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (a *auditor) Journal(ctx context.Context, fn func(*ledger.Entry, *ledger.Transfer) error) error {
	rows, err := a.tx.QueryContext(ctx, `SELECT j.seq, j.transfer_id, j.account_id, j.balance, j.debits_pending,
		j.credits_pending, j.created_at, j.hash,
		COALESCE(t.id, 0), COALESCE(t.key, ''), COALESCE(t.debit, 0), COALESCE(t.credit, 0), COALESCE(t.amount, 0),
		COALESCE(t.flags, 0), COALESCE(t.pending_id, 0)
		FROM journal j LEFT JOIN transfers t ON t.id = j.transfer_id ORDER BY j.seq`)
	if err != nil {
		return fmt.Errorf("store: audit journal: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e := &ledger.Entry{}
		t := &ledger.Transfer{}
		var at, flags int64
		var hash []byte
		if err := rows.Scan(&e.Seq, &e.TransferID, &e.Account, &e.Balance, &e.DebitsPending, &e.CreditsPending, &at, &hash,
			&t.ID, &t.Key, &t.Debit, &t.Credit, &t.Amount, &flags, &t.PendingID); err != nil {
			return fmt.Errorf("store: audit journal: %w", err)
		}
		e.Time, t.Flags = fromMicro(at), ledger.Flags(flags)
		copy(e.Hash[:], hash)
		if err := fn(e, t); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (a *auditor) DuplicateKeys(ctx context.Context) ([]string, error) {
	rows, err := a.tx.QueryContext(ctx, `SELECT key FROM transfers GROUP BY key HAVING COUNT(*) > 1 ORDER BY key`)
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
	err := a.tx.QueryRowContext(ctx, `SELECT seq, hash, transfer_id FROM ledger_head WHERE id = 1`).Scan(&h.Seq, &hash, &h.TransferID)
	copy(h.Hash[:], hash)
	return h, err
}
