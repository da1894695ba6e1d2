package purse_test

import (
	"errors"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/purse"
)

// TestPurchaseBadMAC1: every way a SAM's MAC1 can fail to match the purchase
// the card opened; the card refuses, debits nothing and counts nothing.
func TestPurchaseBadMAC1(t *testing.T) {
	is := issuer(t, secret)
	sam := is.SAM(termID)
	for _, tt := range []struct {
		name string
		// mac1 returns the MAC1 to present for the card's purchase of 1250 at
		// termID as sequence 7 at when.
		mac1 func(t *testing.T, init *purse.PurchaseInit) purse.MAC
		seq  uint32    // the sequence the card is given, if not 7
		when time.Time // the time the card is given, if not when
	}{
		{name: "wrong card", mac1: func(_ *testing.T, init *purse.PurchaseInit) purse.MAC {
			return sam.PurchaseMAC1(uidB, init, 1250, 7, when)
		}},
		{name: "wrong school master", mac1: func(t *testing.T, init *purse.PurchaseInit) purse.MAC {
			return issuer(t, secret2).SAM(termID).PurchaseMAC1(uidA, init, 1250, 7, when)
		}},
		{name: "changed amount", mac1: func(_ *testing.T, init *purse.PurchaseInit) purse.MAC {
			return sam.PurchaseMAC1(uidA, init, 1251, 7, when)
		}},
		{name: "changed terminal id", mac1: func(_ *testing.T, init *purse.PurchaseInit) purse.MAC {
			return is.SAM(termID2).PurchaseMAC1(uidA, init, 1250, 7, when)
		}},
		{name: "changed terminal sequence", seq: 8, mac1: func(_ *testing.T, init *purse.PurchaseInit) purse.MAC {
			return sam.PurchaseMAC1(uidA, init, 1250, 7, when)
		}},
		{name: "changed time", when: when.Add(time.Second), mac1: func(_ *testing.T, init *purse.PurchaseInit) purse.MAC {
			return sam.PurchaseMAC1(uidA, init, 1250, 7, when)
		}},
		{name: "changed counter", mac1: func(_ *testing.T, init *purse.PurchaseInit) purse.MAC {
			i := *init
			i.Counter++
			return sam.PurchaseMAC1(uidA, &i, 1250, 7, when)
		}},
		{name: "changed random", mac1: func(_ *testing.T, init *purse.PurchaseInit) purse.MAC {
			i := *init
			i.Random[7] ^= 0x80
			return sam.PurchaseMAC1(uidA, &i, 1250, 7, when)
		}},
		{name: "MAC1 from another card", mac1: func(t *testing.T, _ *purse.PurchaseInit) purse.MAC {
			b := newCard(t, is, uidB, 5000)
			binit, err := b.InitPurchase(1250, termID)
			if err != nil {
				t.Fatal(err)
			}
			return sam.PurchaseMAC1(uidB, binit, 1250, 7, when)
		}},
		{name: "MAC1 one byte flipped", mac1: func(_ *testing.T, init *purse.PurchaseInit) purse.MAC {
			return flip(sam.PurchaseMAC1(uidA, init, 1250, 7, when), 4)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCard(t, is, uidA, 5000)
			init, err := c.InitPurchase(1250, termID)
			if err != nil {
				t.Fatal(err)
			}
			before := stateOf(c)
			seq, at := uint32(7), when
			if tt.seq != 0 {
				seq = tt.seq
			}
			if !tt.when.IsZero() {
				at = tt.when
			}
			if _, err := c.Purchase(tt.mac1(t, init), seq, at); !errors.Is(err, purse.ErrBadMAC1) {
				t.Fatalf("Purchase: %v, want ErrBadMAC1", err)
			}
			if got := stateOf(c); got != before {
				t.Errorf("card changed by a refused purchase: %+v, was %+v", got, before)
			}
			if _, err := c.Purchase(sam.PurchaseMAC1(uidA, init, 1250, 7, when), 7, when); !errors.Is(err, purse.ErrNoTransaction) {
				t.Errorf("Purchase after a bad MAC1: %v, want ErrNoTransaction", err)
			}
		})
	}
}

// TestVerifyMAC2Bad: the SAM refuses a card answer that does not prove the
// debit it asked for.
func TestVerifyMAC2Bad(t *testing.T) {
	is := issuer(t, secret)
	sam := is.SAM(termID)
	c := newCard(t, is, uidA, 5000)
	init, err := c.InitPurchase(1250, termID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Purchase(sam.PurchaseMAC1(uidA, init, 1250, 7, when), 7, when)
	if err != nil {
		t.Fatal(err)
	}
	if err := sam.VerifyMAC2(uidA, init, 1250, 7, res); err != nil {
		t.Fatalf("genuine MAC2: %v", err)
	}
	with := func(f func(r *purse.PurchaseResult)) *purse.PurchaseResult {
		r := *res
		f(&r)
		return &r
	}
	otherInit := *init
	otherInit.Random[0] ^= 1
	for _, tt := range []struct {
		name   string
		sam    *purse.SAM
		uid    purse.UID
		init   *purse.PurchaseInit
		amount int64
		seq    uint32
		res    *purse.PurchaseResult
	}{
		{"wrong card", sam, uidB, init, 1250, 7, res},
		{"wrong school master", issuer(t, secret2).SAM(termID), uidA, init, 1250, 7, res},
		{"changed amount", sam, uidA, init, 1200, 7, with(func(r *purse.PurchaseResult) { r.BalanceAfter += 50 })},
		{"changed terminal sequence", sam, uidA, init, 1250, 8, res},
		{"changed random", sam, uidA, &otherInit, 1250, 7, res},
		{"changed balance after", sam, uidA, init, 1250, 7, with(func(r *purse.PurchaseResult) { r.BalanceAfter++ })},
		{"changed counter", sam, uidA, init, 1250, 7, with(func(r *purse.PurchaseResult) { r.Counter++ })},
		{"MAC2 one byte flipped", sam, uidA, init, 1250, 7, with(func(r *purse.PurchaseResult) { r.MAC2 = flip(r.MAC2, 2) })},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.sam.VerifyMAC2(tt.uid, tt.init, tt.amount, tt.seq, tt.res); !errors.Is(err, purse.ErrBadMAC2) {
				t.Errorf("VerifyMAC2: %v, want ErrBadMAC2", err)
			}
		})
	}
}

// TestSAMCannotMakeTAC: what a SAM holds (the purchase master key) cannot
// stand in for the TAC key: a TAC computed as if the purchase key were the
// TAC key does not verify.
func TestSAMCannotMakeTAC(t *testing.T) {
	is := issuer(t, secret)
	rec := purchase(t, is.SAM(termID), newCard(t, is, uidA, 5000), 1250, 7, when)
	// A forger holding the purchase master key personalizes a "card" whose
	// TAC key is its purchase key, and lets it sign the same purchase.
	forged := newCard(t, is, uidA, 5000)
	forged.Keys.TAC = forged.Keys.Purchase
	frec := purchase(t, is.SAM(termID), forged, 1250, 7, when)
	if frec.TAC == rec.TAC {
		t.Fatal("forged TAC equals the genuine one")
	}
	if err := is.VerifyRecord(frec); !errors.Is(err, purse.ErrBadTAC) {
		t.Errorf("VerifyRecord of a TAC under the purchase key: %v, want ErrBadTAC", err)
	}
}
