package payment_test

import (
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/payment"
)

// Code payments at the canteen POS: Alipay and WeChat codes pay the
// canteen through the channel (and show in the bound card's bills), a code
// whose payer confirms on the phone waits for them, one never confirmed is
// reversed, a used code is refused; the one-card code draws on the
// transition balance once.
func TestCodePayments(t *testing.T) {
	for _, ch := range []string{onecard.ChannelAlipay, onecard.ChannelWechat} {
		t.Run(ch, func(t *testing.T) {
			each(t, func(t *testing.T, w *world) {
				h, _ := w.cardholder(t)
				payer := "acct-" + ch
				if _, err := w.svc.BindAccount(ctx, h.ID, ch, w.sb.IssueOAuthCode(channel.Name(ch), payer)); err != nil {
					t.Fatal(err)
				}
				canteen := w.account(t, w.canteen.Account)
				code := w.sb.IssueCode(channel.Name(ch), payer, false)
				p, err := w.svc.PayByCode(ctx, &payment.CodePaymentRequest{No: "S1", MerchantID: w.canteen.ID, TerminalID: 7, Code: code, Amount: 12_50})
				if err != nil || p.State != onecard.CodePaid || p.CardholderID != h.ID {
					t.Fatalf("code payment: %+v %v", p, err)
				}
				if got := w.account(t, w.canteen.Account) - canteen; got != 12_50 {
					t.Fatalf("the canteen got %s, want ¥12.50", onecard.Yuan(got))
				}
				again, err := w.svc.PayByCode(ctx, &payment.CodePaymentRequest{No: "S1", MerchantID: w.canteen.ID, TerminalID: 7, Code: code, Amount: 12_50})
				if err != nil || again.No != p.No {
					t.Fatalf("a retried sale: %+v %v", again, err)
				}
				_, err = w.svc.PayByCode(ctx, &payment.CodePaymentRequest{No: "S2", MerchantID: w.canteen.ID, TerminalID: 7, Code: code, Amount: 12_50})
				wantCode(t, err, onecard.EINVALID) // the code was used

				items, err := w.db.History(ctx, h.ID, time.Time{}, 10)
				if err != nil || len(items) == 0 || items[0].Amount != -12_50 {
					t.Fatalf("the bound card's bills: %+v %v", items, err)
				}

				// The payer confirms on the phone while the POS waits.
				slow := w.sb.IssueCode(channel.Name(ch), payer, true)
				done := make(chan error, 1)
				go func() {
					_, err := w.svc.PayByCode(ctx, &payment.CodePaymentRequest{No: "S3", MerchantID: w.canteen.ID, TerminalID: 7, Code: slow, Amount: 8_00})
					done <- err
				}()
				no := "C7_S3"
				deadline := time.Now().Add(5 * time.Second)
				for w.sb.ConfirmCode(channel.Name(ch), no) != nil {
					if time.Now().After(deadline) {
						t.Fatal("the payment never waited for the payer")
					}
					time.Sleep(5 * time.Millisecond)
				}
				if err := <-done; err != nil {
					t.Fatalf("confirmed payment: %v", err)
				}

				// A payer who never confirms: reversed, nothing moves.
				before := w.account(t, w.canteen.Account)
				never := w.sb.IssueCode(channel.Name(ch), payer, true)
				_, err = w.svc.PayByCode(ctx, &payment.CodePaymentRequest{No: "S4", MerchantID: w.canteen.ID, TerminalID: 7, Code: never, Amount: 9_00})
				wantCode(t, err, onecard.EINVALID)
				if o := w.sb.Order(channel.Name(ch), "C7_S4"); o == nil || o.State != channel.StateClosed {
					t.Fatalf("the unconfirmed payment at the gateway: %+v", o)
				}
				if w.account(t, w.canteen.Account) != before {
					t.Fatal("an unconfirmed payment moved money")
				}

				// The canteen refunds part of the first sale through the channel.
				r, err := w.svc.RefundCodePayment(ctx, p.No, "RF1", 2_50)
				if err != nil || r.Refunded != 2_50 {
					t.Fatalf("refund: %+v %v", r, err)
				}
				if _, err := w.svc.RefundCodePayment(ctx, p.No, "RF1", 2_50); err != nil {
					t.Fatalf("a retried refund: %v", err)
				}
				_, err = w.svc.RefundCodePayment(ctx, p.No, "RF2", 20_00)
				wantCode(t, err, onecard.EINVALID)
				if o := w.sb.Order(channel.Name(ch), p.No); o.Refunded() != 2_50 {
					t.Fatalf("the gateway refunded %s, want ¥2.50", onecard.Yuan(o.Refunded()))
				}
				w.check(t)
			})
		})
	}
}

// The one-card payment code (seed 001): charged once to the transition
// balance, down to the arrears limit; a used code is refused.
func TestOneCardCode(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		h, _ := w.cardholder(t)
		pc, err := w.db.IssuePayCode(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := w.svc.PayByCode(ctx, &payment.CodePaymentRequest{No: "P1", MerchantID: w.canteen.ID, TerminalID: 3, Code: pc.Code, Amount: 30_00})
		if err != nil || p.Channel != "onecard" {
			t.Fatalf("one-card code: %+v %v", p, err)
		}
		if b := w.balance(t, h); b.Transition != -30_00 {
			t.Fatalf("transition balance %s, want -¥30.00 (within the arrears limit)", onecard.Yuan(b.Transition))
		}
		_, err = w.svc.PayByCode(ctx, &payment.CodePaymentRequest{No: "P2", MerchantID: w.canteen.ID, TerminalID: 3, Code: pc.Code, Amount: 1_00})
		wantCode(t, err, onecard.EINVALID)
		w.check(t)
	})
}

func TestCodeKind(t *testing.T) {
	for _, c := range []struct{ code, kind string }{
		{"280000000000000000", onecard.ChannelAlipay},
		{"134567890123456789", onecard.ChannelWechat},
		{"660000000000000001", "onecard"},
		{"990000000000000000", ""},
		{"28000000000000000", ""},
		{"28000000000000000x", ""},
	} {
		kind, err := payment.CodeKind(c.code)
		if kind != c.kind || (c.kind == "") != (err != nil) {
			t.Errorf("CodeKind(%s) = %q, %v; want %q", c.code, kind, err, c.kind)
		}
	}
}
