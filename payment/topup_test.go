package payment_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/sandbox"
	"github.com/onecard-campus/onecard/store"
)

// A parent tops up a card knowing only the school, the name and the number
// (seed 002): the masked name shows before paying, the money reaches the
// transition balance once, and the parent's phone gets a notice.
func TestPublicTopUp(t *testing.T) {
	for _, ch := range []string{onecard.ChannelAlipay, onecard.ChannelWechat} {
		t.Run(ch, func(t *testing.T) {
			each(t, func(t *testing.T, w *world) {
				h, _ := w.cardholder(t)
				card, _, err := w.svc.LookupCard(ctx, "10.0.0.1", w.school.ID, "王小明", h.Number)
				if err != nil || card.NameMasked != "王*明" {
					t.Fatalf("lookup: %+v %v", card, err)
				}
				_, _, err = w.svc.LookupCard(ctx, "10.0.0.1", w.school.ID, "王小红", h.Number)
				wantCode(t, err, onecard.ENOTFOUND)

				// The gateway delivers this notification twice: the
				// second moves nothing.
				w.sb.SetNextDelivery(channel.Name(ch), sandbox.DeliverTwice)
				tu, _, err := w.svc.TopUpPublic(ctx, "10.0.0.1", w.school.ID, "王小明", h.Number, ch, 100_00, "13912345678", w.key())
				if err != nil {
					t.Fatal(err)
				}
				if tu.PayURL == "" || tu.State != onecard.TopUpPending || tu.Total != 100_00 {
					t.Fatalf("order: %+v", tu)
				}
				res, err := http.Get(tu.PayURL)
				if err != nil || res.StatusCode != http.StatusOK {
					t.Fatalf("the payer's page: %v %v", res, err)
				}
				res.Body.Close()
				w.pay(t, tu, "")
				w.waitState(t, tu.No, onecard.TopUpCredited)
				w.waitNotices(t, 2)
				if b := w.balance(t, h); b.Transition != 100_00 {
					t.Fatalf("transition balance %s after a duplicated notification, want ¥100.00", onecard.Yuan(b.Transition))
				}
				if msgs := w.texts.Messages("13912345678"); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "¥100.00") {
					t.Fatalf("the payer's SMS: %+v", msgs)
				}
				w.check(t)
			})
		})
	}
}

// The lookup cannot be used to list cardholders: a client gets a few
// lookups a minute.
func TestLookupRateLimited(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		h, _ := w.cardholder(t)
		var err error
		for i := 0; i < 20 && onecard.ErrorCode(err) != onecard.ERATELIMIT; i++ {
			_, _, err = w.svc.LookupCard(ctx, "10.0.0.9", w.school.ID, "王小明", h.Number)
		}
		wantCode(t, err, onecard.ERATELIMIT)
		if _, _, err := w.svc.LookupCard(ctx, "10.0.0.10", w.school.ID, "王小明", h.Number); err != nil {
			t.Fatalf("another client is limited too: %v", err)
		}
	})
}

// A top-up from the bound account reaches the card; the same order paid by
// another account never does: its money is refunded through the channel.
func TestBoundTopUp(t *testing.T) {
	for _, ch := range []string{onecard.ChannelAlipay, onecard.ChannelWechat} {
		t.Run(ch, func(t *testing.T) {
			each(t, func(t *testing.T, w *world) {
				h, _ := w.cardholder(t)
				_, err := w.svc.TopUpBound(ctx, h.ID, ch, 50_00, w.key())
				wantCode(t, err, onecard.ECONFLICT) // nothing bound yet

				mine := "acct-" + ch + "-mine"
				b, err := w.svc.BindAccount(ctx, h.ID, ch, w.sb.IssueOAuthCode(channel.Name(ch), mine))
				if err != nil || b.Channel != ch {
					t.Fatalf("bind: %+v %v", b, err)
				}
				other, _ := w.cardholder(t)
				_, err = w.svc.BindAccount(ctx, other.ID, ch, w.sb.IssueOAuthCode(channel.Name(ch), mine))
				wantCode(t, err, onecard.ECONFLICT) // one card per account

				tu, err := w.svc.TopUpBound(ctx, h.ID, ch, 50_00, w.key())
				if err != nil {
					t.Fatal(err)
				}
				w.pay(t, tu, mine)
				w.waitState(t, tu.No, onecard.TopUpCredited)

				stranger, err := w.svc.TopUpBound(ctx, h.ID, ch, 200_00, w.key())
				if err != nil {
					t.Fatal(err)
				}
				w.pay(t, stranger, "acct-someone-else")
				w.waitState(t, stranger.No, onecard.TopUpReturned)
				if o := w.sb.Order(channel.Name(ch), stranger.No); o.State != channel.StateRefunded {
					t.Fatalf("the stranger's payment is %s at the gateway, want refunded", o.State)
				}
				if bal := w.balance(t, h); bal.Transition != 50_00 {
					t.Fatalf("transition balance %s, want only the bound account's ¥50.00", onecard.Yuan(bal.Transition))
				}
				if got := w.system(t, store.KindRefundsPayable); got != 0 {
					t.Fatalf("refunds payable %s after the refund went through", onecard.Yuan(got))
				}
				w.check(t)

				// Unbinding from the bound account itself, inside the channel's app.
				if err := w.svc.UnbindByAccount(ctx, ch, w.sb.IssueOAuthCode(channel.Name(ch), mine)); err != nil {
					t.Fatal(err)
				}
				_, err = w.svc.TopUpBound(ctx, h.ID, ch, 50_00, w.key())
				wantCode(t, err, onecard.ECONFLICT)
			})
		})
	}
}

// Notifications that must move nothing: forged with another gateway's
// keys, validly signed for another amount, tampered with after signing,
// garbage, and a replay of one already booked. The genuine one then
// credits the order once.
func TestNotificationAttacks(t *testing.T) {
	forger := sandbox.NewWithKeys(sandbox.Options{}, mustKeys(t))
	for _, ch := range []string{onecard.ChannelAlipay, onecard.ChannelWechat, onecard.ChannelBank} {
		t.Run(ch, func(t *testing.T) {
			each(t, func(t *testing.T, w *world) {
				h, _ := w.cardholder(t)
				n := &onecard.NewTopUp{Key: w.key(), CardholderID: h.ID, Channel: ch, Kind: onecard.TopUpPublic, Amount: 100_00}
				if ch == onecard.ChannelBank {
					w.bindBank(t, h)
					agreement, err := w.db.BankAgreement(ctx, h.ID)
					if err != nil {
						t.Fatal(err)
					}
					n.Kind, n.Payer = onecard.TopUpBank, agreement
				}
				tu, err := w.db.CreateTopUp(ctx, n)
				if err != nil {
					t.Fatal(err)
				}
				order := func(amount int64) *sandbox.Order {
					return &sandbox.Order{Channel: channel.Name(ch), No: tu.No, Amount: amount, State: channel.StatePaid,
						Payer: n.Payer, PaidAt: time.Now(), NotifyURL: w.notify + ch, Subject: "top-up"}
				}
				send := func(sb *sandbox.Sandbox, o *sandbox.Order, tamper bool) int {
					req, err := sb.Notification(o)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(req.Body)
					if tamper {
						body = flipDigit(body)
					}
					return w.post(t, capturedNotice{channel: ch, header: req.Header, body: body})
				}
				for _, c := range []struct {
					name string
					send func() int
				}{
					{"forged with another gateway's keys", func() int { return send(forger, order(tu.Total), false) }},
					{"validly signed for another amount", func() int { return send(w.sb, order(tu.Total+1), false) }},
					{"tampered with after signing", func() int { return send(w.sb, order(tu.Total), true) }},
					{"garbage", func() int {
						return w.post(t, capturedNotice{channel: ch, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"id":`)})
					}},
				} {
					if status := c.send(); status >= 200 && status < 300 && ch != onecard.ChannelAlipay {
						t.Errorf("%s: acknowledged with %d", c.name, status)
					}
					if got, _ := w.db.TopUp(ctx, tu.No); got.State != onecard.TopUpPending {
						t.Fatalf("%s: the order became %s", c.name, got.State)
					}
					if b := w.balance(t, h); b.Total != 0 {
						t.Fatalf("%s: balance %s", c.name, onecard.Yuan(b.Total))
					}
				}
				for range 2 { // the genuine one, then its replay
					if status := send(w.sb, order(tu.Total), false); status != http.StatusOK {
						t.Fatalf("the genuine notification got %d", status)
					}
				}
				w.waitState(t, tu.No, onecard.TopUpCredited)
				if b := w.balance(t, h); b.Transition != 100_00 {
					t.Fatalf("transition balance %s after a notification and its replay, want ¥100.00", onecard.Yuan(b.Transition))
				}
				w.check(t)
			})
		})
	}
}

func mustKeys(t *testing.T) *sandbox.Keys {
	k, err := sandbox.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// flipDigit changes the last digit of a body: an amount, a signature or a
// ciphertext character, whichever comes last.
func flipDigit(b []byte) []byte {
	out := append([]byte(nil), b...)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] >= '0' && out[i] <= '8' {
			out[i]++
			return out
		}
	}
	return out
}
