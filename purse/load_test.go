package purse_test

import (
	"errors"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/purse"
)

// TestAuthorizeLoadBadMAC1: every way the card's MAC1 can fail to match what
// the issuer is asked to authorise.
func TestAuthorizeLoadBadMAC1(t *testing.T) {
	is := issuer(t, secret)
	for _, tt := range []struct {
		name   string
		mutate func(uid *purse.UID, init *purse.LoadInit, amount *int64, term *purse.TerminalID)
		is     *purse.Issuer
	}{
		{name: "wrong card", mutate: func(uid *purse.UID, _ *purse.LoadInit, _ *int64, _ *purse.TerminalID) { *uid = uidB }},
		{name: "wrong school master", is: issuer(t, secret2)},
		{name: "changed amount", mutate: func(_ *purse.UID, _ *purse.LoadInit, a *int64, _ *purse.TerminalID) { *a++ }},
		{name: "changed terminal id", mutate: func(_ *purse.UID, _ *purse.LoadInit, _ *int64, term *purse.TerminalID) { *term = termID2 }},
		{name: "changed balance", mutate: func(_ *purse.UID, init *purse.LoadInit, _ *int64, _ *purse.TerminalID) { init.Balance += 100 }},
		{name: "changed counter", mutate: func(_ *purse.UID, init *purse.LoadInit, _ *int64, _ *purse.TerminalID) { init.Counter++ }},
		{name: "changed random", mutate: func(_ *purse.UID, init *purse.LoadInit, _ *int64, _ *purse.TerminalID) { init.Random[0] ^= 1 }},
		{name: "MAC1 one byte flipped", mutate: func(_ *purse.UID, init *purse.LoadInit, _ *int64, _ *purse.TerminalID) {
			init.MAC1 = flip(init.MAC1, 7)
		}},
		{name: "MAC1 from another card", mutate: func(_ *purse.UID, init *purse.LoadInit, _ *int64, _ *purse.TerminalID) {
			other, err := newCard(t, is, uidB, 0).InitLoad(5000, termID)
			if err != nil {
				t.Fatal(err)
			}
			init.MAC1 = other.MAC1
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCard(t, is, uidA, 0)
			init, err := c.InitLoad(5000, termID)
			if err != nil {
				t.Fatal(err)
			}
			uid, amount, term, auth := uidA, int64(5000), termID, is
			if tt.mutate != nil {
				tt.mutate(&uid, init, &amount, &term)
			}
			if tt.is != nil {
				auth = tt.is
			}
			if _, err := auth.AuthorizeLoad(uid, init, amount, term, when); !errors.Is(err, purse.ErrBadMAC1) {
				t.Errorf("AuthorizeLoad: %v, want ErrBadMAC1", err)
			}
		})
	}
}

// TestLoadBadMAC2: every way an issuer's MAC2 can fail to authorise the load
// the card opened; the card refuses and stays as it was.
func TestLoadBadMAC2(t *testing.T) {
	is := issuer(t, secret)
	for _, tt := range []struct {
		name string
		// mac2 returns the MAC2 to present for the load the card opened with init.
		mac2 func(t *testing.T, c *purse.Card, init *purse.LoadInit) purse.MAC
		when time.Time // the time the card is given, if not when
	}{
		{name: "wrong card", mac2: func(t *testing.T, _ *purse.Card, _ *purse.LoadInit) purse.MAC {
			// Card B's load, same random, counter, amount, terminal and time.
			b := newCard(t, is, uidB, 0)
			binit, err := b.InitLoad(5000, termID)
			if err != nil {
				t.Fatal(err)
			}
			return authorize(t, is, uidB, binit, 5000, termID, when)
		}},
		{name: "wrong school master", mac2: func(t *testing.T, _ *purse.Card, init *purse.LoadInit) purse.MAC {
			// The other school's card has the same UID, so its MAC1 is valid there.
			other := newCard(t, issuer(t, secret2), uidA, 0)
			oinit, err := other.InitLoad(5000, termID)
			if err != nil {
				t.Fatal(err)
			}
			return authorize(t, issuer(t, secret2), uidA, oinit, 5000, termID, when)
		}},
		{name: "changed amount", mac2: func(t *testing.T, c *purse.Card, _ *purse.LoadInit) purse.MAC {
			// A second card session for 5001 under the same random and counter.
			c2 := newCard(t, is, uidA, 0)
			init2, err := c2.InitLoad(5001, termID)
			if err != nil {
				t.Fatal(err)
			}
			return authorize(t, is, uidA, init2, 5001, termID, when)
		}},
		{name: "changed terminal id", mac2: func(t *testing.T, c *purse.Card, _ *purse.LoadInit) purse.MAC {
			c2 := newCard(t, is, uidA, 0)
			init2, err := c2.InitLoad(5000, termID2)
			if err != nil {
				t.Fatal(err)
			}
			return authorize(t, is, uidA, init2, 5000, termID2, when)
		}},
		{name: "changed time", when: when.Add(time.Second), mac2: func(t *testing.T, _ *purse.Card, init *purse.LoadInit) purse.MAC {
			return authorize(t, is, uidA, init, 5000, termID, when)
		}},
		{name: "replayed MAC2 of an earlier load", mac2: func(t *testing.T, c *purse.Card, _ *purse.LoadInit) purse.MAC {
			// The same card, same random, amount, terminal and time, one
			// load earlier: only the counter differs.
			c0 := newCard(t, is, uidA, 0)
			init0, err := c0.InitLoad(5000, termID)
			if err != nil {
				t.Fatal(err)
			}
			return authorize(t, is, uidA, init0, 5000, termID, when)
		}},
		{name: "MAC2 one byte flipped", mac2: func(t *testing.T, _ *purse.Card, init *purse.LoadInit) purse.MAC {
			return flip(authorize(t, is, uidA, init, 5000, termID, when), 0)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCard(t, is, uidA, 0)
			if tt.name == "replayed MAC2 of an earlier load" {
				load(t, is, c, 5000, when) // the earlier load, counter 0 -> 1
			}
			init, err := c.InitLoad(5000, termID)
			if err != nil {
				t.Fatal(err)
			}
			before := stateOf(c)
			at := when
			if !tt.when.IsZero() {
				at = tt.when
			}
			if _, err := c.Load(tt.mac2(t, c, init), at); !errors.Is(err, purse.ErrBadMAC2) {
				t.Fatalf("Load: %v, want ErrBadMAC2", err)
			}
			if got := stateOf(c); got != before {
				t.Errorf("card changed by a refused load: %+v, was %+v", got, before)
			}
			// The right MAC2 no longer works either: one try per session.
			if _, err := c.Load(authorize(t, is, uidA, init, 5000, termID, when), when); !errors.Is(err, purse.ErrNoTransaction) {
				t.Errorf("Load after a bad MAC2: %v, want ErrNoTransaction", err)
			}
		})
	}
}

func authorize(t *testing.T, is *purse.Issuer, uid purse.UID, init *purse.LoadInit, amount int64, term purse.TerminalID, at time.Time) purse.MAC {
	t.Helper()
	mac2, err := is.AuthorizeLoad(uid, init, amount, term, at)
	if err != nil {
		t.Fatal(err)
	}
	return mac2
}

// TestVerifyLoadTACBad: a load TAC checked against anything but the load
// the card did is refused.
func TestVerifyLoadTACBad(t *testing.T) {
	is := issuer(t, secret)
	c := newCard(t, is, uidA, 0)
	init, err := c.InitLoad(5000, termID)
	if err != nil {
		t.Fatal(err)
	}
	tac, err := c.Load(authorize(t, is, uidA, init, 5000, termID, when), when)
	if err != nil {
		t.Fatal(err)
	}
	if err := is.VerifyLoadTAC(uidA, init, 5000, termID, when, tac); err != nil {
		t.Fatalf("genuine TAC: %v", err)
	}
	changed := *init
	changed.Counter++
	for _, tt := range []struct {
		name   string
		is     *purse.Issuer
		uid    purse.UID
		init   *purse.LoadInit
		amount int64
		term   purse.TerminalID
		when   time.Time
		tac    purse.TAC
	}{
		{"wrong card", is, uidB, init, 5000, termID, when, tac},
		{"wrong school master", issuer(t, secret2), uidA, init, 5000, termID, when, tac},
		{"changed amount", is, uidA, init, 4999, termID, when, tac},
		{"changed terminal id", is, uidA, init, 5000, termID2, when, tac},
		{"changed time", is, uidA, init, 5000, termID, when.Add(time.Second), tac},
		{"changed counter", is, uidA, &changed, 5000, termID, when, tac},
		{"TAC one byte flipped", is, uidA, init, 5000, termID, when, flip(tac, 3)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.is.VerifyLoadTAC(tt.uid, tt.init, tt.amount, tt.term, tt.when, tt.tac); !errors.Is(err, purse.ErrBadTAC) {
				t.Errorf("VerifyLoadTAC: %v, want ErrBadTAC", err)
			}
		})
	}
}

// TestLoadProof: a kiosk that lost the card's answer to a load gets the TAC
// from the card's proof, and only for the card's last load.
func TestLoadProof(t *testing.T) {
	is := issuer(t, secret)
	c := newCard(t, is, uidA, 0)
	init, err := c.InitLoad(5000, termID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.LoadProof(init.Counter + 1); ok {
		t.Fatal("proof of a load not done yet")
	}
	init, err = c.InitLoad(5000, termID) // LoadProof ended the session
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(authorize(t, is, uidA, init, 5000, termID, when), when); err != nil {
		t.Fatal(err) // the answer is "lost"
	}
	p, ok := c.LoadProof(init.Counter + 1)
	if !ok || p.BalanceAfter != 5000 || p.Counter != 1 {
		t.Fatalf("LoadProof = %+v, %v", p, ok)
	}
	if err := is.VerifyLoadTAC(uidA, init, 5000, termID, when, p.TAC); err != nil {
		t.Error(err)
	}
	load(t, is, c, 100, when)
	if _, ok := c.LoadProof(1); ok {
		t.Error("proof of a load that is no longer the last")
	}
}
