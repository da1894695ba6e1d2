package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
)

func TestSetAutoTopUp(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		a, err := f.db.AutoTopUp(ctx, h.ID)
		if err != nil || a.Enabled || a.Threshold != 20_00 || a.Amount != 50_00 || a.ConsentAt != nil {
			t.Fatalf("never set: %+v %v", a, err)
		}
		_, err = f.db.SetAutoTopUp(ctx, &onecard.AutoTopUp{CardholderID: h.ID, Enabled: true})
		wantCode(t, err, onecard.ECONFLICT, "bank card")
		f.topUpBindBank(t, h, "AG0001")
		for _, c := range []struct {
			name      string
			threshold int64
			amount    int64
			code      string
		}{
			{"below the minimum top-up", 20_00, 5_00, onecard.EINVALID},
			{"above the single limit", 20_00, 600_00, onecard.EINVALID},
			{"a negative threshold", -1, 50_00, onecard.EINVALID},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.db.SetAutoTopUp(ctx, &onecard.AutoTopUp{CardholderID: h.ID, Enabled: true, Threshold: c.threshold, Amount: c.amount})
				wantCode(t, err, c.code)
			})
		}
		on, err := f.db.SetAutoTopUp(ctx, &onecard.AutoTopUp{CardholderID: h.ID, Enabled: true})
		if err != nil || !on.Enabled || on.Threshold != 20_00 || on.Amount != 50_00 || on.ConsentAt == nil || !on.ConsentAt.Equal(start) {
			t.Fatalf("on with the defaults: %+v %v", on, err)
		}
		f.clock.Advance(time.Hour)
		changed, err := f.db.SetAutoTopUp(ctx, &onecard.AutoTopUp{CardholderID: h.ID, Enabled: true, Threshold: 30_00, Amount: 100_00})
		if err != nil || changed.Threshold != 30_00 || changed.Amount != 100_00 || !changed.ConsentAt.Equal(start) {
			t.Errorf("changed while on keeps the first consent: %+v %v", changed, err)
		}
		off, err := f.db.SetAutoTopUp(ctx, &onecard.AutoTopUp{CardholderID: h.ID, Threshold: 30_00, Amount: 100_00})
		if err != nil || off.Enabled || off.ConsentAt != nil {
			t.Errorf("off: %+v %v", off, err)
		}
		got, err := f.db.AutoTopUp(ctx, h.ID)
		if err != nil || got.Enabled || got.Threshold != 30_00 || got.Amount != 100_00 {
			t.Errorf("read back: %+v %v", got, err)
		}
	})
}

func TestDueAutoTopUps(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		holder := func(deposit int64, agreement string, enabled bool) *onecard.Cardholder {
			h, _, _ := f.cardholder(t)
			if deposit > 0 {
				f.deposit(t, h, deposit)
			}
			f.topUpBindBank(t, h, "AG"+h.Number)
			if _, err := f.db.SetAutoTopUp(ctx, &onecard.AutoTopUp{CardholderID: h.ID, Enabled: true, Threshold: 100_00, Amount: 50_00}); err != nil {
				t.Fatal(err)
			}
			if !enabled {
				if _, err := f.db.SetAutoTopUp(ctx, &onecard.AutoTopUp{CardholderID: h.ID, Threshold: 100_00, Amount: 50_00}); err != nil {
					t.Fatal(err)
				}
			}
			if agreement == "" {
				if err := f.db.SetBankAgreement(ctx, h.ID, ""); err != nil {
					t.Fatal(err)
				}
			}
			return h
		}
		low := holder(10_00, "yes", true)
		holder(150_00, "yes", true) // above the threshold
		holder(0, "yes", false)     // turned off
		holder(0, "", true)         // the agreement was cancelled since
		due := func() []int64 {
			t.Helper()
			as, err := f.db.DueAutoTopUps(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, a := range as {
				ids = append(ids, a.CardholderID)
			}
			return ids
		}
		auto := func(key string) *onecard.TopUp {
			tu, err := f.topUpCreate(onecard.NewTopUp{Key: key, CardholderID: low.ID, Channel: onecard.ChannelBank, Kind: onecard.TopUpAuto, Amount: 50_00})
			if err != nil {
				t.Fatal(err)
			}
			return tu
		}
		var tu *onecard.TopUp
		for _, s := range []struct {
			name string
			do   func()
			due  bool
		}{
			{"below the threshold", nil, true},
			{"an order under way", func() { tu = auto("auto-1") }, false},
			{"the order closed unpaid", func() { f.db.CloseTopUp(ctx, tu.No) }, true},
			{"credited today, still below", func() { f.topUpCredit(t, auto("auto-2"), "AG"+low.Number) }, false},
			{"the next day", func() { f.clock.Advance(24 * time.Hour) }, true},
		} {
			if s.do != nil {
				s.do()
			}
			t.Run(s.name, func(t *testing.T) {
				got := due()
				if want := s.due; (len(got) == 1 && got[0] == low.ID) != want || len(got) > 1 {
					t.Errorf("due: %v, want %d due: %v", got, low.ID, want)
				}
			})
		}
		a, err := f.db.AutoTopUp(ctx, low.ID)
		if err != nil || a.LastAt == nil || !a.LastAt.Equal(start) {
			t.Errorf("last automatic top-up: %+v %v", a, err)
		}
		if b := f.balance(t, low); b.Total != 60_00 {
			t.Errorf("balance %s", onecard.Yuan(b.Total))
		}
		if got := fmt.Sprint(due()); got != fmt.Sprintf("[%d]", low.ID) {
			t.Errorf("due %s", got)
		}
	})
}
