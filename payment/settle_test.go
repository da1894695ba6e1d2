package payment_test

import (
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/payment"
	"github.com/onecard-campus/onecard/sandbox"
)

// An order whose notification never comes is settled by asking the
// gateway; an unpaid one is closed at the gateway after its timeout and can
// no longer be paid.
func TestSettleByQuery(t *testing.T) {
	for _, ch := range []string{onecard.ChannelAlipay, onecard.ChannelWechat} {
		t.Run(ch, func(t *testing.T) {
			each(t, func(t *testing.T, w *world) {
				h, _ := w.cardholder(t)
				w.sb.SetNextDelivery(channel.Name(ch), sandbox.DeliverNever)
				paid, _, err := w.svc.TopUpPublic(ctx, "10.0.0.1", w.school.ID, "王小明", h.Number, ch, 50_00, "", w.key())
				if err != nil {
					t.Fatal(err)
				}
				w.pay(t, paid, "")
				unpaid, _, err := w.svc.TopUpPublic(ctx, "10.0.0.1", w.school.ID, "王小明", h.Number, ch, 100_00, "", w.key())
				if err != nil {
					t.Fatal(err)
				}
				w.clock.Advance(2 * time.Minute)
				if n, err := w.svc.SettlePending(ctx); err != nil || n != 1 {
					t.Fatalf("first settle: %d changed, %v; want the paid one", n, err)
				}
				if got, _ := w.db.TopUp(ctx, paid.No); got.State != onecard.TopUpCredited {
					t.Fatalf("paid order is %s", got.State)
				}
				w.clock.Advance(time.Hour) // past the order timeout
				if n, err := w.svc.SettlePending(ctx); err != nil || n != 1 {
					t.Fatalf("second settle: %d changed, %v; want the unpaid one closed", n, err)
				}
				if got, _ := w.db.TopUp(ctx, unpaid.No); got.State != onecard.TopUpClosed {
					t.Fatalf("unpaid order is %s", got.State)
				}
				if err := w.sb.Pay(channel.Name(ch), unpaid.No, ""); err == nil {
					t.Fatal("a closed order could still be paid at the gateway")
				}
				if b := w.balance(t, h); b.Transition != 50_00 {
					t.Fatalf("transition balance %s, want ¥50.00", onecard.Yuan(b.Transition))
				}
				w.check(t)
			})
		})
	}
}

// An operator refunds a mistaken top-up (seed 004): it leaves the card's
// transition balance for refunds payable, not back through the channel.
func TestOperatorRefund(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		h, _ := w.cardholder(t)
		tu := w.bankTopUp(t, h, 100_00)
		r, err := w.db.RefundTopUp(ctx, tu.No, "paid to the wrong card")
		if err != nil || r.State != onecard.TopUpRefunded {
			t.Fatalf("refund: %+v %v", r, err)
		}
		if b := w.balance(t, h); b.Total != 0 {
			t.Fatalf("balance %s after the refund", onecard.Yuan(b.Total))
		}
		if got := w.system(t, "refunds_payable"); got != 100_00 {
			t.Fatalf("refunds payable %s, want ¥100.00", onecard.Yuan(got))
		}
		if again, err := w.db.RefundTopUp(ctx, tu.No, "again"); err != nil || again.State != onecard.TopUpRefunded {
			t.Fatalf("a retried refund: %+v %v", again, err)
		}
		if got := w.system(t, "refunds_payable"); got != 100_00 {
			t.Fatalf("refunds payable %s after a retried refund, want ¥100.00", onecard.Yuan(got))
		}
		w.check(t)
	})
}

// The daily reconciliation finds a line the channel has and OneCard does
// not, and matches everything else, without moving money.
func TestReconciliation(t *testing.T) {
	for _, ch := range []string{onecard.ChannelAlipay, onecard.ChannelWechat, onecard.ChannelBank} {
		t.Run(ch, func(t *testing.T) {
			each(t, func(t *testing.T, w *world) {
				h, _ := w.cardholder(t)
				var tu *onecard.TopUp
				if ch == onecard.ChannelBank {
					tu = w.bankTopUp(t, h, 100_00)
				} else {
					var err error
					if tu, _, err = w.svc.TopUpPublic(ctx, "10.0.0.1", w.school.ID, "王小明", h.Number, ch, 100_00, "", w.key()); err != nil {
						t.Fatal(err)
					}
					w.pay(t, tu, "")
					w.waitState(t, tu.No, onecard.TopUpCredited)
					code := w.sb.IssueCode(channel.Name(ch), "", false)
					if _, err := w.svc.PayByCode(ctx, &payment.CodePaymentRequest{No: "R1", MerchantID: w.canteen.ID, TerminalID: 1, Code: code, Amount: 15_00}); err != nil {
						t.Fatal(err)
					}
				}
				w.sb.Plant(channel.Name(ch), channel.StatementLine{Kind: channel.StatementPayment, No: "T-not-ours", GatewayNo: "G1", Amount: 66_00, At: time.Now()})
				before := w.balance(t, h)
				loc := onecard.DefaultSettings().Location()
				r, err := w.svc.Reconcile(ctx, ch, time.Now(), loc)
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Issues) != 1 || r.Issues[0].Problem != "only_theirs" || r.Issues[0].No != "T-not-ours" || r.Issues[0].Theirs != 66_00 {
					t.Fatalf("issues: %+v", r.Issues)
				}
				if r.Matched == 0 || r.Theirs-r.Ours != 66_00 {
					t.Fatalf("report: %+v", r)
				}
				if w.balance(t, h) != before {
					t.Fatal("reconciliation moved money")
				}
				saved, err := w.db.Reconciliations(ctx, 0, 10)
				if err != nil || len(saved) != 1 {
					t.Fatalf("saved reports: %+v %v", saved, err)
				}
			})
		})
	}
}
