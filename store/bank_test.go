package store_test

import (
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestBindBankCard(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		const id = "11010519900307123X"
		h, err := f.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: f.school.ID, Number: "20259999", Name: "王小明",
			Kind: onecard.Student, IDNumber: id})
		if err != nil {
			t.Fatal(err)
		}
		good := onecard.NewBankBinding{Bank: "交通银行", HolderName: h.Name, IDNumber: id, CardNumber: "6222 0200 0000 0000 018", Via: "kiosk"}
		for _, c := range []struct {
			name string
			edit func(b *onecard.NewBankBinding)
			code string
		}{
			{"another person's name", func(b *onecard.NewBankBinding) { b.HolderName = "李四" }, onecard.EINVALID},
			{"another ID number", func(b *onecard.NewBankBinding) { b.IDNumber = "110105199003071239" }, onecard.EINVALID},
			{"mistyped card", func(b *onecard.NewBankBinding) { b.CardNumber = "6222020000000000016" }, onecard.EINVALID},
			{"no bank", func(b *onecard.NewBankBinding) { b.Bank = " " }, onecard.EINVALID},
			{"unknown channel", func(b *onecard.NewBankBinding) { b.Via = "fax" }, onecard.EINVALID},
		} {
			b := good
			c.edit(&b)
			if _, err := f.db.BindBankCard(ctx, h.ID, &b); onecard.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		if _, err := f.db.BankBinding(ctx, h.ID); onecard.ErrorCode(err) != onecard.ENOTFOUND {
			t.Fatalf("refused bindings left one behind: %v", err)
		}
		b, err := f.db.BindBankCard(ctx, h.ID, &good)
		if err != nil || b.CardMasked != "6222 **** **** 0018" {
			t.Fatalf("bind: %+v %v", b, err)
		}
		rebind := good
		rebind.CardNumber, rebind.Bank = "4111111111111111", "建设银行"
		if _, err := f.db.BindBankCard(ctx, h.ID, &rebind); err != nil {
			t.Fatal(err)
		}
		if got, err := f.db.BankBinding(ctx, h.ID); err != nil || got.Bank != "建设银行" || got.CardMasked != "4111 **** **** 1111" {
			t.Errorf("after a rebind: %+v %v", got, err)
		}
		if err := f.db.UnbindBankCard(ctx, h.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.db.UnbindBankCard(ctx, h.ID); onecard.ErrorCode(err) != onecard.ENOTFOUND {
			t.Errorf("second unbind: %v", err)
		}
	})
}
