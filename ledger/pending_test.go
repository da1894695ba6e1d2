package ledger_test

import (
	"testing"
	"time"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

func TestHoldsPostVoidAndExpire(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, store.Options{Now: clock.Now}, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		hold := func(key string, amount int64, timeout time.Duration) ledger.Transfer {
			return ledger.Transfer{Key: key, Debit: f.purse, Credit: f.other, Amount: amount, Flags: ledger.Pending, Timeout: timeout, Code: "bath"}
		}
		post := func(key, pending string, amount int64) ledger.Transfer {
			return ledger.Transfer{Key: key, PendingKey: pending, Amount: amount, Flags: ledger.PostPending}
		}
		void := func(key, pending string) ledger.Transfer {
			return ledger.Transfer{Key: key, PendingKey: pending, Flags: ledger.VoidPending}
		}
		type want struct {
			result            ledger.Result
			balance, held     int64 // purse afterwards
			otherBalance      int64
			otherCreditsInbox int64
		}
		for _, c := range []struct {
			name string
			t    ledger.Transfer
			want want
		}{
			{"hold 6.00 of 10.00", hold("h1", 6_00, 0), want{ledger.OK, 10_00, 6_00, 0, 6_00}},
			{"held money cannot be spent", ledger.Transfer{Key: "x", Debit: f.purse, Credit: f.other, Amount: 4_01, Code: "t"},
				want{ledger.InsufficientFunds, 10_00, 6_00, 0, 6_00}},
			{"post less than held: the rest is released", post("p1", "h1", 4_50), want{ledger.OK, 5_50, 0, 4_50, 0}},
			{"post twice", post("p1b", "h1", 1_00), want{ledger.PendingNotPending, 5_50, 0, 4_50, 0}},
			{"void a posted hold", void("v1", "h1"), want{ledger.PendingNotPending, 5_50, 0, 4_50, 0}},
			{"hold 3.00", hold("h2", 3_00, 0), want{ledger.OK, 5_50, 3_00, 4_50, 3_00}},
			{"post more than held", post("p2", "h2", 3_01), want{ledger.PostExceedsPending, 5_50, 3_00, 4_50, 3_00}},
			{"post to other accounts", ledger.Transfer{Key: "p3", PendingKey: "h2", Debit: f.bank, Flags: ledger.PostPending},
				want{ledger.PendingMismatch, 5_50, 3_00, 4_50, 3_00}},
			{"void", void("v2", "h2"), want{ledger.OK, 5_50, 0, 4_50, 0}},
			{"void retried", void("v2", "h2"), want{ledger.Exists, 5_50, 0, 4_50, 0}},
			{"post of an unknown hold", post("p4", "nope", 0), want{ledger.PendingNotFound, 5_50, 0, 4_50, 0}},
			{"post of a plain transfer", post("p5", "fund-purse", 0), want{ledger.PendingNotFound, 5_50, 0, 4_50, 0}},
			{"hold with a timeout", hold("h3", 2_00, time.Minute), want{ledger.OK, 5_50, 2_00, 4_50, 2_00}},
			{"post in full within the timeout", post("p6", "h3", 0), want{ledger.OK, 3_50, 0, 6_50, 0}},
			{"hold that will time out", hold("h4", 1_00, time.Minute), want{ledger.OK, 3_50, 1_00, 6_50, 1_00}},
		} {
			out := f.submit(t, c.t)
			p, o := f.balance(t, f.purse), f.balance(t, f.other)
			got := want{out[0].Result, p.Balance, p.DebitsPending, o.Balance, o.CreditsPending}
			if got != c.want {
				t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
			}
		}
		clock.Advance(time.Minute)
		out := f.submit(t, post("p7", "h4", 0))
		if out[0].Result != ledger.PendingExpired {
			t.Errorf("post after the timeout: %v, want pending_expired", out[0].Result)
		}
		if p := f.balance(t, f.purse); p.DebitsPending != 0 || p.Balance != 3_50 {
			t.Errorf("after expiry purse %+v, want the hold released", p)
		}
		f.check(t)
	})
}

func TestExpiredHoldsAreReleasedWithoutAnyCaller(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, store.Options{Now: clock.Now}, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		led := ledger.New(db, ledger.Options{SweepEvery: 5 * time.Millisecond})
		defer led.Close()
		out, err := led.Submit(t.Context(), []ledger.Transfer{{Key: "h", Debit: f.purse, Credit: f.other, Amount: 1_00,
			Flags: ledger.Pending, Timeout: time.Second, Code: "bath"}})
		if err != nil || out[0].Result != ledger.OK {
			t.Fatalf("hold: %v %v", out, err)
		}
		clock.Advance(time.Second)
		deadline := time.Now().Add(10 * time.Second)
		for f.balance(t, f.purse).DebitsPending != 0 {
			if time.Now().After(deadline) {
				t.Fatal("expired hold was never released")
			}
			time.Sleep(5 * time.Millisecond)
		}
		tr, err := db.TransferByKey(t.Context(), "h")
		if err != nil || tr.State != ledger.StateExpired {
			t.Errorf("hold state %v (%v), want expired", tr.State, err)
		}
		f.check(t)
	})
}

// A late post of a hold that the same batch's sweep also finds expired must
// release it once: the sweep and the key lookup load the hold separately.
func TestSweepAndLatePostExpireAHoldOnce(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, store.Options{Now: clock.Now}, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.submit(t, ledger.Transfer{Key: "h", Debit: f.purse, Credit: f.other, Amount: 2_00, Flags: ledger.Pending,
			Timeout: time.Minute, Code: "bath"})
		f.led.Close()
		clock.Advance(time.Hour)
		// A new committer sweeps in its first batch.
		led := ledger.New(db, ledger.Options{SweepEvery: time.Hour})
		defer led.Close()
		out, err := led.Submit(t.Context(), []ledger.Transfer{{Key: "p", PendingKey: "h", Flags: ledger.PostPending}})
		if err != nil {
			t.Fatalf("late post: %v", err)
		}
		if out[0].Result != ledger.PendingExpired {
			t.Errorf("late post: %v, want pending_expired", out[0].Result)
		}
		if p := f.balance(t, f.purse); p.DebitsPending != 0 || p.Balance != 10_00 {
			t.Errorf("purse %+v, want the hold released once", p)
		}
		f.check(t)
	})
}
