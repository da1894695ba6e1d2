package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/onecard-campus/onecard/ledger"
)

// This file implements ledger.Tx: the ledger's hot path. SQLite runs
// prepared statements row by row (each costs microseconds in-process);
// PostgreSQL sends each kind of write as one statement over unnest()ed
// arrays, pipelined, so a batch of any size costs one round trip when the
// committer remembers its accounts (ledger_cache.go) and two otherwise (the
// reads, then the writes with COMMIT), plus one when arrears are to settle.

const (
	transferColumns = `id, key, debit, credit, amount, flags, pending_id, released, code, memo, state, expires_at, created_at`
	// expiredHolds selects, from the journal and holds, the transfers
	// columns of holds whose timeout has passed (?1 now, ?2 limit).
	expiredHolds = `SELECT j.id, j.key, j.debit, j.credit, j.amount, j.flags, j.pending_id, j.released, j.code, j.memo,
		h.state, h.expires_at, j.created_at FROM holds h JOIN journal j ON j.id = h.transfer_id
		WHERE h.state = 'pending' AND h.expires_at > 0 AND h.expires_at <= ? ORDER BY h.expires_at, h.transfer_id LIMIT ?`
	journalColumns = `id, key, debit, credit, amount, flags, pending_id, released, code, memo, created_at, hash, debit_prev, credit_prev`
	accountColumns = `id, floor, ceiling, balance, debits_pending, credits_pending, frozen, closed, last_transfer, kind, owner_id`

	// The ledger batch's own statements; on SQLite prepared once (sqliteHot).
	headSelect    = `SELECT transfer_id, hash, epoch FROM ledger_head WHERE id = 1`
	headMove      = `UPDATE ledger_head SET transfer_id = ?, hash = ? WHERE id = 1`
	journalInsert = `INSERT INTO journal (` + journalColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	accountsMove  = `UPDATE accounts SET balance = balance + ?, debits_pending = debits_pending + ?,
		credits_pending = credits_pending + ?, last_transfer = ? WHERE id = ?`
)

// LockHead locks the ledger head row until the transaction ends and
// returns it. Domain operations that change accounts or card freezes call
// it first, so that every writer takes its locks in one order: ledger head,
// then rows.
func (tx *Tx) LockHead(ctx context.Context) (ledger.Head, error) {
	m, err := tx.readHead(ctx, true)
	return m.head, err
}

// Load implements ledger.Tx. The committer's batches are answered from its
// memory when they can be (ledger_cache.go). Otherwise, on PostgreSQL the
// head lock and all reads go in one pipelined round trip (two when expired
// holds are swept).
func (tx *Tx) Load(ctx context.Context, q ledger.Query) (*ledger.Snapshot, error) {
	tx.accountOwner = make(map[int64]accountOwner)
	if snap, err := tx.recall(ctx, q); snap != nil || err != nil {
		return snap, err
	}
	var snap *ledger.Snapshot
	var mark headMark
	var err error
	if tx.db.dialect == Postgres {
		snap, mark, err = tx.loadPipelined(ctx, q)
	} else {
		snap, mark, err = tx.loadRows(ctx, q)
	}
	if err != nil {
		return nil, err
	}
	if b := tx.batch; b != nil {
		b.from, b.accounts = mark, snap.Accounts
	}
	return snap, nil
}

func (tx *Tx) loadRows(ctx context.Context, q ledger.Query) (*ledger.Snapshot, headMark, error) {
	snap := &ledger.Snapshot{}
	mark, err := tx.readHead(ctx, true)
	if err != nil {
		return nil, mark, err
	}
	snap.Head = mark.head
	if snap.Transfers, err = tx.TransfersByKey(ctx, slices.Concat(q.Keys, q.HoldKeys)); err != nil {
		return nil, mark, err
	}
	if q.Sweep > 0 {
		if snap.Expired, err = tx.ExpiredPending(ctx, tx.now, q.Sweep); err != nil {
			return nil, mark, err
		}
	}
	ids := q.Accounts
	for _, t := range snap.Transfers {
		ids = append(ids, t.Debit, t.Credit)
	}
	for _, t := range snap.Expired {
		ids = append(ids, t.Debit, t.Credit)
	}
	snap.Accounts, err = tx.Accounts(ctx, ids)
	return snap, mark, err
}

func (tx *Tx) loadPipelined(ctx context.Context, q ledger.Query) (*ledger.Snapshot, headMark, error) {
	snap := &ledger.Snapshot{Transfers: map[string]*ledger.Transfer{}, Accounts: map[int64]*ledger.Account{}}
	var mark headMark
	keys := slices.Concat([]string{}, q.Keys, q.HoldKeys) // never nil: pgx sends nil as NULL
	ids := q.Accounts
	if ids == nil {
		ids = []int64{}
	}
	err := tx.pgx(ctx, func(c *pgx.Conn) error {
		b := &pgx.Batch{}
		if !tx.begun {
			b.Queue("BEGIN")
		}
		b.Queue(headSelect + " FOR UPDATE")
		b.Queue(`SELECT `+transferColumns+` FROM transfers WHERE key = ANY($1)`, keys)
		// One array, not ORed subqueries: the planner turns an OR into a
		// sequential scan of every account.
		b.Queue(`SELECT `+accountColumns+` FROM accounts WHERE id = ANY($1::bigint[]
			|| ARRAY(SELECT debit FROM transfers WHERE key = ANY($2)) || ARRAY(SELECT credit FROM transfers WHERE key = ANY($2)))`, ids, keys)
		if q.Sweep > 0 {
			b.Queue(tx.db.rebind(expiredHolds), micro(tx.now), q.Sweep)
			b.Queue(`SELECT `+accountColumns+` FROM accounts WHERE id = ANY(ARRAY(
				SELECT unnest(ARRAY[debit, credit]) FROM (`+tx.db.rebind(expiredHolds)+`) e))`, micro(tx.now), q.Sweep)
		}
		br := c.SendBatch(ctx, b)
		defer br.Close()
		if !tx.begun {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("begin: %w", err)
			}
			tx.begun = true
		}
		var hash []byte
		if err := br.QueryRow().Scan(&mark.head.TransferID, &hash, &mark.epoch); err != nil {
			return fmt.Errorf("lock ledger head: %w", err)
		}
		copy(mark.head.Hash[:], hash)
		snap.Head = mark.head
		if err := tx.scanPgxTransfers(br, func(t *ledger.Transfer) { snap.Transfers[t.Key] = t }); err != nil {
			return err
		}
		if err := tx.scanPgxAccounts(br, snap.Accounts); err != nil {
			return err
		}
		if q.Sweep > 0 {
			if err := tx.scanPgxTransfers(br, func(t *ledger.Transfer) { snap.Expired = append(snap.Expired, t) }); err != nil {
				return err
			}
			if err := tx.scanPgxAccounts(br, snap.Accounts); err != nil {
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		return nil, mark, fmt.Errorf("store: load ledger batch: %w", err)
	}
	return snap, mark, nil
}

// pgx runs fn on the transaction's PostgreSQL connection itself, for
// pipelined batches database/sql cannot express.
func (tx *Tx) pgx(ctx context.Context, fn func(*pgx.Conn) error) error {
	return tx.conn.Raw(func(dc any) error {
		return fn(dc.(*stdlib.Conn).Conn())
	})
}

func (tx *Tx) scanPgxTransfers(br pgx.BatchResults, fn func(*ledger.Transfer)) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanTransfer(rows)
		if err != nil {
			return err
		}
		fn(t)
	}
	return rows.Err()
}

func (tx *Tx) scanPgxAccounts(br pgx.BatchResults, m map[int64]*ledger.Account) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		a := &ledger.Account{}
		var o accountOwner
		if err := rows.Scan(&a.ID, &a.Floor, &a.Ceiling, &a.Balance, &a.DebitsPending, &a.CreditsPending, &a.Frozen, &a.Closed,
			&a.Last, &o.kind, &o.ownerID); err != nil {
			return fmt.Errorf("scan account: %w", err)
		}
		o.frozen = a.Frozen
		m[a.ID] = a
		tx.accountOwner[a.ID] = o
	}
	return rows.Err()
}

// Accounts loads accounts by ID; unknown IDs are absent from the map.
func (tx *Tx) Accounts(ctx context.Context, ids []int64) (map[int64]*ledger.Account, error) {
	m := make(map[int64]*ledger.Account, len(ids))
	for chunk := range chunks(ids, 4000) {
		var rows *sql.Rows
		var err error
		const cols = `SELECT ` + accountColumns + ` FROM accounts`
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
			if err := rows.Scan(&a.ID, &a.Floor, &a.Ceiling, &a.Balance, &a.DebitsPending, &a.CreditsPending, &a.Frozen, &a.Closed, &a.Last, &o.kind, &o.ownerID); err != nil {
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

// TransfersByKey loads stored transfers by key; unknown keys are absent.
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

// ExpiredPending returns up to limit holds whose timeout has passed by now.
func (tx *Tx) ExpiredPending(ctx context.Context, now time.Time, limit int) ([]*ledger.Transfer, error) {
	rows, err := tx.query(ctx, expiredHolds, micro(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: expired holds: %w", err)
	}
	return scanTransfers(rows)
}

// Write implements ledger.Tx.
func (tx *Tx) Write(ctx context.Context, w *ledger.Writes) error {
	if b := tx.batch; b != nil {
		b.wrote, b.to = true, w.Head
	}
	arrears := tx.arrearsCandidates(w.Deltas)
	if tx.db.dialect == Postgres {
		// The committer's batch commits in the same round trip when
		// nothing is left to do after the writes.
		if err := tx.writeBulk(ctx, w, tx.batch != nil && len(arrears) == 0); err != nil {
			return err
		}
	} else {
		if err := tx.writeRows(ctx, w); err != nil {
			return err
		}
		if _, err := tx.sqliteStmt(ctx, headMove).ExecContext(ctx, w.Head.TransferID, w.Head.Hash[:]); err != nil {
			return fmt.Errorf("store: move ledger head: %w", err)
		}
	}
	return tx.settleArrears(ctx, arrears)
}

func (tx *Tx) writeRows(ctx context.Context, w *ledger.Writes) error {
	if len(w.Transfers) > 0 {
		st := tx.sqliteStmt(ctx, journalInsert)
		for _, t := range w.Transfers {
			if _, err := st.ExecContext(ctx, t.ID, t.Key, t.Debit, t.Credit, t.Amount, int64(t.Flags), t.PendingID, t.Released,
				t.Code, t.Memo, micro(t.Time), t.Hash[:], t.DebitPrev, t.CreditPrev); err != nil {
				return fmt.Errorf("store: append transfer %q to journal: %w", t.Key, err)
			}
		}
	}
	for _, h := range w.Holds {
		if _, err := tx.exec(ctx, `INSERT INTO holds (transfer_id, state, expires_at) VALUES (?, ?, ?)`, h.ID, string(h.State), h.ExpiresAt); err != nil {
			return fmt.Errorf("store: record hold: %w", err)
		}
	}
	for _, h := range w.Resolved {
		if _, err := tx.exec(ctx, `UPDATE holds SET state = ? WHERE transfer_id = ? AND state = 'pending'`, string(h.State), h.ID); err != nil {
			return fmt.Errorf("store: resolve hold: %w", err)
		}
	}
	if len(w.Deltas) > 0 {
		st := tx.sqliteStmt(ctx, accountsMove)
		for _, d := range w.Deltas {
			if _, err := st.ExecContext(ctx, d.Balance, d.DebitsPending, d.CreditsPending, d.Last, d.Account); err != nil {
				return fmt.Errorf("store: update account %d: %w", d.Account, err)
			}
		}
	}
	return nil
}

// writeBulk sends every write of the batch, and the head's move, in one
// pipelined round trip of one statement per table. The updates name their
// rows twice, joined to the unnest()ed values and as "= ANY" of the IDs:
// without the second the planner cannot estimate the join and scans the
// whole table into a hash (measured: 4 ms of every batch over 10,000
// accounts, growing with the school), with it the rows come from the
// primary key.
//
// A batch decided on the committer's memory moves the head first, through
// ledger_advance(), which fails unless the head and epoch are still those
// it decided on; with commit set, COMMIT rides in the same round trip.
func (tx *Tx) writeBulk(ctx context.Context, w *ledger.Writes, commit bool) error {
	b := &pgx.Batch{}
	recalled := tx.batch != nil && tx.batch.recalled
	if recalled || commit {
		if !tx.begun {
			b.Queue("BEGIN")
			tx.begun = true // from here a failure leaves a transaction to roll back
		}
	}
	// The batch's statements are the same every time but for the length
	// of their arrays, and none reads a table whose size could change its
	// best plan: each finds its rows by primary key. Generic plans spare
	// the planning of every batch (7.6% of the server process's CPU under
	// the head lock in a profile, docs/BENCHMARKS.md); the store's other
	// statements keep planning each time (postgres.go).
	b.Queue("SET LOCAL plan_cache_mode = force_generic_plan")
	if recalled {
		from := tx.batch.from
		b.Queue(`SELECT ledger_advance($1, $2, $3, $4, $5)`, from.head.TransferID, from.head.Hash[:], from.epoch,
			w.Head.TransferID, w.Head.Hash[:])
	}
	if n := len(w.Transfers); n > 0 {
		ids, keys, debits, credits, amounts := make([]int64, n), make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n)
		flags, pendings, released, codes, memos := make([]int64, n), make([]int64, n), make([]int64, n), make([]string, n), make([]string, n)
		created, hashes, dprev, cprev := make([]int64, n), make([][]byte, n), make([]int64, n), make([]int64, n)
		for i, t := range w.Transfers {
			ids[i], keys[i], debits[i], credits[i], amounts[i] = t.ID, t.Key, t.Debit, t.Credit, t.Amount
			flags[i], pendings[i], released[i], codes[i], memos[i] = int64(t.Flags), t.PendingID, t.Released, t.Code, t.Memo
			created[i], hashes[i], dprev[i], cprev[i] = micro(t.Time), t.Hash[:], t.DebitPrev, t.CreditPrev
		}
		b.Queue(`INSERT INTO journal (`+journalColumns+`)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
				$8::bigint[], $9::text[], $10::text[], $11::bigint[], $12::bytea[], $13::bigint[], $14::bigint[])`,
			ids, keys, debits, credits, amounts, flags, pendings, released, codes, memos, created, hashes, dprev, cprev)
	}
	if len(w.Holds) > 0 {
		ids, states, expires := holdColumns(w.Holds)
		b.Queue(`INSERT INTO holds (transfer_id, state, expires_at) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])`,
			ids, states, expires)
	}
	if len(w.Resolved) > 0 {
		ids, states, _ := holdColumns(w.Resolved)
		b.Queue(`UPDATE holds h SET state = u.state FROM unnest($1::bigint[], $2::text[]) AS u(id, state)
			WHERE h.transfer_id = u.id AND h.transfer_id = ANY($1) AND h.state = 'pending'`, ids, states)
	}
	if n := len(w.Deltas); n > 0 {
		ids, bal, dp, cp, last := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		for i, d := range w.Deltas {
			ids[i], bal[i], dp[i], cp[i], last[i] = d.Account, d.Balance, d.DebitsPending, d.CreditsPending, d.Last
		}
		b.Queue(`UPDATE accounts a SET balance = a.balance + u.b, debits_pending = a.debits_pending + u.dp,
			credits_pending = a.credits_pending + u.cp, last_transfer = u.last
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u(id, b, dp, cp, last)
			WHERE a.id = u.id AND a.id = ANY($1)`,
			ids, bal, dp, cp, last)
	}
	if !recalled {
		b.Queue(`UPDATE ledger_head SET transfer_id = $1, hash = $2 WHERE id = 1`, w.Head.TransferID, w.Head.Hash[:])
	}
	if commit {
		b.Queue("COMMIT")
	} else {
		b.Queue("SET LOCAL plan_cache_mode TO DEFAULT") // the connection's setting, for what the transaction does next
	}
	err := tx.pgx(ctx, func(c *pgx.Conn) error {
		return c.SendBatch(ctx, b).Close() // Close returns the first statement's error
	})
	if err != nil {
		return fmt.Errorf("store: write ledger batch: %w", err)
	}
	if commit {
		tx.batch.committed = true
	}
	return nil
}

func holdColumns(hs []ledger.Hold) (ids []int64, states []string, expires []int64) {
	ids, states, expires = make([]int64, len(hs)), make([]string, len(hs)), make([]int64, len(hs))
	for i, h := range hs {
		ids[i], states[i], expires[i] = h.ID, string(h.State), h.ExpiresAt
	}
	return ids, states, expires
}

// scanTransfer reads one row of transferColumns from database/sql or pgx.
func scanTransfer(row interface{ Scan(...any) error }) (*ledger.Transfer, error) {
	t := &ledger.Transfer{}
	var flags, expires, created int64
	var state string
	if err := row.Scan(&t.ID, &t.Key, &t.Debit, &t.Credit, &t.Amount, &flags, &t.PendingID, &t.Released, &t.Code, &t.Memo,
		&state, &expires, &created); err != nil {
		return nil, fmt.Errorf("store: scan transfer: %w", err)
	}
	t.Flags, t.State, t.ExpiresAt, t.Time = ledger.Flags(flags), ledger.State(state), fromMicroPtr(expires), fromMicro(created)
	return t, nil
}

func scanTransfers(rows *sql.Rows) ([]*ledger.Transfer, error) {
	defer rows.Close()
	var ts []*ledger.Transfer
	for rows.Next() {
		t, err := scanTransfer(rows)
		if err != nil {
			return nil, err
		}
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

// accountOwner remembers, for the accounts a batch loaded, what they belong
// to, so that Write can settle arrears of cardholders without a query.
type accountOwner struct {
	kind    string
	ownerID int64
	frozen  bool
}
