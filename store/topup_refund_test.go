package store_test

import (
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/store"
)

func TestRefundTopUp(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, c, _ := f.cardholder(t)
		tu := f.topUpCredit(t, f.topUpPublic(t, h, 100_00), "")
		f.claim(t, h, 60_00) // most of it is already on the card
		op := asOperator(7)
		for _, s := range []struct {
			name   string
			before func()
			no     string
			reason string
			code   string
			msg    string
		}{
			{"no reason", nil, tu.No, " ", onecard.EINVALID, "reason"},
			{"more than the transition balance holds", nil, tu.No, "paid twice by mistake", onecard.EINSUFFICIENT, "¥40.00"},
			{"an unknown order", nil, "T0", "paid twice by mistake", onecard.ENOTFOUND, ""},
			{"a pending order", nil, f.topUpPublic(t, h, 10_00).No, "paid twice by mistake", onecard.ECONFLICT, "pending"},
			// A freeze stops the cardholder spending, not an operator's correction.
			{"enough again, on a frozen card", func() {
				f.deposit(t, h, 60_00)
				if _, err := f.db.Freeze(ctx, c.ID, onecard.FreezeOperator, "investigation"); err != nil {
					t.Fatal(err)
				}
			}, tu.No, "paid twice by mistake", "", ""},
			{"twice", nil, tu.No, "paid twice by mistake", "", ""},
		} {
			if s.before != nil {
				s.before()
			}
			t.Run(s.name, func(t *testing.T) {
				got, err := f.db.RefundTopUp(op, s.no, s.reason)
				wantCode(t, err, s.code, s.msg)
				if err == nil && got.State != onecard.TopUpRefunded {
					t.Errorf("state %s", got.State)
				}
			})
		}
		if b := f.balance(t, h); b.Transition != 0 || b.Purse != 60_00 {
			t.Errorf("balance after the refund: %+v", b)
		}
		if owed := f.topUpSystem(t, store.KindRefundsPayable); owed != 100_00 {
			t.Errorf("refunds payable %s", onecard.Yuan(owed))
		}
		entries, _ := f.db.AuditLog(ctx, f.school.ID, 1)
		if e := entries[0]; e.Action != "topup.refund" || e.ActorType != "operator" || e.ActorID != 7 || !strings.Contains(e.Detail, "paid twice by mistake") {
			t.Errorf("audit: %+v", e)
		}
		// The channel was paid and never refunded: the payment stays in its records.
		recs, err := f.db.ChannelRecords(ctx, f.school.ID, onecard.ChannelAlipay, start, start.AddDate(0, 0, 1))
		if err != nil || len(recs) != 1 || recs[0].Kind != "payment" || recs[0].No != tu.No {
			t.Errorf("channel records: %+v %v", recs, err)
		}
		topUpLedgerOK(t, f)
	})
}
