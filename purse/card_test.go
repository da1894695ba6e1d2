package purse_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	onecard "github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/purse"
)

// TestRefusals: the card's own limits. A refused command changes nothing.
func TestRefusals(t *testing.T) {
	is := issuer(t, secret)
	for _, tt := range []struct {
		name string
		card func(c *purse.Card)
		op   func(c *purse.Card) error
		want error
		code string
	}{
		{name: "insufficient balance", op: func(c *purse.Card) error {
			_, err := c.InitPurchase(5001, termID)
			return err
		}, want: purse.ErrInsufficient, code: onecard.EINSUFFICIENT},
		{name: "above the ceiling", op: func(c *purse.Card) error {
			_, err := c.InitLoad(ceiling-5000+1, termID)
			return err
		}, want: purse.ErrCeiling, code: onecard.ELIMIT},
		{name: "blacklisted card", card: func(c *purse.Card) { c.Blacklisted = true }, op: func(c *purse.Card) error {
			_, err := c.InitPurchase(1, termID)
			return err
		}, want: purse.ErrBlacklisted, code: onecard.ECARDBLOCKED},
		{name: "zero purchase", op: func(c *purse.Card) error {
			_, err := c.InitPurchase(0, termID)
			return err
		}, want: purse.ErrAmount, code: onecard.EINVALID},
		{name: "negative load", op: func(c *purse.Card) error {
			_, err := c.InitLoad(-100, termID)
			return err
		}, want: purse.ErrAmount, code: onecard.EINVALID},
		{name: "offline counter exhausted", card: func(c *purse.Card) { c.OfflineCounter = math.MaxUint16 }, op: func(c *purse.Card) error {
			_, err := c.InitPurchase(1, termID)
			return err
		}, want: purse.ErrCounter, code: onecard.ECONFLICT},
		{name: "online counter exhausted", card: func(c *purse.Card) { c.OnlineCounter = math.MaxUint16 }, op: func(c *purse.Card) error {
			_, err := c.InitLoad(1, termID)
			return err
		}, want: purse.ErrCounter, code: onecard.ECONFLICT},
		{name: "load without init", op: func(c *purse.Card) error {
			_, err := c.Load(purse.MAC{}, when)
			return err
		}, want: purse.ErrNoTransaction, code: onecard.ECONFLICT},
		{name: "purchase without init", op: func(c *purse.Card) error {
			_, err := c.Purchase(purse.MAC{}, 1, when)
			return err
		}, want: purse.ErrNoTransaction, code: onecard.ECONFLICT},
		{name: "purchase after a load init", op: func(c *purse.Card) error {
			init, err := c.InitLoad(100, termID)
			if err != nil {
				return err
			}
			sam := is.SAM(termID)
			_, err = c.Purchase(sam.PurchaseMAC1(c.UID, &purse.PurchaseInit{Balance: init.Balance, Counter: c.OfflineCounter, Random: init.Random}, 100, 1, when), 1, when)
			return err
		}, want: purse.ErrNoTransaction, code: onecard.ECONFLICT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCard(t, is, uidA, 5000)
			if tt.card != nil {
				tt.card(c)
			}
			before := stateOf(c)
			err := tt.op(c)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if code := onecard.ErrorCode(err); code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
			if got := stateOf(c); got != before {
				t.Errorf("card changed: %+v, was %+v", got, before)
			}
		})
	}
}

// TestLimitsAtTheEdge: a load up to exactly the ceiling and a purchase of
// exactly the balance go through; a blacklisted card still takes a load the
// issuer authorised.
func TestLimitsAtTheEdge(t *testing.T) {
	is := issuer(t, secret)
	c := newCard(t, is, uidA, 5000)
	load(t, is, c, ceiling-5000, when)
	if c.Balance != ceiling {
		t.Fatalf("balance %d, want the ceiling %d", c.Balance, ceiling)
	}
	purchase(t, is.SAM(termID), c, ceiling, 1, when)
	if c.Balance != 0 {
		t.Fatalf("balance %d, want 0", c.Balance)
	}
	c.Blacklisted = true
	load(t, is, c, 100, when)
	if c.Balance != 100 {
		t.Errorf("balance %d, want 100", c.Balance)
	}
}

// TestCountersOncePerTransaction: each completed load or purchase moves its
// counter by exactly one; refused and abandoned ones move nothing.
func TestCountersOncePerTransaction(t *testing.T) {
	is := issuer(t, secret)
	sam := is.SAM(termID)
	c := newCard(t, is, uidA, 0)
	expect := func(step string, balance int64, online, offline uint16) {
		t.Helper()
		if got, want := stateOf(c), (state{balance, online, offline}); got != want {
			t.Fatalf("after %s: %+v, want %+v", step, got, want)
		}
	}
	load(t, is, c, 3000, when)
	expect("a load", 3000, 1, 0)

	init, _ := c.InitLoad(1000, termID)
	mac2 := authorize(t, is, uidA, init, 1000, termID, when)
	if _, err := c.Load(flip(mac2, 1), when); err == nil {
		t.Fatal("bad MAC2 accepted")
	}
	expect("a refused load", 3000, 1, 0)

	if _, err := c.InitLoad(1000, termID); err != nil {
		t.Fatal(err)
	}
	expect("an abandoned load init", 3000, 1, 0)

	purchase(t, sam, c, 800, 1, when)
	expect("a purchase", 2200, 1, 1)

	pinit, _ := c.InitPurchase(500, termID)
	if _, err := c.Purchase(sam.PurchaseMAC1(uidA, pinit, 500, 2, when), 3, when); err == nil {
		t.Fatal("bad MAC1 accepted")
	}
	expect("a refused purchase", 2200, 1, 1)

	if _, err := c.InitPurchase(5000, termID); err == nil {
		t.Fatal("purchase above the balance opened")
	}
	expect("a refused purchase init", 2200, 1, 1)

	purchase(t, sam, c, 200, 4, when)
	load(t, is, c, 1, when)
	expect("a purchase and a load", 2001, 2, 2)
}

// TestCardJSON: a card image survives its JSON file and goes on working; an
// open session does not survive (it is the chip's RAM).
func TestCardJSON(t *testing.T) {
	is := issuer(t, secret)
	sam := is.SAM(termID)
	c := newCard(t, is, uidA, 5000)
	purchase(t, sam, c, 1250, 1, when)
	c.Blacklisted = true
	if _, err := c.InitLoad(100, termID); err != nil { // left open on purpose
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"uid":"041A2B3C4D5E6F80"`, `"purchase":"54650fbc58332d0cc45f6f943be6a2c5"`, `"last_purchase":{"counter":1`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("card JSON lacks %s: %s", s, b)
		}
	}
	var got purse.Card
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	c.Rand = nil
	c.InitPurchase(0, termID) // ends the open session, refuses the amount, changes nothing else
	if !reflect.DeepEqual(&got, c) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", &got, c)
	}
	if _, err := got.Load(purse.MAC{}, when); !errors.Is(err, purse.ErrNoTransaction) {
		t.Errorf("Load of a session opened before saving: %v, want ErrNoTransaction", err)
	}
	got.Blacklisted = false
	rec := purchase(t, sam, &got, 1000, 2, when)
	if err := is.VerifyRecord(rec); err != nil || got.Balance != 2750 || got.OfflineCounter != 2 {
		t.Errorf("card after reload: %v, balance %d, counter %d", err, got.Balance, got.OfflineCounter)
	}
	if err := json.Unmarshal([]byte(`{"uid":"0102"}`), &got); err == nil {
		t.Error("a short UID was accepted")
	}
}

// TestNewIssuerSecretSize: only a 32-byte secret makes an issuer.
func TestNewIssuerSecretSize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := purse.NewIssuer(make([]byte, n)); !errors.Is(err, purse.ErrSecret) {
			t.Errorf("NewIssuer(%d bytes): %v, want ErrSecret", n, err)
		}
	}
}

// TestKeysPerCardAndSchool: card keys differ between cards and schools, and
// the three keys of a card differ from each other.
func TestKeysPerCardAndSchool(t *testing.T) {
	a := issuer(t, secret).CardKeys(uidA)
	keys := []purse.Key{a.Load, a.Purchase, a.TAC}
	for _, k := range []purse.CardKeys{issuer(t, secret).CardKeys(uidB), issuer(t, secret2).CardKeys(uidA)} {
		keys = append(keys, k.Load, k.Purchase, k.TAC)
	}
	seen := map[purse.Key]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Errorf("key %x appears twice", k)
		}
		seen[k] = true
	}
}
