package purse_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/purse"
)

func bathController(is *purse.Issuer, id purse.TerminalID) *purse.BathController {
	return &purse.BathController{SAM: is.SAM(id), Price: 3, Unit: "litre"}
}

// Insert and remove: the first insert pre-debits 1 yuan, a purchase at a
// POS happens while the card is out, the next insert writes the unused part
// back, and the issuer verifies the one record of what was used.
func TestBathInsertAndRemove(t *testing.T) {
	is := issuer(t, secret)
	c := newCard(t, is, uidA, 20_00)
	ctl := bathController(is, termID2)

	step, err := ctl.Debit(c, when)
	if err != nil {
		t.Fatal(err)
	}
	if step.Held != 100 || c.Balance != 19_00 || c.Bath == nil {
		t.Fatalf("after the pre-debit: step %+v, balance %d, bath %+v", step, c.Balance, c.Bath)
	}
	purchase(t, is.SAM(termID), c, 5_00, 1, when.Add(time.Minute)) // lunch while the water runs
	used := ctl.Cost(12)                                           // 12 litres at 3 fen
	rec, err := ctl.Settle(c, used, when.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if c.Balance != 20_00-5_00-used || c.Bath != nil {
		t.Errorf("after the write-back: balance %d, want %d; bath %+v", c.Balance, 20_00-5_00-used, c.Bath)
	}
	if rec.Type != purse.TypeCompound || rec.Amount != used || rec.Counter != 2 || rec.BalanceBefore-rec.Amount != rec.BalanceAfter {
		t.Errorf("record %+v", rec)
	}
	if err := is.VerifyRecord(rec); err != nil {
		t.Errorf("the issuer refuses the bath record: %v", err)
	}
	tampered := *rec
	tampered.Amount, tampered.BalanceAfter = rec.Amount-1, rec.BalanceAfter+1
	if err := is.VerifyRecord(&tampered); !errors.Is(err, purse.ErrBadTAC) {
		t.Errorf("a record claiming less water verified: %v", err)
	}
}

// Key mode: the card stays in; each used-up pre-debit is followed by
// another; a double press settles what was used.
func TestBathKeyMode(t *testing.T) {
	is := issuer(t, secret)
	c := newCard(t, is, uidA, 10_00)
	ctl := bathController(is, termID2)
	for i := 1; i <= 3; i++ {
		step, err := ctl.Debit(c, when.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if step.Held != int64(i)*100 {
			t.Errorf("pre-debit %d: held %d", i, step.Held)
		}
	}
	rec, err := ctl.Settle(c, 2_50, when.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if c.Balance != 10_00-2_50 || rec.Amount != 2_50 || ctl.Seq != 1 {
		t.Errorf("balance %d, record %+v, controller seq %d", c.Balance, rec, ctl.Seq)
	}
	if err := is.VerifyRecord(rec); err != nil {
		t.Error(err)
	}
	// More water than was held is charged only what was held.
	if _, err := ctl.Debit(c, when.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	rec, err = ctl.Settle(c, 5_00, when.Add(7*time.Minute))
	if err != nil || rec.Amount != 100 || ctl.Seq != 2 {
		t.Errorf("settle above the held amount: %+v %v", rec, err)
	}
}

func TestBathWithoutWaterCostsNothing(t *testing.T) {
	is := issuer(t, secret)
	c := newCard(t, is, uidA, 5_00)
	ctl := bathController(is, termID2)
	if _, err := ctl.Debit(c, when); err != nil {
		t.Fatal(err)
	}
	rec, err := ctl.Settle(c, 0, when.Add(time.Minute))
	if err != nil || rec != nil || c.Balance != 5_00 || c.OfflineCounter != 0 || c.Bath != nil {
		t.Errorf("no water: record %v err %v balance %d counter %d", rec, err, c.Balance, c.OfflineCounter)
	}
}

func TestBathRefusals(t *testing.T) {
	is := issuer(t, secret)
	for _, tc := range []struct {
		name string
		run  func(c *purse.Card) error
		want error
	}{
		{"another controller cannot settle", func(c *purse.Card) error {
			if _, err := bathController(is, termID2).Debit(c, when); err != nil {
				return err
			}
			_, err := bathController(is, termID).Debit(c, when)
			return err
		}, purse.ErrBathElsewhere},
		{"nothing to settle", func(c *purse.Card) error {
			_, err := bathController(is, termID2).Settle(c, 10, when)
			return err
		}, purse.ErrNoTransaction},
		{"an empty card", func(c *purse.Card) error {
			c.Balance = 0
			_, err := bathController(is, termID2).Debit(c, when)
			return err
		}, purse.ErrInsufficient},
		{"a locked card begins no bath", func(c *purse.Card) error {
			c.Blacklisted = true
			_, err := bathController(is, termID2).Debit(c, when)
			return err
		}, purse.ErrBlacklisted},
		{"a settlement MAC of another school", func(c *purse.Card) error {
			if _, err := bathController(is, termID2).Debit(c, when); err != nil {
				return err
			}
			init, err := c.InitBath(termID2)
			if err != nil {
				return err
			}
			forged := issuer(t, secret2).SAM(termID2).SettleMAC1(c.UID, init, 0, when)
			_, err = c.SettleBath(0, forged, when)
			return err
		}, purse.ErrBadMAC1},
		{"a settlement MAC for less water than claimed", func(c *purse.Card) error {
			ctl := bathController(is, termID2)
			if _, err := ctl.Debit(c, when); err != nil {
				return err
			}
			init, err := c.InitBath(termID2)
			if err != nil {
				return err
			}
			mac := ctl.SAM.SettleMAC1(c.UID, init, 90, when)
			_, err = c.SettleBath(10, mac, when) // the card is asked to write back more than the SAM allowed
			return err
		}, purse.ErrBadMAC1},
		{"a pre-debit MAC replayed in the same bath", func(c *purse.Card) error {
			ctl := bathController(is, termID2)
			init, err := c.InitBath(termID2)
			if err != nil {
				return err
			}
			mac := ctl.SAM.BathMAC1(c.UID, init, 100, 1, when)
			if _, err := c.PreDebit(100, 1, mac, when); err != nil {
				return err
			}
			if _, err := c.InitBath(termID2); err != nil {
				return err
			}
			_, err = c.PreDebit(100, 1, mac, when) // held moved on: the old MAC covers held 0
			return err
		}, purse.ErrBadMAC1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCard(t, is, uidA, 5_00)
			if err := tc.run(c); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// An open bath is part of the card's file: it survives saving the image.
func TestBathSurvivesTheCardImage(t *testing.T) {
	is := issuer(t, secret)
	c := newCard(t, is, uidA, 5_00)
	ctl := bathController(is, termID2)
	if _, err := ctl.Debit(c, when); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var again purse.Card
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	rec, err := ctl.Settle(&again, 40, when.Add(time.Minute))
	if err != nil || rec == nil || again.Balance != 5_00-40 {
		t.Fatalf("settle after a save: %+v %v, balance %d", rec, err, again.Balance)
	}
	if err := is.VerifyRecord(rec); err != nil {
		t.Error(err)
	}
}
