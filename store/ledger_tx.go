package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/onecard-campus/onecard/ledger"
)

// This file implements ledger.Tx: the ledger's hot path. SQLite runs
// prepared statements row by row (each costs microseconds in-process);
// PostgreSQL sends each kind of write as one statement over unnest()ed
// arrays, so a batch of any size costs five round trips.

const transferColumns = `id, key, debit, credit, amount, flags, pending_id, code, memo, state, expires_at, created_at`

// LockHead implements ledger.Tx.
func (tx *Tx) LockHead(ctx context.Context) (ledger.Head, error) {
	var h ledger.Head
	var hash []byte
	err := tx.queryRow(ctx, `SELECT seq, hash, transfer_id FROM ledger_head WHERE id = 1`+tx.forUpdate()).
		Scan(&h.Seq, &hash, &h.TransferID)
	if err != nil {
		return h, fmt.Errorf("store: lock ledger head: %w", err)
	}
	copy(h.Hash[:], hash)
	tx.accountOwner = make(map[int64]accountOwner)
	return h, nil
}

// accountOwner remembers, for the accounts a batch loaded, what they belong
// to, so that Write can settle arrears of cardholders without a query.
type accountOwner struct {
	kind    string
	ownerID int64
	frozen  bool
}

// Accounts implements ledger.Tx.
func (tx *Tx) Accounts(ctx context.Context, ids []int64) (map[int64]*ledger.Account, error) {
	m := make(map[int64]*ledger.Account, len(ids))
	for chunk := range chunks(ids, 4000) {
		var rows *sql.Rows
		var err error
		const cols = `SELECT id, floor, ceiling, balance, debits_pending, credits_pending, frozen, closed, kind, owner_id FROM accounts`
		if tx.db.dialect == Postgres {
			rows, err = tx.query(ctx, cols+` WHERE id = ANY(?)`, chunk)
		} else {
			rows, err = tx.query(ctx, cols+` WHERE id IN (`+placeholders(len(chunk))+`)`, anys(chunk)...)
		}
		if err != nil {
			return nil, fmt.Errorf("store: load accounts: %w", err)
		}
		for rows.Next() {
			a := &ledger.Account{}
			var o accountOwner
			if err := rows.Scan(&a.ID, &a.Floor, &a.Ceiling, &a.Balance, &a.DebitsPending, &a.CreditsPending, &a.Frozen, &a.Closed, &o.kind, &o.ownerID); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: load accounts: %w", err)
			}
			m[a.ID] = a
			if tx.accountOwner != nil {
				o.frozen = a.Frozen
				tx.accountOwner[a.ID] = o
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: load accounts: %w", err)
		}
	}
	return m, nil
}

// TransfersByKey implements ledger.Tx.
func (tx *Tx) TransfersByKey(ctx context.Context, keys []string) (map[string]*ledger.Transfer, error) {
	m := make(map[string]*ledger.Transfer, len(keys))
	for chunk := range chunks(keys, 4000) {
		var rows *sql.Rows
		var err error
		if tx.db.dialect == Postgres {
			rows, err = tx.query(ctx, `SELECT `+transferColumns+` FROM transfers WHERE key = ANY(?)`, chunk)
		} else {
			rows, err = tx.query(ctx, `SELECT `+transferColumns+` FROM transfers WHERE key IN (`+placeholders(len(chunk))+`)`, anys(chunk)...)
		}
		if err != nil {
			return nil, fmt.Errorf("store: load transfers: %w", err)
		}
		ts, err := scanTransfers(rows)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			m[t.Key] = t
		}
	}
	return m, nil
}

// ExpiredPending implements ledger.Tx.
func (tx *Tx) ExpiredPending(ctx context.Context, now time.Time, limit int) ([]*ledger.Transfer, error) {
	rows, err := tx.query(ctx, `SELECT `+transferColumns+` FROM transfers
		WHERE state = 'pending' AND expires_at > 0 AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`, micro(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: expired holds: %w", err)
	}
	return scanTransfers(rows)
}

// Write implements ledger.Tx.
func (tx *Tx) Write(ctx context.Context, w *ledger.Writes) error {
	var err error
	if tx.db.dialect == Postgres {
		err = tx.writeBulk(ctx, w)
	} else {
		err = tx.writeRows(ctx, w)
	}
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `UPDATE ledger_head SET seq = ?, hash = ?, transfer_id = ? WHERE id = 1`,
		w.Head.Seq, w.Head.Hash[:], w.Head.TransferID); err != nil {
		return fmt.Errorf("store: move ledger head: %w", err)
	}
	return tx.settleArrears(ctx, w.Deltas)
}

func (tx *Tx) writeRows(ctx context.Context, w *ledger.Writes) error {
	if len(w.Transfers) > 0 {
		st, err := tx.tx.PrepareContext(ctx, `INSERT INTO transfers (`+transferColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("store: insert transfers: %w", err)
		}
		defer st.Close()
		for _, t := range w.Transfers {
			if _, err := st.ExecContext(ctx, t.ID, t.Key, t.Debit, t.Credit, t.Amount, int64(t.Flags), t.PendingID,
				t.Code, t.Memo, string(t.State), expiresMicro(t), micro(t.Time)); err != nil {
				return fmt.Errorf("store: insert transfer %q: %w", t.Key, err)
			}
		}
	}
	for _, r := range w.Resolved {
		if _, err := tx.exec(ctx, `UPDATE transfers SET state = ? WHERE id = ? AND state = 'pending'`, string(r.State), r.ID); err != nil {
			return fmt.Errorf("store: resolve hold: %w", err)
		}
	}
	if len(w.Deltas) > 0 {
		st, err := tx.tx.PrepareContext(ctx, `UPDATE accounts SET balance = balance + ?, debits_pending = debits_pending + ?,
			credits_pending = credits_pending + ? WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("store: update accounts: %w", err)
		}
		defer st.Close()
		for _, d := range w.Deltas {
			if _, err := st.ExecContext(ctx, d.Balance, d.DebitsPending, d.CreditsPending, d.Account); err != nil {
				return fmt.Errorf("store: update account %d: %w", d.Account, err)
			}
		}
	}
	if len(w.Entries) > 0 {
		st, err := tx.tx.PrepareContext(ctx, `INSERT INTO journal (seq, transfer_id, account_id, balance, debits_pending,
			credits_pending, created_at, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("store: append journal: %w", err)
		}
		defer st.Close()
		for i := range w.Entries {
			e := &w.Entries[i]
			if _, err := st.ExecContext(ctx, e.Seq, e.TransferID, e.Account, e.Balance, e.DebitsPending, e.CreditsPending,
				micro(e.Time), e.Hash[:]); err != nil {
				return fmt.Errorf("store: append journal: %w", err)
			}
		}
	}
	return nil
}

func (tx *Tx) writeBulk(ctx context.Context, w *ledger.Writes) error {
	if n := len(w.Transfers); n > 0 {
		ids, keys, debits, credits, amounts := make([]int64, n), make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n)
		flags, pendings, codes, memos, states := make([]int64, n), make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
		expires, created := make([]int64, n), make([]int64, n)
		for i, t := range w.Transfers {
			ids[i], keys[i], debits[i], credits[i], amounts[i] = t.ID, t.Key, t.Debit, t.Credit, t.Amount
			flags[i], pendings[i], codes[i], memos[i], states[i] = int64(t.Flags), t.PendingID, t.Code, t.Memo, string(t.State)
			expires[i], created[i] = expiresMicro(t), micro(t.Time)
		}
		if _, err := tx.exec(ctx, `INSERT INTO transfers (`+transferColumns+`)
			SELECT * FROM unnest(?::bigint[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[],
				?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[])`,
			ids, keys, debits, credits, amounts, flags, pendings, codes, memos, states, expires, created); err != nil {
			return fmt.Errorf("store: insert transfers: %w", err)
		}
	}
	if n := len(w.Resolved); n > 0 {
		ids, states := make([]int64, n), make([]string, n)
		for i, r := range w.Resolved {
			ids[i], states[i] = r.ID, string(r.State)
		}
		if _, err := tx.exec(ctx, `UPDATE transfers t SET state = u.state FROM unnest(?::bigint[], ?::text[]) AS u(id, state)
			WHERE t.id = u.id AND t.state = 'pending'`, ids, states); err != nil {
			return fmt.Errorf("store: resolve holds: %w", err)
		}
	}
	if n := len(w.Deltas); n > 0 {
		ids, b, dp, cp := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		for i, d := range w.Deltas {
			ids[i], b[i], dp[i], cp[i] = d.Account, d.Balance, d.DebitsPending, d.CreditsPending
		}
		if _, err := tx.exec(ctx, `UPDATE accounts a SET balance = a.balance + u.b, debits_pending = a.debits_pending + u.dp,
			credits_pending = a.credits_pending + u.cp
			FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[]) AS u(id, b, dp, cp) WHERE a.id = u.id`,
			ids, b, dp, cp); err != nil {
			return fmt.Errorf("store: update accounts: %w", err)
		}
	}
	if n := len(w.Entries); n > 0 {
		seqs, tids, accts, b, dp, cp, at := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		hashes := make([][]byte, n)
		for i := range w.Entries {
			e := &w.Entries[i]
			seqs[i], tids[i], accts[i], b[i], dp[i], cp[i], at[i] = e.Seq, e.TransferID, e.Account, e.Balance, e.DebitsPending, e.CreditsPending, micro(e.Time)
			hashes[i] = e.Hash[:]
		}
		if _, err := tx.exec(ctx, `INSERT INTO journal (seq, transfer_id, account_id, balance, debits_pending, credits_pending, created_at, hash)
			SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bytea[])`,
			seqs, tids, accts, b, dp, cp, at, hashes); err != nil {
			return fmt.Errorf("store: append journal: %w", err)
		}
	}
	return nil
}

func expiresMicro(t *ledger.Transfer) int64 {
	if t.ExpiresAt == nil {
		return 0
	}
	return micro(*t.ExpiresAt)
}

func scanTransfers(rows *sql.Rows) ([]*ledger.Transfer, error) {
	defer rows.Close()
	var ts []*ledger.Transfer
	for rows.Next() {
		t := &ledger.Transfer{}
		var flags, expires, created int64
		var state string
		if err := rows.Scan(&t.ID, &t.Key, &t.Debit, &t.Credit, &t.Amount, &flags, &t.PendingID, &t.Code, &t.Memo,
			&state, &expires, &created); err != nil {
			return nil, fmt.Errorf("store: scan transfer: %w", err)
		}
		t.Flags, t.State, t.ExpiresAt, t.Time = ledger.Flags(flags), ledger.State(state), fromMicroPtr(expires), fromMicro(created)
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// chunks yields s in pieces of at most n, keeping statements under the
// databases' parameter limits.
func chunks[T any](s []T, n int) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}
