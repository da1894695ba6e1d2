package sim

import (
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// TestKiosk plays the kiosk's services: a claim moves the transition
// balance onto the card; a bank load is refused until a bank card is
// bound, then loads, within the daily limit; a card reported lost is
// refused at the kiosk until it is unlocked; PINs change with the old one.
func TestKiosk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newServicesWorld(t, db)
		st := w.open(t)
		k, err := st.Kiosk(ctx, "kiosk-02")
		if err != nil {
			t.Fatal(err)
		}
		balanceOf := func(c *Card) onecard.Balance {
			t.Helper()
			h, err := db.CardholderByNumber(ctx, w.info.SchoolID, c.Number())
			if err != nil {
				t.Fatal(err)
			}
			b, err := db.Balance(ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}

		// Claim.
		c, err := st.Card(w.info.SampleNumber)
		if err != nil {
			t.Fatal(err)
		}
		before := balanceOf(c)
		claim := min(before.Transition, c.Purse.Ceiling)
		r, err := k.Claim(ctx, c)
		if err != nil || r.Refused != nil || r.Amount != claim || claim <= 0 || r.After != claim || c.Purse.OnlineCounter != 1 {
			t.Fatalf("claim of %d: %+v, %v", claim, r, err)
		}
		if after := balanceOf(c); after.Purse != claim || after.Transition != before.Transition-claim || after.Total != before.Total {
			t.Fatalf("balance after the claim: %+v, before %+v", after, before)
		}
		if r, err = k.Claim(ctx, c); err != nil || r.Amount != 0 {
			t.Fatalf("a second claim: %+v, %v", r, err)
		}

		// Bank load: bind first.
		bc, err := st.Card(bankHolderNumber)
		if err != nil {
			t.Fatal(err)
		}
		pin := w.initialPIN(t, bankHolderID)
		if _, err := k.BankLoad(ctx, bc, 100_00); onecard.ErrorCode(err) != onecard.ECONFLICT {
			t.Fatalf("bank load without a bank card bound: %v", err)
		}
		card := BankCard{Bank: "交通银行", Number: bankCardNumber, HolderName: bankHolderName, IDNumber: bankHolderID}
		if b, err := k.BindBank(ctx, bc, pin, card); err != nil || b.CardMasked != "6222 **** **** 0018" {
			t.Fatalf("bind: %+v, %v", b, err)
		}
		if r, err = k.BankLoad(ctx, bc, 100_00); err != nil || r.Amount != 100_00 || r.After != 100_00 {
			t.Fatalf("bank load: %+v, %v", r, err)
		}
		if b := balanceOf(bc); b.Purse != 100_00 {
			t.Fatalf("balance after the bank load: %+v", b)
		}
		if _, err = k.BankLoad(ctx, bc, 400_01); onecard.ErrorCode(err) != onecard.ELIMIT || bc.Purse.Balance != 100_00 {
			t.Fatalf("bank load over the daily limit: %v, card %d", err, bc.Purse.Balance)
		}

		// Report lost, refused, unlocked.
		if _, err := k.ReportLost(ctx, c, "000000"); err == nil {
			t.Fatal("report lost with a wrong PIN")
		}
		if a, err := k.ReportLost(ctx, c, w.info.SamplePIN); err != nil || !a.Card.Lost {
			t.Fatalf("report lost: %+v, %v", a, err)
		}
		if r, err = k.Claim(ctx, c); err != nil || r.Refused == nil || r.Refused.Code != onecard.ECARDBLOCKED {
			t.Fatalf("a lost card at the kiosk: %+v, %v", r, err)
		}
		if a, err := k.Unlock(ctx, c, w.info.SamplePIN); err != nil || a.Card.Lost {
			t.Fatalf("unlock: %+v, %v", a, err)
		}

		// PINs.
		if _, err := k.ChangePIN(ctx, c, onecard.ConsumptionPIN, "999999", "135790"); err == nil {
			t.Error("a PIN changed with a wrong old PIN")
		}
		if _, err := k.ChangePIN(ctx, c, onecard.ConsumptionPIN, c.PIN, "135790"); err != nil {
			t.Errorf("change the consumption PIN: %v", err)
		}
		w.checkLedger(t)
	})
}
