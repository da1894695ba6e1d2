package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/onecard-campus/onecard/ledger"
)

// The ledger's committer (DB.Update) remembers the accounts its batches
// loaded and wrote, with the journal head and epoch they ended at, so that
// the next batch decides without reading them again: on PostgreSQL a batch
// is then one round trip (its writes and COMMIT pipelined behind a check of
// the head), on SQLite it skips the account and key queries that were 29% of
// the committer's CPU in a profile (docs/BENCHMARKS.md).
//
// What it remembers is the database's state exactly while the head has not
// moved (every transfer moves it, whoever writes it) and the epoch has not
// changed (a trigger counts every other change to an account: a freeze, a
// close, a new floor or ceiling, a deletion). A batch decided on it is
// written only if the head and epoch are still those it decided on, checked
// under the head's lock in the same transaction: on SQLite before deciding,
// on PostgreSQL by ledger_advance() as the write's first statement. Keys are
// reported absent, and the journal's unique key refuses a retry's insert.
// Any failure of such a batch forgets everything and decides the batch again
// from the database before a caller hears of it, so a stale memory can cost
// a retry but never move money wrongly.

// maxCachedAccounts bounds the memory: about 100 bytes an account, so some
// 100 MB at the bound; a school has two accounts a cardholder.
const maxCachedAccounts = 1 << 20

// headMark is a state of the ledger: its head and its epoch.
type headMark struct {
	head  ledger.Head
	epoch int64
}

type ledgerCache struct {
	mu       sync.Mutex
	valid    bool
	mark     headMark
	accounts map[int64]cachedAccount
}

type cachedAccount struct {
	a ledger.Account
	o accountOwner
}

// ledgerBatch is the state of one committer transaction (Tx.batch).
type ledgerBatch struct {
	mayRecall bool                      // Load may answer from the cache
	recalled  bool                      // it did: Write must check from
	from      headMark                  // the state the batch decided on
	to        ledger.Head               // the head after Write
	accounts  map[int64]*ledger.Account // the snapshot's accounts, changed in place by the engine
	wrote     bool                      // Write ran
	committed bool                      // Write's pipeline committed (PostgreSQL)
	settled   bool                      // settleArrears froze or unfroze cards (and so accounts)
}

// errHeadMoved is the failure of a batch decided on a state the ledger has
// left.
var errHeadMoved = errors.New("store: the ledger head moved since the batch's accounts were remembered")

// Update implements ledger.DB: fn runs in a durable write transaction.
// It first lets Load answer from the committer's memory; if that attempt
// fails for any reason, the memory is dropped and fn runs again on what
// the database holds.
func (db *DB) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	recalled, err := db.update(ctx, true, fn)
	if err != nil && recalled && ctx.Err() == nil {
		_, err = db.update(ctx, false, fn)
	}
	return err
}

func (db *DB) update(ctx context.Context, mayRecall bool, fn func(ledger.Tx) error) (bool, error) {
	b := &ledgerBatch{mayRecall: mayRecall}
	err := db.Write(ctx, func(tx *Tx) error {
		tx.batch = b
		if err := fn(tx); err != nil {
			return err
		}
		if b.recalled && !b.wrote && db.dialect == Postgres {
			// Refusals decided on memory stand only if it was the
			// database's; the lock waits for a writer still committing.
			m, err := tx.readHead(ctx, true)
			if err != nil {
				return err
			}
			if m != b.from {
				return errHeadMoved
			}
		}
		if !b.wrote {
			b.to = b.from.head
		}
		tx.AfterCommit(func() { db.cache.remember(b, tx.accountOwner) })
		return nil
	})
	if err != nil {
		db.cache.forget()
	}
	return b.recalled, err
}

// readHead reads the ledger's head and epoch, locking the row when lock is
// set (PostgreSQL; SQLite's one writer holds the lock already).
func (tx *Tx) readHead(ctx context.Context, lock bool) (headMark, error) {
	var m headMark
	var hash []byte
	var row *sql.Row
	if tx.db.dialect == SQLite {
		row = tx.sqliteStmt(ctx, headSelect).QueryRowContext(ctx)
	} else if lock {
		row = tx.queryRow(ctx, headSelect+" FOR UPDATE")
	} else {
		row = tx.queryRow(ctx, headSelect)
	}
	if err := row.Scan(&m.head.TransferID, &hash, &m.epoch); err != nil {
		return m, fmt.Errorf("store: read ledger head: %w", err)
	}
	copy(m.head.Hash[:], hash)
	return m, nil
}

// recall answers a batch's Load from memory, or returns nil when it may
// not: outside the committer, on its second attempt, when the batch sweeps
// expired holds or resolves holds (they must be read), when nothing is
// remembered, or (SQLite) when the head under the writer's lock is no
// longer the remembered one.
func (tx *Tx) recall(ctx context.Context, q ledger.Query) (*ledger.Snapshot, error) {
	b := tx.batch
	if b == nil || !b.mayRecall || q.Sweep > 0 || len(q.HoldKeys) > 0 {
		return nil, nil
	}
	c := &tx.db.cache
	c.mu.Lock()
	if !c.valid {
		c.mu.Unlock()
		return nil, nil
	}
	from := c.mark
	snap := &ledger.Snapshot{Head: from.head, Transfers: map[string]*ledger.Transfer{},
		Accounts: make(map[int64]*ledger.Account, len(q.Accounts))}
	var missing []int64
	for _, id := range q.Accounts {
		e, ok := c.accounts[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		a := e.a
		snap.Accounts[id] = &a
		e.o.frozen = a.Frozen
		tx.accountOwner[id] = e.o
	}
	c.mu.Unlock()
	if tx.db.dialect == SQLite {
		m, err := tx.readHead(ctx, false)
		if err != nil {
			return nil, err
		}
		if m != from {
			tx.db.cache.forget()
			clear(tx.accountOwner)
			return nil, nil
		}
	}
	if len(missing) > 0 {
		// Read without the head's lock: an account changed since the
		// remembered head moved the head or the epoch, which Write checks.
		more, err := tx.Accounts(ctx, missing)
		if err != nil {
			return nil, err
		}
		for id, a := range more {
			snap.Accounts[id] = a
		}
	}
	b.recalled, b.from, b.accounts = true, from, snap.Accounts
	return snap, nil
}

// remember makes a committed batch's end state the memory: merged into
// what is remembered if the batch started where the memory ends, in its
// place otherwise (the accounts remembered from before may have changed).
func (c *ledgerCache) remember(b *ledgerBatch, owners map[int64]accountOwner) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b.settled || b.accounts == nil {
		c.valid, c.accounts = false, nil
		return
	}
	if !c.valid || c.mark != b.from || len(c.accounts)+len(b.accounts) > maxCachedAccounts {
		c.accounts = make(map[int64]cachedAccount, len(b.accounts))
	}
	for id, a := range b.accounts {
		c.accounts[id] = cachedAccount{a: *a, o: owners[id]}
	}
	c.mark = headMark{head: b.to, epoch: b.from.epoch}
	c.valid = true
}

func (c *ledgerCache) forget() {
	c.mu.Lock()
	c.valid, c.accounts = false, nil
	c.mu.Unlock()
}
