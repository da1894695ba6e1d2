package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// An account's history is the chain of links through the journal. The
// upgrade that brought the links fills them in for the transfers already
// written, and `onecard check` finds a link that was broken.
func TestAccountHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ids := openAccounts(t, db, 4)
		led := ledger.New(db, ledger.Options{})
		defer led.Close()
		// Plain transfers, a hold posted in part and one voided, in
		// batches of several so that one batch touches an account twice.
		want := map[int64][]string{}
		submit := func(ts ...ledger.Transfer) {
			t.Helper()
			out, err := led.Submit(ctx, ts)
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range out {
				if o.Result != ledger.OK {
					t.Fatalf("transfer %q: %v", ts[i].Key, o.Result)
				}
				d, c := o.Transfer.Debit, o.Transfer.Credit
				want[d] = append([]string{ts[i].Key}, want[d]...)
				want[c] = append([]string{ts[i].Key}, want[c]...)
			}
		}
		for n := range 30 {
			a, b := ids[n%4], ids[(n*7+1)%4]
			if a == b {
				b = ids[(n+1)%4]
			}
			submit(ledger.Transfer{Key: fmt.Sprintf("t%d", n), Debit: a, Credit: b, Amount: int64(n + 1), Code: "test"},
				ledger.Transfer{Key: fmt.Sprintf("u%d", n), Debit: b, Credit: ids[3-n%4], Amount: 1, Code: "test"})
		}
		submit(ledger.Transfer{Key: "hold", Debit: ids[0], Credit: ids[1], Amount: 500, Flags: ledger.Pending, Code: "test"},
			ledger.Transfer{Key: "hold2", Debit: ids[2], Credit: ids[0], Amount: 300, Flags: ledger.Pending, Code: "test"})
		submit(ledger.Transfer{Key: "post", PendingKey: "hold", Amount: 200, Flags: ledger.PostPending, Code: "test"},
			ledger.Transfer{Key: "void", PendingKey: "hold2", Flags: ledger.VoidPending, Code: "test"})

		history := func() map[int64][]string {
			t.Helper()
			got := map[int64][]string{}
			for _, id := range ids {
				// Pages of 7 until the start of the history.
				before := int64(0)
				for {
					ts, err := db.AccountTransfers(ctx, id, before, 7)
					if err != nil {
						t.Fatal(err)
					}
					for _, tr := range ts {
						got[id] = append(got[id], tr.Key)
					}
					if len(ts) < 7 {
						break
					}
					before = ts[len(ts)-1].ID
				}
			}
			return got
		}
		for _, id := range ids {
			if got := history()[id]; !slices.Equal(got, want[id]) {
				t.Fatalf("account %d's history:\n got %s\nwant %s", id, strings.Join(got, " "), strings.Join(want[id], " "))
			}
		}
		checkLedger(t, db)

		// A page before any transfer, the account's or another's, holds the
		// account's transfers before it, newest first.
		for _, id := range ids {
			all, err := db.AccountTransfers(ctx, id, 0, 500)
			if err != nil {
				t.Fatal(err)
			}
			for before := int64(1); before <= all[0].ID+1; before++ {
				var want []int64
				for _, tr := range all {
					if tr.ID < before && len(want) < 5 {
						want = append(want, tr.ID)
					}
				}
				page, err := db.AccountTransfers(ctx, id, before, 5)
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, tr := range page {
					got = append(got, tr.ID)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("account %d, page before %d: %v, want %v", id, before, got, want)
				}
			}
		}

		if err := db.RedoMigration(ctx, 11); err != nil {
			t.Fatalf("the upgrade to history links: %v", err)
		}
		for _, id := range ids {
			if got := history()[id]; !slices.Equal(got, want[id]) {
				t.Fatalf("account %d's history after the upgrade:\n got %s\nwant %s", id, strings.Join(got, " "), strings.Join(want[id], " "))
			}
		}
		checkLedger(t, db)

		if err := db.ExecRaw(ctx, `UPDATE accounts SET last_transfer = last_transfer - 1 WHERE id = ?`, ids[2]); err != nil {
			t.Fatal(err)
		}
		r := ledgerReport(t, db)
		if len(r.Violations) != 1 || !strings.Contains(r.Violations[0], fmt.Sprintf("account %d: its history starts at", ids[2])) {
			t.Errorf("check after breaking a link: %q", r.Violations)
		}
	})
}

// checkLedger runs ledger.Check over the whole store and fails on any
// violation.
func checkLedger(t *testing.T, db *store.DB) {
	t.Helper()
	if rep := ledgerReport(t, db); !rep.OK() {
		t.Errorf("ledger.Check: %d violations (+%d): %v", len(rep.Violations), rep.Truncated, rep.Violations)
	}
}

// ledgerReport runs ledger.Check over the whole store.
func ledgerReport(t *testing.T, db *store.DB) *ledger.Report {
	t.Helper()
	var rep *ledger.Report
	err := db.Audit(ctx, func(a ledger.Auditor) error {
		var err error
		rep, err = ledger.Check(ctx, a)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// openAccounts opens n ledger accounts with neither floor nor ceiling.
func openAccounts(t *testing.T, db *store.DB, n int) []int64 {
	t.Helper()
	specs := make([]store.AccountSpec, n)
	for i := range specs {
		specs[i] = store.AccountSpec{Kind: store.KindBench, Floor: ledger.NoFloor, Ceiling: ledger.NoCeiling}
	}
	return createAccounts(t, db, specs...)
}

// createAccounts opens one account per spec, in one transaction.
func createAccounts(t *testing.T, db *store.DB, specs ...store.AccountSpec) []int64 {
	t.Helper()
	var ids []int64
	err := db.Write(ctx, func(tx *store.Tx) error {
		for _, spec := range specs {
			id, err := tx.CreateAccount(ctx, spec)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
