package store_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/purse"
	"github.com/onecard-campus/onecard/store"
)

// The payer IDs of the top-up tests.
const (
	topUpBuyer    = "2088102000000001" // the Alipay account bound to the card
	topUpStranger = "2088102000009999" // an Alipay account bound to no card
)

// topUpIDNumber is the ID number fixture.cardholder registered: the
// fixture numbers cards and ID numbers with one sequence.
func topUpIDNumber(t *testing.T, h *onecard.Cardholder) string {
	t.Helper()
	seq, err := strconv.Atoi(h.Number[4:])
	if err != nil {
		t.Fatalf("card number %s is not the fixture's", h.Number)
	}
	return fmt.Sprintf("1101051990%07dX", seq)
}

// topUpBindBank binds a bank card to h and, when agreement is not empty,
// records the bank link's agreement for it.
func (f *fixture) topUpBindBank(t *testing.T, h *onecard.Cardholder, agreement string) {
	t.Helper()
	if _, err := f.db.BindBankCard(ctx, h.ID, &onecard.NewBankBinding{Bank: "交通银行", HolderName: h.Name,
		IDNumber: topUpIDNumber(t, h), CardNumber: "6222020000000000018", Via: "app"}); err != nil {
		t.Fatal(err)
	}
	if agreement != "" {
		if err := f.db.SetBankAgreement(ctx, h.ID, agreement); err != nil {
			t.Fatal(err)
		}
	}
}

// topUpRules changes the fixture school's top-up rules.
func (f *fixture) topUpRules(t *testing.T, edit func(r *onecard.TopUpRules)) {
	t.Helper()
	s := f.school.Settings
	edit(&s.TopUp)
	sc, err := f.db.UpdateSettings(ctx, f.school.ID, s)
	if err != nil {
		t.Fatal(err)
	}
	f.school.Settings = sc.Settings
}

// topUpSystem returns the balance of one of the school's system accounts.
func (f *fixture) topUpSystem(t *testing.T, kind string) int64 {
	t.Helper()
	id, err := f.db.SystemAccount(ctx, f.school.ID, kind)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.db.Account(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

// topUpCreate opens an order, with a fresh key unless n has one.
func (f *fixture) topUpCreate(n onecard.NewTopUp) (*onecard.TopUp, error) {
	if n.Key == "" {
		f.sequence++
		n.Key = fmt.Sprint("k", f.sequence)
	}
	return f.db.CreateTopUp(ctx, &n)
}

// topUpPublic opens a public Alipay order of amount for h.
func (f *fixture) topUpPublic(t *testing.T, h *onecard.Cardholder, amount int64) *onecard.TopUp {
	t.Helper()
	tu, err := f.topUpCreate(onecard.NewTopUp{CardholderID: h.ID, Channel: onecard.ChannelAlipay, Kind: onecard.TopUpPublic, Amount: amount})
	if err != nil {
		t.Fatalf("CreateTopUp(%s): %v", onecard.Yuan(amount), err)
	}
	return tu
}

// topUpPaid is what the channel reports when payer paid the order in full.
func (f *fixture) topUpPaid(tu *onecard.TopUp, payer string) onecard.PaidTrade {
	return onecard.PaidTrade{GatewayNo: "G" + tu.No, Payer: payer, Amount: tu.Total, At: f.clock.Now()}
}

// topUpCredit credits an order paid in full by payer.
func (f *fixture) topUpCredit(t *testing.T, tu *onecard.TopUp, payer string) *onecard.TopUp {
	t.Helper()
	got, err := f.db.CreditTopUp(ctx, tu.No, f.topUpPaid(tu, payer))
	if err != nil {
		t.Fatalf("CreditTopUp(%s): %v", tu.No, err)
	}
	return got
}

// topUpLedgerOK runs the ledger's own checker over everything booked.
func topUpLedgerOK(t *testing.T, f *fixture) {
	t.Helper()
	err := f.db.Audit(ctx, func(a ledger.Auditor) error {
		rep, err := ledger.Check(ctx, a)
		if err == nil && !rep.OK() {
			t.Errorf("ledger.Check: %v", rep.Violations)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCreateTopUpRefuses(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.topUpRules(t, func(r *onecard.TopUpRules) { r.Step = 10_00 })
		closed, _, _ := f.cardholder(t)
		if _, err := f.db.SetCardholderStatus(ctx, closed.ID, onecard.CardholderClosed); err != nil {
			t.Fatal(err)
		}
		bankOnly, _, _ := f.cardholder(t)
		f.topUpBindBank(t, bankOnly, "AG0001")
		public := func(amount int64) onecard.NewTopUp {
			return onecard.NewTopUp{Channel: onecard.ChannelAlipay, Kind: onecard.TopUpPublic, Amount: amount}
		}
		for _, c := range []struct {
			name   string
			n      onecard.NewTopUp
			holder int64 // 0: a fresh cardholder
			code   string
			msg    string
		}{
			{"below the minimum", public(5_00), 0, onecard.ELIMIT, "between ¥10.00 and ¥500.00"},
			{"above the single limit", public(510_00), 0, onecard.ELIMIT, "between ¥10.00 and ¥500.00"},
			{"off the step", public(15_00), 0, onecard.EINVALID, "multiple of ¥10.00"},
			{"a quick amount", public(50_00), 0, "", ""},
			{"zero", public(0), 0, onecard.EINVALID, ""},
			{"an unknown channel", onecard.NewTopUp{Channel: "paypal", Kind: onecard.TopUpPublic, Amount: 50_00}, 0, onecard.EINVALID, ""},
			{"an unknown kind", onecard.NewTopUp{Channel: onecard.ChannelAlipay, Kind: "gift", Amount: 50_00}, 0, onecard.EINVALID, ""},
			{"a bank top-up through Alipay", onecard.NewTopUp{Channel: onecard.ChannelAlipay, Kind: onecard.TopUpBank, Amount: 50_00}, 0, onecard.EINVALID, ""},
			{"a public top-up from the bank", onecard.NewTopUp{Channel: onecard.ChannelBank, Kind: onecard.TopUpPublic, Amount: 50_00}, 0, onecard.EINVALID, ""},
			{"a public top-up naming a payer", onecard.NewTopUp{Channel: onecard.ChannelAlipay, Kind: onecard.TopUpPublic, Amount: 50_00,
				Payer: topUpBuyer}, 0, onecard.EINVALID, ""},
			{"a bound top-up with nothing bound", onecard.NewTopUp{Channel: onecard.ChannelWechat, Kind: onecard.TopUpBound, Amount: 50_00}, 0,
				onecard.ECONFLICT, "No WeChat account"},
			{"a bank top-up with no bank card", onecard.NewTopUp{Channel: onecard.ChannelBank, Kind: onecard.TopUpBank, Amount: 50_00}, 0,
				onecard.ECONFLICT, "No bank card"},
			{"an automatic top-up without consent", onecard.NewTopUp{Channel: onecard.ChannelBank, Kind: onecard.TopUpAuto, Amount: 50_00},
				bankOnly.ID, onecard.ECONFLICT, "off"},
			{"a bank top-up naming another agreement", onecard.NewTopUp{Channel: onecard.ChannelBank, Kind: onecard.TopUpBank, Amount: 50_00,
				Payer: "AG9999"}, bankOnly.ID, onecard.ECONFLICT, ""},
			{"a bank top-up", onecard.NewTopUp{Channel: onecard.ChannelBank, Kind: onecard.TopUpBank, Amount: 50_00}, bankOnly.ID, "", ""},
			{"a phone that is no mobile", onecard.NewTopUp{Channel: onecard.ChannelAlipay, Kind: onecard.TopUpPublic, Amount: 50_00,
				Phone: "022-23508888"}, 0, onecard.EINVALID, "mobile"},
			{"a mobile with 12 digits", onecard.NewTopUp{Channel: onecard.ChannelAlipay, Kind: onecard.TopUpPublic, Amount: 50_00,
				Phone: "138001380001"}, 0, onecard.EINVALID, "mobile"},
			{"a mobile starting 12", onecard.NewTopUp{Channel: onecard.ChannelAlipay, Kind: onecard.TopUpPublic, Amount: 50_00,
				Phone: "12800138000"}, 0, onecard.EINVALID, "mobile"},
			{"a mobile written +86", onecard.NewTopUp{Channel: onecard.ChannelAlipay, Kind: onecard.TopUpPublic, Amount: 50_00,
				Phone: "+86 138 0013 8000"}, 0, "", ""},
			{"a phone on a bank top-up", onecard.NewTopUp{Channel: onecard.ChannelBank, Kind: onecard.TopUpBank, Amount: 50_00,
				Phone: "13800138000"}, bankOnly.ID, onecard.EINVALID, ""},
			{"a closed account", public(50_00), closed.ID, onecard.ECONFLICT, "closed"},
			{"an unknown cardholder", public(50_00), 999999, onecard.ENOTFOUND, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				n := c.n
				if n.CardholderID = c.holder; n.CardholderID == 0 {
					h, _, _ := f.cardholder(t)
					n.CardholderID = h.ID
				}
				tu, err := f.topUpCreate(n)
				wantCode(t, err, c.code, c.msg)
				if err != nil {
					return
				}
				if tu.State != onecard.TopUpPending || tu.Total != tu.Amount+tu.Fee || !tu.ExpiresAt.Equal(tu.CreatedAt.Add(15*time.Minute)) {
					t.Errorf("order: %+v", tu)
				}
				if n.Phone != "" && tu.Phone != "13800138000" {
					t.Errorf("phone stored as %q", tu.Phone)
				}
				if n.Kind == onecard.TopUpBank && tu.Payer != "AG0001" {
					t.Errorf("a bank top-up's payer is %q, want the agreement", tu.Payer)
				}
			})
		}
		_, err := f.db.CreateTopUp(ctx, &onecard.NewTopUp{CardholderID: bankOnly.ID, Channel: onecard.ChannelAlipay,
			Kind: onecard.TopUpPublic, Amount: 50_00})
		wantCode(t, err, onecard.EINVALID, "request key")
	})
}

func TestCreateTopUpIsIdempotent(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.topUpRules(t, func(r *onecard.TopUpRules) { r.FeeRates = map[string]int64{onecard.ChannelAlipay: 60} })
		h, _, _ := f.cardholder(t)
		if _, err := f.db.BindChannel(ctx, h.ID, onecard.ChannelAlipay, topUpBuyer); err != nil {
			t.Fatal(err)
		}
		n := onecard.NewTopUp{Key: "app-1", CardholderID: h.ID, Channel: onecard.ChannelAlipay, Kind: onecard.TopUpBound, Amount: 100_00}
		first, err := f.topUpCreate(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(first.No) != 21 || !strings.HasPrefix(first.No, "T20250901120000") || first.Payer != topUpBuyer ||
			first.Fee != 60 || first.Total != 100_60 {
			t.Errorf("order: %+v", first)
		}
		f.clock.Advance(time.Second)
		again, err := f.topUpCreate(n)
		if err != nil || again.No != first.No {
			t.Fatalf("retry: %+v %v; want order %s", again, err, first.No)
		}
		n.Amount = 200_00
		_, err = f.topUpCreate(n)
		wantCode(t, err, onecard.ECONFLICT, "app-1")

		second := f.topUpPublic(t, h, 50_00)
		if second.No <= first.No {
			t.Errorf("order numbers do not sort by time: %s after %s", second.No, first.No)
		}
		if err := f.db.SetTopUpPayURL(ctx, second.No, "https://pay.example/"+second.No); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.db.SetTopUpPayURL(ctx, "T0", "https://pay.example/"), onecard.ENOTFOUND)
		list, err := f.db.TopUps(ctx, h.ID, 10)
		if err != nil || len(list) != 2 || list[0].No != second.No || list[0].PayURL == "" || list[1].No != first.No {
			t.Errorf("TopUps: %+v %v", list, err)
		}
		pending, err := f.db.PendingTopUps(ctx, first.CreatedAt.Add(time.Millisecond), 10)
		if err != nil || len(pending) != 1 || pending[0].No != first.No {
			t.Errorf("PendingTopUps before the second order: %+v %v", pending, err)
		}
		_, err = f.db.TopUp(ctx, "T0")
		wantCode(t, err, onecard.ENOTFOUND)
	})
}

func TestTopUpDailyLimit(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.topUpRules(t, func(r *onecard.TopUpRules) { r.DailyLimit = 600_00 })
		h, _, _ := f.cardholder(t)
		var orders []*onecard.TopUp
		for _, c := range []struct {
			name    string
			advance time.Duration
			do      func()
			amount  int64
			code    string
		}{
			{"a first order, unpaid", 0, nil, 300_00, ""},
			{"a second counts the first while it is payable", 0, nil, 250_00, ""},
			{"one over with both pending", 0, nil, 60_00, onecard.ELIMIT},
			{"closing the first frees its share", 0, func() { f.db.CloseTopUp(ctx, orders[0].No) }, 60_00, ""},
			{"credited ones count", time.Minute, func() { f.topUpCredit(t, orders[1], "") }, 300_00, onecard.ELIMIT},
			{"exactly the limit", 0, nil, 290_00, ""},
			{"a new day: yesterday's credited and expired orders do not count", 24 * time.Hour, nil, 500_00, ""},
		} {
			f.clock.Advance(c.advance)
			if c.do != nil {
				c.do()
			}
			tu, err := f.topUpCreate(onecard.NewTopUp{CardholderID: h.ID, Channel: onecard.ChannelWechat, Kind: onecard.TopUpPublic, Amount: c.amount})
			t.Run(c.name, func(t *testing.T) {
				if c.code == onecard.ELIMIT {
					wantCode(t, err, c.code, "daily limit of ¥600.00")
				} else {
					wantCode(t, err, c.code)
				}
			})
			orders = append(orders, tu)
		}
	})
}

// TestBankLimitIsSharedWithKioskLoads: 圈存 at a kiosk and bank top-ups in
// the app draw on one daily bank limit (seed 001), checked on both sides.
func TestBankLimitIsSharedWithKioskLoads(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, c, _ := f.cardholder(t)
		f.topUpBindBank(t, h, "AG0001")
		kiosk := &onecard.Terminal{SchoolID: f.school.ID, Kind: onecard.TerminalKiosk, Code: "kiosk-1", Name: "kiosk-1"}
		if _, err := f.db.CreateTerminal(ctx, kiosk); err != nil {
			t.Fatal(err)
		}
		is, err := f.db.PurseIssuer(ctx, f.school.ID)
		if err != nil {
			t.Fatal(err)
		}
		uid, err := purse.ParseUID(c.UID)
		if err != nil {
			t.Fatal(err)
		}
		image := is.Personalize(uid, h.Number, f.school.Settings.PurseCeiling)
		load := func(amount int64) error {
			init, err := image.InitLoad(amount, purse.TerminalID(kiosk.ID))
			if err != nil {
				t.Fatal(err)
			}
			auth, err := f.db.AuthorizeLoad(ctx, kiosk, &device.LoadRequest{Kind: device.LoadBank, UID: uid, Amount: amount, Init: *init})
			if err != nil {
				return err
			}
			if _, err := image.Load(auth.MAC2, auth.Time); err != nil {
				t.Fatal(err)
			}
			return nil
		}
		bank := func(kind onecard.TopUpKind) func(int64) error {
			return func(amount int64) error {
				_, err := f.topUpCreate(onecard.NewTopUp{CardholderID: h.ID, Channel: onecard.ChannelBank, Kind: kind, Amount: amount})
				return err
			}
		}
		alipay := func(amount int64) error {
			_, err := f.topUpCreate(onecard.NewTopUp{CardholderID: h.ID, Channel: onecard.ChannelAlipay, Kind: onecard.TopUpPublic, Amount: amount})
			return err
		}
		for _, s := range []struct {
			name   string
			do     func(int64) error
			amount int64
			code   string
		}{
			{"a kiosk load", load, 300_00, ""},
			{"a bank top-up over what is left", bank(onecard.TopUpBank), 250_00, onecard.ELIMIT},
			{"a bank top-up up to ¥500", bank(onecard.TopUpBank), 200_00, ""},
			{"a kiosk load over the shared limit", load, 10_00, onecard.ELIMIT},
			{"Alipay has no bank limit", alipay, 100_00, ""},
		} {
			t.Run(s.name, func(t *testing.T) {
				wantCode(t, s.do(s.amount), s.code)
			})
		}
		f.topUpRules(t, func(r *onecard.TopUpRules) { r.BankDailyLimit = 600_00 })
		if err := load(50_00); err != nil {
			t.Errorf("a kiosk load under a raised limit: %v", err)
		}
		if err := bank(onecard.TopUpBank)(50_00); err != nil {
			t.Errorf("a bank top-up under a raised limit: %v", err)
		}
		wantCode(t, load(10_00), onecard.ELIMIT, "kiosk loads and bank top-ups", "¥610.00", "¥600.00")
		topUpLedgerOK(t, f)
	})
}

// TestTopUpCountsOnTheDayItOpened: a gateway's clock is not ours. A bank
// top-up opened just after midnight whose payment the bank stamps a
// minute before it still counts against today's limits; otherwise every
// skew at midnight would let a day's limit be spent twice.
func TestTopUpCountsOnTheDayItOpened(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		f.topUpBindBank(t, h, "AG0001")
		f.clock.Advance(12*time.Hour + 30*time.Second) // 00:00:30 on 2 September
		tu, err := f.topUpCreate(onecard.NewTopUp{CardholderID: h.ID, Channel: onecard.ChannelBank, Kind: onecard.TopUpBank, Amount: 400_00})
		if err != nil {
			t.Fatal(err)
		}
		paid := f.topUpPaid(tu, "AG0001")
		paid.At = f.clock.Now().Add(-time.Minute) // 23:59:30 on 1 September by the bank's clock
		if got, err := f.db.CreditTopUp(ctx, tu.No, paid); err != nil || got.State != onecard.TopUpCredited {
			t.Fatalf("credit: %+v %v", got, err)
		}
		_, err = f.topUpCreate(onecard.NewTopUp{CardholderID: h.ID, Channel: onecard.ChannelBank, Kind: onecard.TopUpBank, Amount: 200_00})
		wantCode(t, err, onecard.ELIMIT, "¥600.00", "daily limit of ¥500.00")
		f.clock.Advance(24 * time.Hour)
		if _, err := f.topUpCreate(onecard.NewTopUp{CardholderID: h.ID, Channel: onecard.ChannelBank, Kind: onecard.TopUpBank, Amount: 200_00}); err != nil {
			t.Errorf("the next day: %v", err)
		}
		topUpLedgerOK(t, f)
	})
}

func TestCreditTopUp(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.topUpRules(t, func(r *onecard.TopUpRules) { r.FeeRates = map[string]int64{onecard.ChannelAlipay: 60} })
		h, _, _ := f.cardholder(t)
		if _, err := f.db.BindChannel(ctx, h.ID, onecard.ChannelAlipay, topUpBuyer); err != nil {
			t.Fatal(err)
		}
		tu, err := f.topUpCreate(onecard.NewTopUp{CardholderID: h.ID, Channel: onecard.ChannelAlipay, Kind: onecard.TopUpBound, Amount: 100_00})
		if err != nil {
			t.Fatal(err)
		}
		type books struct{ transition, clearing, fees int64 }
		read := func() books {
			return books{f.balance(t, h).Transition, f.topUpSystem(t, store.KindClearingAlipay), f.topUpSystem(t, store.KindFeeIncome)}
		}
		before := read()
		paid := f.topUpPaid(tu, topUpBuyer)
		for _, c := range []struct {
			name   string
			amount int64
			code   string
			state  onecard.TopUpState
			moved  books
		}{
			{"the amount without the fee", 100_00, onecard.EINVALID, onecard.TopUpPending, books{}},
			{"a fen more", 100_61, onecard.EINVALID, onecard.TopUpPending, books{}},
			{"the total", 100_60, "", onecard.TopUpCredited, books{100_00, -100_60, 60}},
			{"the same notification again", 100_60, "", onecard.TopUpCredited, books{100_00, -100_60, 60}},
		} {
			t.Run(c.name, func(t *testing.T) {
				p := paid
				p.Amount = c.amount
				_, err := f.db.CreditTopUp(ctx, tu.No, p)
				wantCode(t, err, c.code)
				got, err := f.db.TopUp(ctx, tu.No)
				if err != nil || got.State != c.state {
					t.Fatalf("order: %+v %v, want %s", got, err, c.state)
				}
				after := read()
				if moved := (books{after.transition - before.transition, after.clearing - before.clearing, after.fees - before.fees}); moved != c.moved {
					t.Errorf("moved %+v, want %+v", moved, c.moved)
				}
			})
		}
		got, _ := f.db.TopUp(ctx, tu.No)
		if got.TransferID == 0 || got.PaidAt == nil || !got.PaidAt.Equal(paid.At) || got.GatewayNo != paid.GatewayNo || got.PaidBy != topUpBuyer {
			t.Errorf("credited order: %+v", got)
		}
		hist, err := f.db.History(ctx, h.ID, time.Time{}, 10)
		if err != nil || len(hist) != 1 || hist[0].Code != "topup" || hist[0].Amount != 100_00 || hist[0].TransferID != got.TransferID {
			t.Errorf("history: %+v %v", hist, err)
		}
		_, err = f.db.CreditTopUp(ctx, "T0", paid)
		wantCode(t, err, onecard.ENOTFOUND)
		topUpLedgerOK(t, f)
	})
}

func TestTopUpPaidByAnotherAccountIsReturned(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		if _, err := f.db.BindChannel(ctx, h.ID, onecard.ChannelAlipay, topUpBuyer); err != nil {
			t.Fatal(err)
		}
		tu, err := f.topUpCreate(onecard.NewTopUp{CardholderID: h.ID, Channel: onecard.ChannelAlipay, Kind: onecard.TopUpBound, Amount: 100_00})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.db.ReturnRejected(ctx, tu.No)
		wantCode(t, err, onecard.ECONFLICT, "pending")
		for i := range 2 { // the second is a duplicate notification
			got := f.topUpCredit(t, tu, topUpStranger)
			if got.State != onecard.TopUpRejected || got.PaidBy != topUpStranger || got.TransferID != 0 {
				t.Errorf("report %d: %+v", i+1, got)
			}
		}
		if b := f.balance(t, h); b.Total != 0 {
			t.Errorf("the card got %s", onecard.Yuan(b.Total))
		}
		if owed, clearing := f.topUpSystem(t, store.KindRefundsPayable), f.topUpSystem(t, store.KindClearingAlipay); owed != 100_00 || clearing != -100_00 {
			t.Errorf("refunds payable %s, clearing %s", onecard.Yuan(owed), onecard.Yuan(clearing))
		}
		_, err = f.db.RefundTopUp(ctx, tu.No, "mistake")
		wantCode(t, err, onecard.ECONFLICT)
		for i := range 2 {
			got, err := f.db.ReturnRejected(ctx, tu.No)
			if err != nil || got.State != onecard.TopUpReturned {
				t.Fatalf("return %d: %+v %v", i+1, got, err)
			}
		}
		if owed, clearing := f.topUpSystem(t, store.KindRefundsPayable), f.topUpSystem(t, store.KindClearingAlipay); owed != 0 || clearing != 0 {
			t.Errorf("after the return: refunds payable %s, clearing %s", onecard.Yuan(owed), onecard.Yuan(clearing))
		}
		if got := f.topUpCredit(t, tu, topUpBuyer); got.State != onecard.TopUpReturned {
			t.Errorf("a late notification changed a returned order: %s", got.State)
		}
		// A public order names no payer: anyone may pay it.
		pub := f.topUpPublic(t, h, 50_00)
		if got := f.topUpCredit(t, pub, topUpStranger); got.State != onecard.TopUpCredited {
			t.Errorf("public order paid by a stranger: %s", got.State)
		}
		topUpLedgerOK(t, f)
	})
}

func TestClosedTopUpPaidLateIsCredited(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		tu := f.topUpPublic(t, h, 50_00)
		for i := range 2 {
			got, err := f.db.CloseTopUp(ctx, tu.No)
			if err != nil || got.State != onecard.TopUpClosed {
				t.Fatalf("close %d: %+v %v", i+1, got, err)
			}
		}
		f.clock.Advance(20 * time.Minute)
		if got := f.topUpCredit(t, tu, topUpStranger); got.State != onecard.TopUpCredited {
			t.Errorf("late payment: %s", got.State)
		}
		if b := f.balance(t, h); b.Transition != 50_00 {
			t.Errorf("transition %s", onecard.Yuan(b.Transition))
		}
		_, err := f.db.CloseTopUp(ctx, tu.No)
		wantCode(t, err, onecard.ECONFLICT, "credited")
		entries, _ := f.db.AuditLog(ctx, f.school.ID, 1)
		if entries[0].Action != "topup.credit" || !strings.Contains(entries[0].Detail, "after it was closed") {
			t.Errorf("audit: %+v", entries[0])
		}
	})
}

func TestTopUpToAClosedAccountIsReturned(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		tu := f.topUpPublic(t, h, 50_00)
		if _, err := f.db.SetCardholderStatus(ctx, h.ID, onecard.CardholderClosed); err != nil {
			t.Fatal(err)
		}
		if got := f.topUpCredit(t, tu, topUpStranger); got.State != onecard.TopUpRejected {
			t.Errorf("paid after the account closed: %s", got.State)
		}
		if owed := f.topUpSystem(t, store.KindRefundsPayable); owed != 50_00 {
			t.Errorf("refunds payable %s", onecard.Yuan(owed))
		}
		topUpLedgerOK(t, f)
	})
}

func TestTopUpLiftsArrearsFreeze(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, c, _ := f.cardholder(t)
		f.deposit(t, h, 10_00)
		if err := f.pay(h, f.canteen, 30_00); err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			amount int64
			reason onecard.FreezeReason
		}{{10_00, onecard.FreezeArrears}, {10_00, ""}} {
			f.topUpCredit(t, f.topUpPublic(t, h, step.amount), "")
			if got := f.card(t, c.ID); got.FreezeReason != step.reason {
				t.Errorf("after %s: freeze %q, want %q (balance %s)", onecard.Yuan(step.amount), got.FreezeReason, step.reason,
					onecard.Yuan(f.balance(t, h).Total))
			}
		}
		if err := f.pay(h, f.canteen, 1_00); err != nil {
			t.Errorf("paying after the top-ups settled the arrears: %v", err)
		}
		topUpLedgerOK(t, f)
	})
}
