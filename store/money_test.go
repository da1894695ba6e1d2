package store_test

import (
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
)

func TestPayRefuses(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		other := f.newSchool(t, "bjtu", onecard.Settings{})
		foreign := f.newMerchant(t, other.ID, "canteen-1")
		for _, tc := range []struct {
			name   string
			before func(h *onecard.Cardholder, c *onecard.Card)
			amount int64
			m      *onecard.Merchant
			code   string
			msg    string
		}{
			{"a lost card", func(h *onecard.Cardholder, c *onecard.Card) { f.db.ReportLost(ctx, c.ID) }, 1_00, f.canteen,
				onecard.ECARDBLOCKED, "reported lost"},
			{"a frozen card", func(h *onecard.Cardholder, c *onecard.Card) { f.db.Freeze(ctx, c.ID, onecard.FreezeOperator, "") }, 1_00, f.canteen,
				onecard.ECARDBLOCKED, "frozen (operator)"},
			{"a cancelled card", func(h *onecard.Cardholder, c *onecard.Card) { f.db.Cancel(ctx, c.ID) }, 1_00, f.canteen,
				onecard.ECARDBLOCKED, "no active card"},
			{"over the single limit", nil, 500_01, f.canteen, onecard.ELIMIT, "single payment limit of ¥500.00"},
			{"another school's merchant", nil, 1_00, foreign, onecard.EINVALID, "not a merchant of this cardholder's school"},
			{"beyond the arrears limit", nil, 1050_01, f.canteen, onecard.ELIMIT, ""},
			{"more than balance and arrears limit", nil, 150_01, f.canteen, onecard.EINSUFFICIENT, "not enough"},
			{"zero", nil, 0, f.canteen, onecard.EINVALID, ""},
			{"within balance and arrears limit", nil, 150_00, f.canteen, "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h, c, _ := f.cardholder(t)
				f.deposit(t, h, 100_00)
				if tc.before != nil {
					tc.before(h, c)
				}
				wantCode(t, f.pay(h, tc.m, tc.amount), tc.code, tc.msg)
				want := int64(100_00)
				if tc.code == "" {
					want -= tc.amount
				}
				if b := f.balance(t, h); b.Total != want {
					t.Errorf("balance = %s, want %s", onecard.Yuan(b.Total), onecard.Yuan(want))
				}
			})
		}
	})
}

func TestPayDailyLimit(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		f.deposit(t, h, 1000_00)
		s := f.school.Settings
		s.DailyLimit = 800_00
		if _, err := f.db.UpdateSettings(ctx, f.school.ID, s); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name    string
			advance time.Duration
			amount  int64
			code    string
		}{
			{"first", 0, 500_00, ""},
			{"second up to the limit", time.Hour, 300_00, ""},
			{"one fen over", time.Hour, 1, onecard.ELIMIT},
			{"at 23:59 still today", 9*time.Hour + 59*time.Minute, 1, onecard.ELIMIT}, // 12:00 + 2h + 9h59m
			{"after midnight school time", 2 * time.Minute, 100_00, ""},
		} {
			f.clock.Advance(tc.advance)
			err := f.pay(h, f.canteen, tc.amount)
			t.Run(tc.name, func(t *testing.T) { wantCode(t, err, tc.code) })
		}
	})
}

func TestPayIsIdempotent(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		f.deposit(t, h, 20_00)
		p := &onecard.Payment{Key: "net-2025-09", CardholderID: h.ID, MerchantID: f.canteen.ID, Amount: 30_00, Memo: "network fee"}
		first, err := f.db.Pay(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		// The first payment froze the card for arrears; the retry must still
		// return it rather than refuse.
		again, err := f.db.Pay(ctx, p)
		if err != nil || again.TransferID != first.TransferID {
			t.Fatalf("retry = %+v, %v; want transfer %d", again, err, first.TransferID)
		}
		if b := f.balance(t, h); b.Total != -10_00 {
			t.Errorf("balance = %s, want -¥10.00", onecard.Yuan(b.Total))
		}
		p.Amount = 1_00
		_, err = f.db.Pay(ctx, p)
		wantCode(t, err, onecard.ECONFLICT)
	})
}

func TestArrearsFreezeLiftsAfterDeposit(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, c, _ := f.cardholder(t)
		f.deposit(t, h, 10_00)
		if err := f.pay(h, f.canteen, 30_00); err != nil {
			t.Fatalf("a payment within the arrears limit: %v", err)
		}
		for _, step := range []struct {
			name    string
			deposit int64
			state   string
			reason  onecard.FreezeReason
		}{
			{"below zero freezes for arrears", 0, "frozen", onecard.FreezeArrears},
			{"a top-up short of the arrears keeps it", 15_00, "frozen", onecard.FreezeArrears},
			{"a top-up to zero lifts it", 5_00, "active", ""},
		} {
			if step.deposit > 0 {
				f.deposit(t, h, step.deposit)
			}
			t.Run(step.name, func(t *testing.T) {
				got := f.card(t, c.ID)
				if got.State() != step.state || got.FreezeReason != step.reason {
					t.Errorf("card %s (%s), want %s (%s)", got.State(), got.FreezeReason, step.state, step.reason)
				}
				a, _ := f.db.Account(ctx, h.TransitionAccount)
				if a.Frozen != (step.state == "frozen") {
					t.Errorf("transition account frozen = %v", a.Frozen)
				}
				if step.state == "frozen" {
					wantCode(t, f.pay(h, f.canteen, 1), onecard.ECARDBLOCKED, "frozen for arrears")
					_, err := f.db.Unfreeze(ctx, c.ID)
					wantCode(t, err, onecard.ECONFLICT, "top-up")
				}
			})
		}
		f.deposit(t, h, 1_00)
		if err := f.pay(h, f.canteen, 1_00); err != nil {
			t.Errorf("paying after the arrears were settled: %v", err)
		}
		if got := f.card(t, c.ID); !got.Usable() {
			t.Errorf("a payment down to exactly zero left the card %s", got.State())
		}
		entries, _, _ := f.db.Blacklist(ctx, f.school.ID, 0)
		if len(entries) != 2 || !entries[0].Blocked || entries[0].Reason != "arrears" || entries[1].Blocked {
			t.Errorf("blacklist = %+v, want blocked for arrears then unblocked", entries)
		}
		log, _ := f.db.AuditLog(ctx, f.school.ID, 50)
		var system int
		for _, e := range log {
			if e.ActorType == "system" && (e.Action == "card.freeze" || e.Action == "card.unfreeze") {
				system++
			}
		}
		if system != 2 {
			t.Errorf("%d system freeze/unfreeze audit entries, want 2", system)
		}
	})
}

func TestIssueCardInArrears(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, c, _ := f.cardholder(t)
		if err := f.pay(h, f.canteen, 5_00); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Cancel(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		n, err := f.db.IssueCard(ctx, h.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if n.FreezeReason != onecard.FreezeArrears {
			t.Errorf("card issued at -¥5.00 is %s, want frozen for arrears", n.State())
		}
		f.deposit(t, h, 5_00)
		if got := f.card(t, n.ID); !got.Usable() {
			t.Errorf("after the top-up the card is %s", got.State())
		}
	})
}

func TestHistory(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		f.deposit(t, h, 50_00)
		f.clock.Advance(time.Minute)
		f.claim(t, h, 20_00)
		f.clock.Advance(time.Minute)
		if _, err := f.db.Pay(ctx, &onecard.Payment{Key: "k", CardholderID: h.ID, MerchantID: f.canteen.ID, Amount: 12_50, Memo: "lunch"}); err != nil {
			t.Fatal(err)
		}
		items, err := f.db.History(ctx, h.ID, time.Time{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			code, account, memo string
			amount              int64
		}{
			{"purchase", "transition", "Canteen canteen-1: lunch", -12_50},
			{"claim", "purse", "", 20_00},
			{"deposit", "transition", "cash deposit", 50_00},
		}
		if len(items) != len(want) {
			t.Fatalf("History = %d items, want %d", len(items), len(want))
		}
		for i, w := range want {
			it := items[i]
			if it.Code != w.code || it.Account != w.account || it.Amount != w.amount || it.Memo != w.memo {
				t.Errorf("item %d = %+v, want %+v", i, it, w)
			}
		}
		older, _ := f.db.History(ctx, h.ID, items[1].Time, 10)
		if len(older) != 1 || older[0].Code != "deposit" {
			t.Errorf("History before the claim = %d items", len(older))
		}
	})
}
