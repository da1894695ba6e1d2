package store_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
)

func (f *fixture) clearing(t *testing.T, channel string) int64 {
	t.Helper()
	id, err := f.db.SystemAccount(ctx, f.school.ID, "clearing_"+channel)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) codePayment(t *testing.T, no, channel string, amount int64) *onecard.CodePayment {
	t.Helper()
	p, err := f.db.CreateCodePayment(ctx, &onecard.CodePayment{No: no, MerchantID: f.canteen.ID, TerminalID: 3, Channel: channel, Amount: amount})
	if err != nil {
		t.Fatalf("CreateCodePayment(%s): %v", no, err)
	}
	return p
}

func TestCreateCodePayment(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		p := f.codePayment(t, "CP1", onecard.ChannelAlipay, 12_00)
		if p.State != onecard.CodePaying || p.SchoolID != f.school.ID || p.TerminalID != 3 || p.PaidAt != nil || !p.CreatedAt.Equal(start) {
			t.Errorf("created %+v", p)
		}
		other := f.newSchool(t, "bjtu", onecard.Settings{})
		for _, tc := range []struct {
			name string
			p    onecard.CodePayment
			err  string
		}{
			{"same number returns the stored one", onecard.CodePayment{No: "CP1", MerchantID: f.canteen.ID, Channel: "alipay", Amount: 12_00}, ""},
			{"same number, other amount", onecard.CodePayment{No: "CP1", MerchantID: f.canteen.ID, Channel: "alipay", Amount: 13_00}, onecard.ECONFLICT},
			{"same number, other channel", onecard.CodePayment{No: "CP1", MerchantID: f.canteen.ID, Channel: "wechat", Amount: 12_00}, onecard.ECONFLICT},
			{"unknown merchant", onecard.CodePayment{No: "CP2", MerchantID: 999, Channel: "alipay", Amount: 1_00}, onecard.ENOTFOUND},
			{"another school", onecard.CodePayment{No: "CP2", SchoolID: other.ID, MerchantID: f.canteen.ID, Channel: "alipay", Amount: 1_00}, onecard.EINVALID},
			{"one-card channel", onecard.CodePayment{No: "CP2", MerchantID: f.canteen.ID, Channel: "onecard", Amount: 1_00}, onecard.EINVALID},
			{"no number", onecard.CodePayment{MerchantID: f.canteen.ID, Channel: "alipay", Amount: 1_00}, onecard.EINVALID},
			{"a space in the number", onecard.CodePayment{No: "CP 2", MerchantID: f.canteen.ID, Channel: "alipay", Amount: 1_00}, onecard.EINVALID},
			{"zero", onecard.CodePayment{No: "CP2", MerchantID: f.canteen.ID, Channel: "wechat", Amount: 0}, onecard.EINVALID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := f.db.CreateCodePayment(ctx, &tc.p)
				wantCode(t, err, tc.err)
				if err == nil && !reflect.DeepEqual(got, p) {
					t.Errorf("got %+v, want %+v", got, p)
				}
			})
		}
		_, err := f.db.CodePayment(ctx, "CP2")
		wantCode(t, err, onecard.ENOTFOUND)
	})
}

func TestSettleCodePayment(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		paidAt := start.Add(5 * time.Second)
		for i, tc := range []struct {
			name    string
			channel string
			steps   []func(no string) (*onecard.CodePayment, error)
			err     string // of the last step
			state   string
			moved   int64
		}{
			{name: "paid moves clearing to merchant", channel: "alipay", steps: []func(string) (*onecard.CodePayment, error){
				func(no string) (*onecard.CodePayment, error) {
					return f.db.SettleCodePayment(ctx, no, &onecard.PaidTrade{GatewayNo: "G" + no, Payer: "2088000000000009", Amount: 25_00, At: paidAt}, false)
				}}, state: onecard.CodePaid, moved: 25_00},
			{name: "a duplicate settle moves nothing", channel: "wechat", steps: []func(string) (*onecard.CodePayment, error){
				func(no string) (*onecard.CodePayment, error) {
					return f.db.SettleCodePayment(ctx, no, &onecard.PaidTrade{GatewayNo: "G" + no, Payer: "o-payer", Amount: 25_00, At: paidAt}, false)
				},
				func(no string) (*onecard.CodePayment, error) {
					return f.db.SettleCodePayment(ctx, no, &onecard.PaidTrade{GatewayNo: "G" + no, Payer: "o-payer", Amount: 25_00, At: paidAt}, false)
				},
				func(no string) (*onecard.CodePayment, error) { return f.db.SettleCodePayment(ctx, no, nil, true) },
			}, state: onecard.CodePaid, moved: 25_00},
			{name: "a wrong amount moves nothing", channel: "alipay", steps: []func(string) (*onecard.CodePayment, error){
				func(no string) (*onecard.CodePayment, error) {
					return f.db.SettleCodePayment(ctx, no, &onecard.PaidTrade{GatewayNo: "G" + no, Amount: 24_99, At: paidAt}, false)
				}}, err: onecard.EINVALID, state: onecard.CodePaying},
			{name: "closed moves nothing", channel: "alipay", steps: []func(string) (*onecard.CodePayment, error){
				func(no string) (*onecard.CodePayment, error) { return f.db.SettleCodePayment(ctx, no, nil, true) },
				func(no string) (*onecard.CodePayment, error) { return f.db.SettleCodePayment(ctx, no, nil, true) },
			}, state: onecard.CodeClosed},
			{name: "closed, then paid after all", channel: "wechat", steps: []func(string) (*onecard.CodePayment, error){
				func(no string) (*onecard.CodePayment, error) { return f.db.SettleCodePayment(ctx, no, nil, true) },
				func(no string) (*onecard.CodePayment, error) {
					return f.db.SettleCodePayment(ctx, no, &onecard.PaidTrade{GatewayNo: "G" + no, Amount: 25_00, At: paidAt}, false)
				},
			}, state: onecard.CodePaid, moved: 25_00},
			{name: "neither paid nor closed", channel: "alipay", steps: []func(string) (*onecard.CodePayment, error){
				func(no string) (*onecard.CodePayment, error) { return f.db.SettleCodePayment(ctx, no, nil, false) },
			}, err: onecard.EINVALID, state: onecard.CodePaying},
		} {
			t.Run(tc.name, func(t *testing.T) {
				no := fmt.Sprint("S", i)
				f.codePayment(t, no, tc.channel, 25_00)
				clearing, merchant := codePayBalance(t, f, f.clearing(t, tc.channel)), codePayBalance(t, f, f.canteen.Account)
				var p *onecard.CodePayment
				var err error
				for _, step := range tc.steps {
					p, err = step(no)
				}
				wantCode(t, err, tc.err)
				stored, _ := f.db.CodePayment(ctx, no)
				if err == nil && !reflect.DeepEqual(p, stored) {
					t.Errorf("returned %+v, stored %+v", p, stored)
				}
				if stored.State != tc.state {
					t.Errorf("state %s, want %s", stored.State, tc.state)
				}
				if tc.state == onecard.CodePaid && (stored.GatewayNo != "G"+no || stored.TransferID == 0 || !stored.PaidAt.Equal(paidAt) || stored.CardholderID != 0) {
					t.Errorf("paid payment %+v", stored)
				}
				if got := codePayBalance(t, f, f.canteen.Account) - merchant; got != tc.moved {
					t.Errorf("merchant received %s, want %s", onecard.Yuan(got), onecard.Yuan(tc.moved))
				}
				if got := clearing - codePayBalance(t, f, f.clearing(t, tc.channel)); got != tc.moved {
					t.Errorf("clearing paid %s, want %s", onecard.Yuan(got), onecard.Yuan(tc.moved))
				}
			})
		}
		_, err := f.db.SettleCodePayment(ctx, "nope", nil, true)
		wantCode(t, err, onecard.ENOTFOUND)
		codePayLedgerOK(t, f)
	})
}

func TestCodePaymentInHistory(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		stranger, _, _ := f.cardholder(t)
		const alipay, wechat = "2088000000000001", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
		if _, err := f.db.BindChannel(ctx, h.ID, onecard.ChannelAlipay, alipay); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.BindChannel(ctx, h.ID, onecard.ChannelWechat, wechat); err != nil {
			t.Fatal(err)
		}
		settle := func(no, channel, payer string, amount int64) *onecard.CodePayment {
			t.Helper()
			f.codePayment(t, no, channel, amount)
			p, err := f.db.SettleCodePayment(ctx, no, &onecard.PaidTrade{GatewayNo: "G" + no, Payer: payer, Amount: amount, At: f.clock.Now()}, false)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		f.deposit(t, h, 50_00)
		f.clock.Advance(time.Minute)
		if p := settle("H1", "alipay", alipay, 8_00); p.CardholderID != h.ID {
			t.Errorf("bound payer: cardholder %d, want %d", p.CardholderID, h.ID)
		}
		f.clock.Advance(time.Minute)
		if err := f.pay(h, f.canteen, 3_00); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		settle("H2", "wechat", wechat, 6_50)
		if p := settle("H3", "alipay", "2088000000000099", 9_00); p.CardholderID != 0 {
			t.Errorf("an unbound payer linked to card %d", p.CardholderID)
		}
		// The WeChat account's ID as an Alipay payer is someone else.
		settle("H4", "alipay", wechat, 1_00)
		f.codePayment(t, "H5", "alipay", 2_00) // never paid
		f.clock.Advance(time.Minute)
		code := f.payCode(t, h)
		if _, err := f.db.PayWithCode(ctx, "H6", code, f.canteen.ID, 0, 4_00); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.RefundCodePayment(ctx, "H2", "H2-R", 6_50); err != nil {
			t.Fatal(err)
		}

		type line struct {
			code, account, memo, state string
			amount                     int64
		}
		want := []line{
			{"purchase", "transition", f.canteen.Name, "", -4_00},
			{"purchase", "wechat", f.canteen.Name, "refunded", -6_50},
			{"purchase", "transition", f.canteen.Name, "", -3_00},
			{"purchase", "alipay", f.canteen.Name, "", -8_00},
			{"deposit", "transition", "cash deposit", "", 50_00},
		}
		items, err := f.db.History(ctx, h.ID, time.Time{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []line
		for _, it := range items {
			got = append(got, line{it.Code, it.Account, it.Memo, it.State, it.Amount})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("History =\n%v\nwant\n%v", got, want)
		}
		if items, _ := f.db.History(ctx, h.ID, time.Time{}, 2); len(items) != 2 || items[1].Account != "wechat" {
			t.Errorf("History limited to 2: %+v", items)
		}
		if older, _ := f.db.History(ctx, h.ID, items[2].Time, 10); len(older) != 2 || older[0].Account != "alipay" {
			t.Errorf("History before the card payment: %+v", older)
		}
		if items, _ := f.db.History(ctx, stranger.ID, time.Time{}, 10); len(items) != 0 {
			t.Errorf("a stranger's History: %+v", items)
		}
	})
}

func TestRefundCodePayment(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.codePayment(t, "R1", "alipay", 10_00)
		_, err := f.db.RefundCodePayment(ctx, "R1", "R1-0", 1_00)
		wantCode(t, err, onecard.ECONFLICT) // not paid yet
		if _, err := f.db.SettleCodePayment(ctx, "R1", &onecard.PaidTrade{GatewayNo: "G1", Amount: 10_00}, false); err != nil {
			t.Fatal(err)
		}
		clearing := f.clearing(t, "alipay")
		for _, tc := range []struct {
			name, refundNo string
			amount         int64
			err            string
			refunded       int64
			state          string
		}{
			{"partial", "R1-1", 3_00, "", 3_00, onecard.CodePaid},
			{"same refund again", "R1-1", 3_00, "", 3_00, onecard.CodePaid},
			{"same refund number, other amount", "R1-1", 4_00, onecard.ECONFLICT, 3_00, onecard.CodePaid},
			{"more than is left", "R1-2", 7_01, onecard.EINVALID, 3_00, onecard.CodePaid},
			{"the rest", "R1-3", 7_00, "", 10_00, onecard.CodeRefunded},
			{"anything more", "R1-4", 1, onecard.EINVALID, 10_00, onecard.CodeRefunded},
			{"the full refund again", "R1-3", 7_00, "", 10_00, onecard.CodeRefunded},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p, err := f.db.RefundCodePayment(ctx, "R1", tc.refundNo, tc.amount)
				wantCode(t, err, tc.err)
				if err == nil && (p.Refunded != tc.refunded || p.State != tc.state) {
					t.Errorf("payment %+v, want refunded %d, %s", p, tc.refunded, tc.state)
				}
				stored, _ := f.db.CodePayment(ctx, "R1")
				if stored.Refunded != tc.refunded || stored.State != tc.state {
					t.Errorf("stored %+v, want refunded %d, %s", stored, tc.refunded, tc.state)
				}
				if got := codePayBalance(t, f, f.canteen.Account); got != 10_00-tc.refunded {
					t.Errorf("merchant balance %s, want %s", onecard.Yuan(got), onecard.Yuan(10_00-tc.refunded))
				}
				if got := codePayBalance(t, f, clearing); got != -10_00+tc.refunded {
					t.Errorf("clearing balance %s, want %s", onecard.Yuan(got), onecard.Yuan(-10_00+tc.refunded))
				}
			})
		}
		// The refund number is the ledger's key: another payment cannot
		// reuse it.
		f.codePayment(t, "R2", "alipay", 5_00)
		if _, err := f.db.SettleCodePayment(ctx, "R2", &onecard.PaidTrade{GatewayNo: "G2", Amount: 5_00}, false); err != nil {
			t.Fatal(err)
		}
		_, err = f.db.RefundCodePayment(ctx, "R2", "R1-1", 3_00)
		wantCode(t, err, onecard.ECONFLICT)
		_, err = f.db.RefundCodePayment(ctx, "nope", "X-1", 1_00)
		wantCode(t, err, onecard.ENOTFOUND)

		// A one-card code payment goes back to the transition balance and
		// lifts the arrears freeze it caused.
		h, c, _ := f.cardholder(t)
		f.deposit(t, h, 10_00)
		if _, err := f.db.PayWithCode(ctx, "R3", f.payCode(t, h), f.canteen.ID, 0, 30_00); err != nil {
			t.Fatal(err)
		}
		if got := f.card(t, c.ID); got.FreezeReason != onecard.FreezeArrears {
			t.Fatalf("card %s after paying into arrears", got.State())
		}
		if p, err := f.db.RefundCodePayment(ctx, "R3", "R3-1", 30_00); err != nil || p.State != onecard.CodeRefunded {
			t.Fatalf("refund %+v, %v", p, err)
		}
		if got := codePayBalance(t, f, h.TransitionAccount); got != 10_00 {
			t.Errorf("transition balance %s after the refund, want ¥10.00", onecard.Yuan(got))
		}
		if got := f.card(t, c.ID); !got.Usable() {
			t.Errorf("card %s after the refund", got.State())
		}
		codePayLedgerOK(t, f)
	})
}

func TestCodePaymentRecords(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		shanghai := time.FixedZone("CST", 8*3600)
		day := time.Date(2025, 9, 1, 0, 0, 0, 0, shanghai)
		pay := func(no, channel string, amount int64, at time.Time) {
			t.Helper()
			f.codePayment(t, no, channel, amount)
			if _, err := f.db.SettleCodePayment(ctx, no, &onecard.PaidTrade{GatewayNo: "G" + no, Amount: amount, At: at}, false); err != nil {
				t.Fatal(err)
			}
		}
		pay("D0", "alipay", 1_00, day.Add(-time.Microsecond)) // the day before
		pay("D1", "alipay", 2_00, day)
		pay("D2", "alipay", 3_00, day.Add(11*time.Hour))
		pay("D3", "wechat", 4_00, day.Add(11*time.Hour)) // another channel
		pay("D4", "alipay", 5_00, day.Add(24*time.Hour)) // the day after
		f.codePayment(t, "D5", "alipay", 6_00)           // never paid
		if _, err := f.db.SettleCodePayment(ctx, "D5", nil, true); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour) // 13:00
		if _, err := f.db.RefundCodePayment(ctx, "D0", "D0-R", 50); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.RefundCodePayment(ctx, "D2", "D2-R", 3_00); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.RefundCodePayment(ctx, "D3", "D3-R", 1_00); err != nil {
			t.Fatal(err)
		}
		other := f.newSchool(t, "bjtu", onecard.Settings{})
		m := f.newMerchant(t, other.ID, "canteen-9")
		if _, err := f.db.CreateCodePayment(ctx, &onecard.CodePayment{No: "X1", MerchantID: m.ID, Channel: "alipay", Amount: 7_00}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.SettleCodePayment(ctx, "X1", &onecard.PaidTrade{GatewayNo: "GX1", Amount: 7_00, At: day.Add(time.Hour)}, false); err != nil {
			t.Fatal(err)
		}
		refundAt := start.Add(time.Hour)
		want := []onecard.ChannelRecord{
			{Kind: "payment", No: "D1", GatewayNo: "GD1", Amount: 2_00, At: day.UTC()},
			{Kind: "payment", No: "D2", GatewayNo: "GD2", Amount: 3_00, At: day.Add(11 * time.Hour).UTC()},
			{Kind: "refund", No: "D0", RefundNo: "D0-R", GatewayNo: "GD0", Amount: 50, At: refundAt},
			{Kind: "refund", No: "D2", RefundNo: "D2-R", GatewayNo: "GD2", Amount: 3_00, At: refundAt},
		}
		got, err := f.db.CodePaymentRecords(ctx, f.school.ID, "alipay", day, day.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("records =\n%+v\nwant\n%+v", got, want)
		}
	})
}
