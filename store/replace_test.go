package store_test

import (
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/store"
)

func TestReplaceChargesFeeTransitionFirst(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		for _, tc := range []struct {
			name                 string
			purse, transition    int64 // before: purse is claimed onto the card
			wantPurse, wantTrans int64
			code, msg            string
		}{
			{"all from the transition balance", 0, 20_00, 0, 5_00, "", ""},
			{"transition first, the rest from the purse", 10_00, 10_00, 5_00, 0, "", ""},
			{"all from the purse", 30_00, 0, 15_00, 0, "", ""},
			{"short", 3_00, 5_00, 3_00, 5_00, onecard.EINSUFFICIENT,
				"Balance ¥8.00 is short of the ¥15.00 replacement fee; top up first."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h, old, _ := f.cardholder(t)
				f.deposit(t, h, tc.purse+tc.transition)
				if tc.purse > 0 {
					f.claim(t, h, tc.purse)
				}
				if _, err := f.db.ReportLost(ctx, old.ID); err != nil {
					t.Fatal(err)
				}
				n, err := f.db.Replace(ctx, old.ID, "r-"+tc.name)
				wantCode(t, err, tc.code, tc.msg)
				b := f.balance(t, h)
				if b.Purse != tc.wantPurse || b.Transition != tc.wantTrans {
					t.Errorf("balance after = purse %s transition %s, want %s %s", onecard.Yuan(b.Purse), onecard.Yuan(b.Transition),
						onecard.Yuan(tc.wantPurse), onecard.Yuan(tc.wantTrans))
				}
				o := f.card(t, old.ID)
				if tc.code != "" {
					if o.State() != "lost" {
						t.Errorf("refused replacement left the old card %s, want lost", o.State())
					}
					return
				}
				if o.State() != "cancelled" || o.ReplacedBy != n.ID {
					t.Errorf("old card %s replaced by %d, want cancelled, %d", o.State(), o.ReplacedBy, n.ID)
				}
				if !n.Usable() || n.UID == old.UID {
					t.Errorf("new card %+v: want usable with a new UID", n)
				}
			})
		}
		income, _ := f.db.SystemAccount(ctx, f.school.ID, store.KindFeeIncome)
		if a, err := f.db.Account(ctx, income); err != nil || a.Balance != 3*15_00 {
			t.Errorf("fee income = %v, %v; want ¥45.00", a, err)
		}
	})
}

func TestReplaceIsIdempotentByKey(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, old, _ := f.cardholder(t)
		_, other, _ := f.cardholder(t)
		f.deposit(t, h, 100_00)
		first, err := f.db.Replace(ctx, old.ID, "kiosk-7-0001")
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.db.Replace(ctx, old.ID, "kiosk-7-0001")
		if err != nil || again.ID != first.ID {
			t.Fatalf("retry = %v, %v; want card %d", again, err, first.ID)
		}
		if b := f.balance(t, h); b.Total != 85_00 {
			t.Errorf("balance after a retried replacement = %s, want ¥85.00 (one fee)", onecard.Yuan(b.Total))
		}
		_, err = f.db.Replace(ctx, old.ID, "kiosk-7-0002")
		wantCode(t, err, onecard.ECONFLICT, "already replaced")
		_, err = f.db.Replace(ctx, other.ID, "kiosk-7-0001")
		wantCode(t, err, onecard.ECONFLICT, "another card")
		_, err = f.db.Replace(ctx, old.ID, "")
		wantCode(t, err, onecard.EINVALID)
		_, err = f.db.Replace(ctx, 999, "kiosk-7-0003")
		wantCode(t, err, onecard.ENOTFOUND)
	})
}

func TestReplaceCarriesFreezes(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		for _, tc := range []struct {
			reason onecard.FreezeReason
			want   string
		}{
			{onecard.FreezeOperator, "frozen"},
			{onecard.FreezeAbnormal, "frozen"},
			{onecard.FreezeMismatch, "active"},
		} {
			t.Run(string(tc.reason), func(t *testing.T) {
				h, c, _ := f.cardholder(t)
				f.deposit(t, h, 20_00)
				if _, err := f.db.Freeze(ctx, c.ID, tc.reason, ""); err != nil {
					t.Fatal(err)
				}
				n, err := f.db.Replace(ctx, c.ID, "freeze-"+string(tc.reason))
				if err != nil {
					t.Fatalf("replacing a card frozen for %s: %v", tc.reason, err)
				}
				if n.State() != tc.want {
					t.Errorf("new card is %s, want %s", n.State(), tc.want)
				}
				a, _ := f.db.Account(ctx, h.TransitionAccount)
				if a.Frozen != (tc.want == "frozen") || a.Balance != 5_00 {
					t.Errorf("transition account frozen %v balance %s", a.Frozen, onecard.Yuan(a.Balance))
				}
			})
		}
	})
}
