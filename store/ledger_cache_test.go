package store_test

import (
	"fmt"
	"testing"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// The committer decides batches on the accounts it remembers from its own
// commits. Every way an account can change behind its back must reach its
// next decision: a freeze or a new floor written by anything, a transfer by
// another process sharing the database, a transfer by a domain operation,
// and a retry of a key it has never seen. Each row fails if the memory
// outlives the change.
func TestCommitterSeesChangesMadeElsewhere(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			dsn := storetest.DSN(t, dialect)
			db := storetest.OpenAt(t, dsn, store.Options{})
			other := storetest.OpenAt(t, dsn, store.Options{}) // a second server process on the same database
			ids := createAccounts(t, db,
				store.AccountSpec{Kind: "bank", Floor: ledger.NoFloor, Ceiling: ledger.NoCeiling},
				store.AccountSpec{Kind: store.KindPurse, Floor: 0, Ceiling: ledger.NoCeiling},
				store.AccountSpec{Kind: store.KindMerchant, Floor: 0, Ceiling: ledger.NoCeiling})
			bank, purse, shop := ids[0], ids[1], ids[2]
			led := ledger.New(db, ledger.Options{SweepEvery: 1 << 62})
			defer led.Close()
			led2 := ledger.New(other, ledger.Options{SweepEvery: 1 << 62})
			defer led2.Close()

			n := 0
			submit := func(l *ledger.Ledger, key string, debit, credit, amount int64) ledger.Result {
				t.Helper()
				if key == "" {
					n++
					key = fmt.Sprintf("k%d", n)
				}
				out, err := l.Submit(ctx, []ledger.Transfer{{Key: key, Debit: debit, Credit: credit, Amount: amount, Code: "test"}})
				if err != nil {
					t.Fatal(err)
				}
				return out[0].Result
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if err := db.ExecRaw(ctx, q, args...); err != nil {
					t.Fatal(err)
				}
			}
			// The committer has the purse in memory with 100.00 after this.
			if r := submit(led, "fund", bank, purse, 100_00); r != ledger.OK {
				t.Fatalf("fund: %v", r)
			}
			if r := submit(led, "", purse, shop, 1_00); r != ledger.OK {
				t.Fatalf("first payment: %v", r)
			}

			for _, tc := range []struct {
				name   string
				change func()
				debit  int64 // what the next payment tries to take from the purse
				want   ledger.Result
				undo   func()
			}{
				{"a freeze written outside the ledger", func() { exec(`UPDATE accounts SET frozen = ? WHERE id = ?`, true, purse) },
					1_00, ledger.DebitFrozen, func() { exec(`UPDATE accounts SET frozen = ? WHERE id = ?`, false, purse) }},
				{"a floor lowered outside the ledger", func() { exec(`UPDATE accounts SET floor = ? WHERE id = ?`, -50_00, purse) },
					120_00, ledger.OK, func() {}},
				{"a floor raised outside the ledger", func() {
					submit(led, "", bank, purse, 30_00) // 9.00 left
					exec(`UPDATE accounts SET floor = ? WHERE id = ?`, 0, purse)
				}, 10_00, ledger.InsufficientFunds, func() { submit(led, "", bank, purse, 50_00) }},
				{"a payment committed by another process", func() {
					if r := submit(led2, "", purse, shop, 29_00); r != ledger.OK { // 30.00 left
						t.Fatalf("the other process's payment: %v", r)
					}
				}, 31_00, ledger.InsufficientFunds, func() {}},
				{"a payment committed by a domain operation", func() {
					err := db.Write(ctx, func(tx *store.Tx) error { // 20.00 left
						out, err := ledger.Apply(ctx, tx, []ledger.Transfer{{Key: "domain", Debit: purse, Credit: shop, Amount: 10_00, Code: "test"}})
						if err == nil && out[0].Result != ledger.OK {
							t.Fatalf("domain payment: %v", out[0].Result)
						}
						return err
					})
					if err != nil {
						t.Fatal(err)
					}
				}, 21_00, ledger.InsufficientFunds, func() {}},
				{"a top-up committed by another process", func() {
					if r := submit(led2, "", bank, purse, 100_00); r != ledger.OK { // 120.00
						t.Fatalf("the other process's top-up: %v", r)
					}
				}, 110_00, ledger.OK, func() {}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					tc.change()
					if r := submit(led, "", purse, shop, tc.debit); r != tc.want {
						t.Errorf("payment of %d fen after %s: %v, want %v", tc.debit, tc.name, r, tc.want)
					}
					tc.undo()
				})
			}

			// A key committed by the other process is a retry here.
			if r := submit(led2, "elsewhere", bank, purse, 5_00); r != ledger.OK {
				t.Fatalf("the other process's top-up: %v", r)
			}
			if r := submit(led, "elsewhere", bank, purse, 5_00); r != ledger.Exists {
				t.Errorf("a retry of a key the other process committed: %v, want %v", r, ledger.Exists)
			}
			if r := submit(led, "fund", bank, purse, 100_00); r != ledger.Exists {
				t.Errorf("a retry of a key this committer committed: %v, want %v", r, ledger.Exists)
			}
			checkLedger(t, db)
		})
	}
}
