package ledger_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// fixture holds accounts for ledger tests: bank has no floor and funds the
// others; purse has floor 0; capped has a ceiling of 100 fen.
type fixture struct {
	db                                         *store.DB
	led                                        *ledger.Ledger
	bank, purse, other, frozen, closed, capped int64
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db}
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		mk := func(floor, ceiling int64) int64 {
			if err != nil {
				return 0
			}
			var id int64
			id, err = tx.CreateAccount(ctx, store.AccountSpec{SchoolID: 1, Kind: store.KindBench, Floor: floor, Ceiling: ceiling})
			return id
		}
		f.bank = mk(ledger.NoFloor, ledger.NoCeiling)
		f.purse = mk(0, ledger.NoCeiling)
		f.other = mk(0, ledger.NoCeiling)
		f.frozen = mk(0, ledger.NoCeiling)
		f.closed = mk(0, ledger.NoCeiling)
		f.capped = mk(0, 100)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.exec(t, `UPDATE accounts SET frozen = ? WHERE id = ?`, true, f.frozen)
	f.exec(t, `UPDATE accounts SET closed = ? WHERE id = ?`, true, f.closed)
	f.led = ledger.New(db, ledger.Options{SweepEvery: time.Hour})
	t.Cleanup(func() { f.led.Close() })
	f.submit(t, ledger.Transfer{Key: "fund-purse", Debit: f.bank, Credit: f.purse, Amount: 10_00, Code: "test"})
	f.submit(t, ledger.Transfer{Key: "fund-frozen", Debit: f.bank, Credit: f.frozen, Amount: 10_00, Code: "test"})
	return f
}

// exec changes a row behind the ledger's back, as an operator's SQL would.
func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if err := f.db.ExecRaw(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) submit(t *testing.T, ts ...ledger.Transfer) []ledger.Outcome {
	t.Helper()
	out, err := f.led.Submit(context.Background(), ts)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return out
}

func (f *fixture) balance(t *testing.T, id int64) ledger.Account {
	t.Helper()
	a, err := f.db.Account(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return *a
}

func (f *fixture) check(t *testing.T) {
	t.Helper()
	var rep *ledger.Report
	err := f.db.Audit(context.Background(), func(a ledger.Auditor) error {
		var err error
		rep, err = ledger.Check(context.Background(), a)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("ledger check failed: %v", rep.Violations)
	}
}

func results(out []ledger.Outcome) []ledger.Result {
	r := make([]ledger.Result, len(out))
	for i := range out {
		r[i] = out[i].Result
	}
	return r
}

func equalResults(a, b []ledger.Result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTransferResults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tr := func(key string, dr, cr, amount int64) ledger.Transfer {
			return ledger.Transfer{Key: key, Debit: dr, Credit: cr, Amount: amount, Code: "test"}
		}
		long := strings.Repeat("k", ledger.MaxKeyLen+1)
		for _, c := range []struct {
			name  string
			t     ledger.Transfer
			want  ledger.Result
			purse int64 // purse balance afterwards
		}{
			{"ok", tr("a", f.purse, f.other, 3_00), ledger.OK, 7_00},
			{"retry moves nothing", tr("a", f.purse, f.other, 3_00), ledger.Exists, 7_00},
			{"key reused for another amount", tr("a", f.purse, f.other, 4_00), ledger.ExistsDifferent, 7_00},
			{"more than the balance", tr("b", f.purse, f.other, 7_01), ledger.InsufficientFunds, 7_00},
			{"exactly the balance", tr("c", f.purse, f.other, 7_00), ledger.OK, 0},
			{"zero", tr("d", f.bank, f.purse, 0), ledger.InvalidAmount, 0},
			{"negative", tr("e", f.bank, f.purse, -5), ledger.InvalidAmount, 0},
			{"same account", tr("f", f.purse, f.purse, 1), ledger.SameAccount, 0},
			{"unknown debit", tr("g", 999999, f.purse, 1), ledger.DebitNotFound, 0},
			{"unknown credit", tr("h", f.bank, 999999, 1), ledger.CreditNotFound, 0},
			{"frozen debit", tr("i", f.frozen, f.other, 1), ledger.DebitFrozen, 0},
			{"frozen credit still lands", tr("j", f.bank, f.frozen, 1), ledger.OK, 0},
			{"settling what already moved books from a frozen account", ledger.Transfer{Key: "js", Debit: f.frozen, Credit: f.other,
				Amount: 1, Flags: ledger.Settle, Code: "purchase"}, ledger.OK, 0},
			{"closed", tr("k", f.bank, f.closed, 1), ledger.AccountClosed, 0},
			{"over the ceiling", tr("l", f.bank, f.capped, 101), ledger.LimitExceeded, 0},
			{"up to the ceiling", tr("m", f.bank, f.capped, 100), ledger.OK, 0},
			{"overflow", tr("n", f.bank, f.other, 1<<62), ledger.OK, 0},
			{"overflow", tr("o", f.bank, f.other, 1<<62), ledger.Overflow, 0},
			{"empty key", tr("", f.bank, f.purse, 1), ledger.InvalidKey, 0},
			{"long key", tr(long, f.bank, f.purse, 1), ledger.InvalidKey, 0},
			{"key with a NUL", tr("a\x00b", f.bank, f.purse, 1), ledger.InvalidKey, 0},
			{"memo not UTF-8", ledger.Transfer{Key: "q", Debit: f.bank, Credit: f.purse, Amount: 1, Code: "t", Memo: "\xff"}, ledger.InvalidText, 0},
			{"reserved key", tr("~expire:1", f.bank, f.purse, 1), ledger.InvalidKey, 0},
			{"unknown flags", ledger.Transfer{Key: "p", Debit: f.bank, Credit: f.purse, Amount: 1, Flags: ledger.Pending | ledger.VoidPending}, ledger.InvalidFlags, 0},
		} {
			out := f.submit(t, c.t)
			if out[0].Result != c.want {
				t.Errorf("%s: result %v, want %v", c.name, out[0].Result, c.want)
			}
			if got := f.balance(t, f.purse).Balance; got != c.purse {
				t.Errorf("%s: purse balance %d, want %d", c.name, got, c.purse)
			}
		}
		f.check(t)
	})
}

func TestFailingTransferNeverFailsItsNeighbours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		out := f.submit(t,
			ledger.Transfer{Key: "1", Debit: f.purse, Credit: f.other, Amount: 4_00, Code: "test"},
			ledger.Transfer{Key: "2", Debit: f.purse, Credit: f.other, Amount: 7_00, Code: "test"}, // only 6.00 left
			ledger.Transfer{Key: "3", Debit: f.purse, Credit: f.other, Amount: 6_00, Code: "test"},
			ledger.Transfer{Key: "3", Debit: f.purse, Credit: f.other, Amount: 6_00, Code: "test"}, // duplicate within the batch
		)
		want := []ledger.Result{ledger.OK, ledger.InsufficientFunds, ledger.OK, ledger.Exists}
		if got := results(out); !equalResults(got, want) {
			t.Fatalf("results %v, want %v", got, want)
		}
		if out[2].Transfer.ID != out[3].Transfer.ID || out[0].Transfer.ID == 0 {
			t.Errorf("duplicate key returned transfer %d, first had %d", out[3].Transfer.ID, out[2].Transfer.ID)
		}
		if b := f.balance(t, f.purse).Balance; b != 0 {
			t.Errorf("purse %d, want 0", b)
		}
		f.check(t)
	})
}

func TestLinkedTransfersSucceedOrFailTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		L := ledger.Linked
		for _, c := range []struct {
			name  string
			ts    []ledger.Transfer
			want  []ledger.Result
			purse int64
		}{
			{"second fails: first undone", []ledger.Transfer{
				{Key: "a1", Debit: f.purse, Credit: f.other, Amount: 5_00, Flags: L, Code: "t"},
				{Key: "a2", Debit: f.purse, Credit: f.other, Amount: 6_00, Code: "t"},
				{Key: "a3", Debit: f.purse, Credit: f.other, Amount: 1_00, Code: "t"},
			}, []ledger.Result{ledger.LinkedFailed, ledger.InsufficientFunds, ledger.OK}, 9_00},
			{"first fails: rest not tried", []ledger.Transfer{
				{Key: "b1", Debit: f.frozen, Credit: f.other, Amount: 1, Flags: L, Code: "t"},
				{Key: "b2", Debit: f.purse, Credit: f.other, Amount: 1_00, Flags: L, Code: "t"},
				{Key: "b3", Debit: f.purse, Credit: f.other, Amount: 1_00, Code: "t"},
			}, []ledger.Result{ledger.DebitFrozen, ledger.LinkedFailed, ledger.LinkedFailed}, 9_00},
			{"all succeed", []ledger.Transfer{
				{Key: "c1", Debit: f.purse, Credit: f.other, Amount: 4_00, Flags: L, Code: "t"},
				{Key: "c2", Debit: f.purse, Credit: f.other, Amount: 5_00, Code: "t"},
			}, []ledger.Result{ledger.OK, ledger.OK}, 0},
			{"open chain", []ledger.Transfer{
				{Key: "d1", Debit: f.bank, Credit: f.purse, Amount: 1_00, Code: "t"},
				{Key: "d2", Debit: f.bank, Credit: f.purse, Amount: 2_00, Flags: L, Code: "t"},
			}, []ledger.Result{ledger.OK, ledger.LinkedOpen}, 1_00},
		} {
			out := f.submit(t, c.ts...)
			if got := results(out); !equalResults(got, c.want) {
				t.Errorf("%s: results %v, want %v", c.name, got, c.want)
			}
			if b := f.balance(t, f.purse).Balance; b != c.purse {
				t.Errorf("%s: purse %d, want %d", c.name, b, c.purse)
			}
		}
		// A key freed by a failed chain can be used again.
		if out := f.submit(t, ledger.Transfer{Key: "a1", Debit: f.purse, Credit: f.other, Amount: 1_00, Code: "t"}); out[0].Result != ledger.OK {
			t.Errorf("reuse of a failed chain's key: %v", out[0].Result)
		}
		f.check(t)
	})
}
