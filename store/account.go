package store

import (
	"context"
	"fmt"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

// Account kinds. Cardholders have a purse and a transition account,
// merchants one account each, and every school a set of system accounts.
const (
	KindPurse          = "purse"
	KindTransition     = "transition"
	KindMerchant       = "merchant"
	KindCash           = "cash"            // cash taken at counters and machines
	KindFeeIncome      = "fee_income"      // replacement fees and channel fees
	KindRefundsPayable = "refunds_payable" // mistaken top-ups owed back (seed 004)
	KindOverShort      = "over_short"      // corrections of card-vs-account mismatches
	KindClearingAlipay = "clearing_alipay"
	KindClearingWechat = "clearing_wechat"
	KindClearingBank   = "clearing_bank"
	KindBench          = "bench" // accounts made by `onecard bench`
)

// SystemAccountKinds are opened for every new school. Clearing accounts
// have no floor: they go negative by what the channel owes the school.
var SystemAccountKinds = []string{
	KindCash, KindFeeIncome, KindRefundsPayable, KindOverShort,
	KindClearingAlipay, KindClearingWechat, KindClearingBank,
}

// AccountSpec describes a ledger account to open.
type AccountSpec struct {
	SchoolID int64
	Kind     string
	OwnerID  int64
	Floor    int64 // ledger.NoFloor for none
	Ceiling  int64 // ledger.NoCeiling for none
}

// CreateAccount opens a ledger account inside tx and returns its ID.
func (tx *Tx) CreateAccount(ctx context.Context, a AccountSpec) (int64, error) {
	id, err := tx.insertID(ctx, `INSERT INTO accounts (school_id, kind, owner_id, floor, ceiling, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, a.SchoolID, a.Kind, a.OwnerID, a.Floor, a.Ceiling, micro(tx.now))
	if err != nil {
		return 0, fmt.Errorf("store: create %s account: %w", a.Kind, err)
	}
	return id, nil
}

// systemAccount returns the ID of one of a school's system accounts.
func (tx *Tx) systemAccount(ctx context.Context, schoolID int64, kind string) (int64, error) {
	var id int64
	err := tx.queryRow(ctx, `SELECT id FROM accounts WHERE school_id = ? AND kind = ? AND owner_id = 0 ORDER BY id LIMIT 1`,
		schoolID, kind).Scan(&id)
	return id, notFound(err, "system account", "School %d has no %s account.", schoolID, kind)
}

// SystemAccount returns the ID of one of a school's system accounts.
func (db *DB) SystemAccount(ctx context.Context, schoolID int64, kind string) (int64, error) {
	var id int64
	err := db.queryRow(ctx, `SELECT id FROM accounts WHERE school_id = ? AND kind = ? AND owner_id = 0 ORDER BY id LIMIT 1`,
		schoolID, kind).Scan(&id)
	return id, notFound(err, "system account", "School %d has no %s account.", schoolID, kind)
}

// setAccountsFrozen freezes or unfreezes debits of accounts.
func (tx *Tx) setAccountsFrozen(ctx context.Context, frozen bool, ids ...int64) error {
	for _, id := range ids {
		if _, err := tx.exec(ctx, `UPDATE accounts SET frozen = ? WHERE id = ?`, frozen, id); err != nil {
			return fmt.Errorf("store: freeze account: %w", err)
		}
	}
	return nil
}

// Account implements ledger.Reader.
func (db *DB) Account(ctx context.Context, id int64) (*ledger.Account, error) {
	a := &ledger.Account{}
	err := db.queryRow(ctx, `SELECT id, floor, ceiling, balance, debits_pending, credits_pending, frozen, closed, last_transfer
		FROM accounts WHERE id = ?`, id).Scan(&a.ID, &a.Floor, &a.Ceiling, &a.Balance, &a.DebitsPending, &a.CreditsPending, &a.Frozen,
		&a.Closed, &a.Last)
	if err != nil {
		return nil, notFound(err, "account", "Account %d does not exist.", id)
	}
	return a, nil
}

// accountBalances returns the posted balances of accounts by ID.
func (db *DB) accountBalances(ctx context.Context, ids ...int64) (map[int64]int64, error) {
	rows, err := db.query(ctx, `SELECT id, balance FROM accounts WHERE id IN (`+placeholders(len(ids))+`)`, anys(ids)...)
	if err != nil {
		return nil, fmt.Errorf("store: balances: %w", err)
	}
	defer rows.Close()
	m := make(map[int64]int64, len(ids))
	for rows.Next() {
		var id, b int64
		if err := rows.Scan(&id, &b); err != nil {
			return nil, err
		}
		m[id] = b
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(m) != len(ids) {
		return nil, onecard.Errorf(onecard.ENOTFOUND, "Account not found.")
	}
	return m, nil
}

func anys[T any](v []T) []any {
	a := make([]any, len(v))
	for i := range v {
		a[i] = v[i]
	}
	return a
}
