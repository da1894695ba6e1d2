package store_test

import (
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestBindChannelOneToOne(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h1, _, _ := f.cardholder(t)
		h2, _, _ := f.cardholder(t)
		const buyer, openid = "2088102000000001", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
		b, err := f.db.BindChannel(ctx, h1.ID, onecard.ChannelAlipay, buyer)
		if err != nil || b.AccountMasked != "2088********0001" || b.Account != buyer || b.BoundAt.IsZero() {
			t.Fatalf("bind: %+v %v", b, err)
		}
		for _, c := range []struct {
			name    string
			holder  int64
			channel string
			account string
			code    string
		}{
			{"the same account again", h1.ID, onecard.ChannelAlipay, buyer, ""},
			{"a second Alipay account on the card", h1.ID, onecard.ChannelAlipay, "2088102000000002", onecard.ECONFLICT},
			{"the account on another card", h2.ID, onecard.ChannelAlipay, buyer, onecard.ECONFLICT},
			{"a bank account", h1.ID, onecard.ChannelBank, "6222020000000000018", onecard.EINVALID},
			{"no account", h1.ID, onecard.ChannelWechat, " ", onecard.EINVALID},
			{"an account with spaces", h1.ID, onecard.ChannelWechat, "o Up F8", onecard.EINVALID},
			{"an unknown cardholder", 999999, onecard.ChannelWechat, openid, onecard.ENOTFOUND},
			{"a WeChat account beside the Alipay one", h1.ID, onecard.ChannelWechat, openid, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.db.BindChannel(ctx, c.holder, c.channel, c.account)
				wantCode(t, err, c.code)
			})
		}
		bs, err := f.db.ChannelBindings(ctx, h1.ID)
		if err != nil || len(bs) != 2 || bs[0].Channel != onecard.ChannelAlipay || bs[1].Channel != onecard.ChannelWechat ||
			bs[1].AccountMasked != "oUpF"+strings.Repeat("*", 20)+"eS6o" {
			t.Fatalf("bindings of h1: %+v %v", bs, err)
		}
		if bs, err := f.db.ChannelBindings(ctx, h2.ID); err != nil || len(bs) != 0 {
			t.Errorf("bindings of h2: %+v %v", bs, err)
		}
		got, err := f.db.ChannelBindingByAccount(ctx, onecard.ChannelWechat, openid)
		if err != nil || got.CardholderID != h1.ID {
			t.Errorf("by account: %+v %v", got, err)
		}
		_, err = f.db.ChannelBindingByAccount(ctx, onecard.ChannelAlipay, openid)
		wantCode(t, err, onecard.ENOTFOUND)

		wantCode(t, f.db.UnbindChannel(ctx, h1.ID, onecard.ChannelAlipay), "")
		wantCode(t, f.db.UnbindChannel(ctx, h1.ID, onecard.ChannelAlipay), onecard.ENOTFOUND)
		if _, err := f.db.BindChannel(ctx, h2.ID, onecard.ChannelAlipay, buyer); err != nil {
			t.Errorf("binding an unbound account to another card: %v", err)
		}
		entries, _ := f.db.AuditLog(ctx, f.school.ID, 10)
		if entries[0].Action != "channel.bind" || entries[1].Action != "channel.unbind" {
			t.Errorf("audit log: %s, %s", entries[0].Action, entries[1].Action)
		}
	})
}

func TestBankAgreement(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		wantCode(t, f.db.SetBankAgreement(ctx, h.ID, "AG0001"), onecard.ENOTFOUND)
		f.topUpBindBank(t, h, "")
		_, err := f.db.BankAgreement(ctx, h.ID)
		wantCode(t, err, onecard.ENOTFOUND, "no agreement")
		for _, c := range []struct {
			set, want string
		}{{"AG0001", "AG0001"}, {"", ""}, {"AG0002", "AG0002"}} {
			wantCode(t, f.db.SetBankAgreement(ctx, h.ID, c.set), "")
			got, err := f.db.BankAgreement(ctx, h.ID)
			if c.want == "" {
				wantCode(t, err, onecard.ENOTFOUND)
			} else if err != nil || got != c.want {
				t.Errorf("after setting %q: %q %v", c.set, got, err)
			}
		}
		// A new bank card needs its own agreement: the old one debits the old card.
		f.topUpBindBank(t, h, "")
		_, err = f.db.BankAgreement(ctx, h.ID)
		wantCode(t, err, onecard.ENOTFOUND)
		if err := f.db.UnbindBankCard(ctx, h.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.db.SetBankAgreement(ctx, h.ID, "AG0003"), onecard.ENOTFOUND)
	})
}
