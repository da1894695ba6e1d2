package payment_test

import (
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
)

// bankTopUp binds a bank card and tops up from it with the texted code.
func (w *world) bankTopUp(t *testing.T, h *onecard.Cardholder, amount int64) *onecard.TopUp {
	t.Helper()
	if _, err := w.db.BankAgreement(ctx, h.ID); err != nil {
		w.bindBank(t, h)
	}
	w.mustRequestCode(t, h)
	tu, err := w.svc.TopUpBank(ctx, h.ID, amount, w.lastCode(t, h.Phone), w.key())
	if err != nil {
		t.Fatal(err)
	}
	return tu
}

func (w *world) bindBank(t *testing.T, h *onecard.Cardholder) {
	t.Helper()
	id := w.idOf(h)
	if _, err := w.svc.BindBankCard(ctx, h.ID, &onecard.NewBankBinding{Bank: "中国建设银行", HolderName: h.Name, IDNumber: id,
		CardNumber: "6217 0000 0000 0000 004", Via: "app"}); err != nil {
		t.Fatal(err)
	}
}

// A bank top-up needs the texted code, debits the bound card at once and
// stops at the day's bank limit, which kiosk loads share.
func TestBankTopUp(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		h, _ := w.cardholder(t)
		_, err := w.svc.RequestBankCode(ctx, h.ID)
		wantCode(t, err, onecard.ECONFLICT) // no bank card bound

		w.bindBank(t, h)
		masked, err := w.svc.RequestBankCode(ctx, h.ID)
		if err != nil || masked == h.Phone {
			t.Fatalf("code sent to %q: %v", masked, err)
		}
		code := w.lastCode(t, h.Phone)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		_, err = w.svc.TopUpBank(ctx, h.ID, 100_00, wrong, w.key())
		wantCode(t, err, onecard.EWRONGPIN)
		key := w.key()
		tu, err := w.svc.TopUpBank(ctx, h.ID, 100_00, code, key)
		if err != nil {
			t.Fatal(err)
		}
		if tu.State != onecard.TopUpCredited {
			t.Fatalf("bank top-up is %s, want credited at once", tu.State)
		}
		if again, err := w.svc.TopUpBank(ctx, h.ID, 100_00, code, key); err != nil || again.No != tu.No {
			t.Fatalf("a retry with the same key: %+v %v; want the first order", again, err)
		}
		_, err = w.svc.TopUpBank(ctx, h.ID, 100_00, code, w.key())
		wantCode(t, err, onecard.EINVALID) // a code is used once

		w.bankTopUp(t, h, 400_00) // ¥500 today in all
		w.mustRequestCode(t, h)
		_, err = w.svc.TopUpBank(ctx, h.ID, 10_00, w.lastCode(t, h.Phone), w.key())
		wantCode(t, err, onecard.ELIMIT)
		if b := w.balance(t, h); b.Transition != 500_00 {
			t.Fatalf("transition balance %s, want ¥500.00", onecard.Yuan(b.Transition))
		}
		w.check(t)
	})
}

func (w *world) mustRequestCode(t *testing.T, h *onecard.Cardholder) {
	t.Helper()
	w.clock.Advance(2 * time.Minute) // past the one-code-a-minute limit
	if _, err := w.svc.RequestBankCode(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
}

// The automatic top-up takes the set amount from the bank card once the
// balance is below the threshold, and only once a day.
func TestAutoTopUp(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		h, _ := w.cardholder(t)
		_, err := w.db.SetAutoTopUp(ctx, &onecard.AutoTopUp{CardholderID: h.ID, Enabled: true, Threshold: 20_00, Amount: 50_00})
		wantCode(t, err, onecard.ECONFLICT) // needs a bank card

		w.bindBank(t, h)
		a, err := w.db.SetAutoTopUp(ctx, &onecard.AutoTopUp{CardholderID: h.ID, Enabled: true, Threshold: 20_00, Amount: 50_00})
		if err != nil || a.ConsentAt == nil {
			t.Fatalf("auto top-up: %+v %v", a, err)
		}
		for run, want := range []int{1, 0} {
			n, err := w.svc.RunAutoTopUps(ctx)
			if err != nil || n != want {
				t.Fatalf("run %d: %d top-ups, %v; want %d", run+1, n, err, want)
			}
		}
		if b := w.balance(t, h); b.Transition != 50_00 {
			t.Fatalf("transition balance %s, want ¥50.00", onecard.Yuan(b.Transition))
		}
		w.check(t)
	})
}

// The automatic top-up's once a day is the school's day, whatever zone
// the server's clock runs in: a run at 00:30 in Shanghai (16:30 UTC the
// day before) tops up again after one at 23:30.
func TestAutoTopUpEachSchoolDay(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		h, _ := w.cardholder(t)
		w.bindBank(t, h)
		auto := func(threshold int64) {
			t.Helper()
			if _, err := w.db.SetAutoTopUp(ctx, &onecard.AutoTopUp{CardholderID: h.ID, Enabled: true, Threshold: threshold, Amount: 50_00}); err != nil {
				t.Fatal(err)
			}
		}
		auto(20_00)
		shanghai := onecard.DefaultSettings().Location()
		now := w.clock.Now().In(shanghai)
		late := time.Date(now.Year(), now.Month(), now.Day(), 23, 30, 0, 0, shanghai)
		if late.Before(now) {
			late = late.AddDate(0, 0, 1)
		}
		w.clock.Advance(late.Sub(now)) // ahead of the sandbox's real time, never behind it
		for _, run := range []struct {
			name       string
			advance    time.Duration
			threshold  int64
			want       int
			transition int64
		}{
			{"23:30", 0, 20_00, 1, 50_00},
			{"23:40, the same day", 10 * time.Minute, 20_00, 0, 50_00},
			{"00:30, the next day", 50 * time.Minute, 100_00, 1, 100_00},
			{"08:30, the same day", 8 * time.Hour, 200_00, 0, 100_00},
		} {
			w.clock.Advance(run.advance)
			auto(run.threshold)
			n, err := w.svc.RunAutoTopUps(ctx)
			if b := w.balance(t, h); err != nil || n != run.want || b.Transition != run.transition {
				t.Fatalf("%s: %d top-ups (%v), transition balance %s; want %d and %s",
					run.name, n, err, onecard.Yuan(b.Transition), run.want, onecard.Yuan(run.transition))
			}
		}
		w.check(t)
	})
}
