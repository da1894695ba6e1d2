package purse_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/purse"
)

func terminal(is *purse.Issuer, id purse.TerminalID) *purse.Terminal {
	return &purse.Terminal{SAM: is.SAM(id)}
}

// tear models "the card debited, the terminal lost the answer": the terminal
// opens the purchase, the card gets the debit, its answer is dropped.
func tear(t *testing.T, term *purse.Terminal, c *purse.Card, amount int64, at time.Time) *purse.Pending {
	t.Helper()
	p, err := term.Begin(c, amount, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Purchase(p.MAC1, p.Seq, p.Time); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTapCharges: a plain tap charges once and its record verifies.
func TestTapCharges(t *testing.T) {
	is := issuer(t, secret)
	term := terminal(is, termID)
	c := newCard(t, is, uidA, 5000)
	res, err := term.Tap(c, 1250, when)
	if err != nil {
		t.Fatal(err)
	}
	if res.Recovered || res.Abandoned != nil || term.Pending != nil || term.Seq != 1 {
		t.Errorf("tap = %+v, terminal %+v", res, term)
	}
	if err := is.VerifyRecord(res.Record); err != nil {
		t.Error(err)
	}
	if c.Balance != 3750 || c.OfflineCounter != 1 || res.Record.BalanceBefore != 5000 || res.Record.BalanceAfter != 3750 {
		t.Errorf("card %+v, record %+v", stateOf(c), res.Record)
	}
}

// TestTornPurchaseRecovered: the card debited but the terminal lost the
// answer; the retry tap completes the record from the card's proof and does
// not charge again.
func TestTornPurchaseRecovered(t *testing.T) {
	is := issuer(t, secret)
	term := terminal(is, termID)
	c := newCard(t, is, uidA, 5000)
	p := tear(t, term, c, 1250, when)
	if c.Balance != 3750 || term.Pending == nil {
		t.Fatalf("after the torn debit: card %+v, pending %v", stateOf(c), term.Pending)
	}
	res, err := term.Tap(c, 1250, when.Add(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Recovered || res.Record == nil {
		t.Fatalf("retry = %+v, want a recovered record", res)
	}
	if got := stateOf(c); got != (state{3750, 1, 1}) {
		t.Errorf("card after the retry: %+v, want one debit", got)
	}
	rec := res.Record
	if err := is.VerifyRecord(rec); err != nil {
		t.Error(err)
	}
	if rec.TerminalSeq != p.Seq || !rec.Time.Equal(p.Time) || rec.Counter != 1 || rec.Amount != 1250 || term.Pending != nil || term.Seq != 1 {
		t.Errorf("record %+v, terminal %+v", rec, term)
	}
	// The next tap is a new purchase.
	res, err = term.Tap(c, 1000, when.Add(time.Minute))
	if err != nil || res.Recovered || c.Balance != 2750 || c.OfflineCounter != 2 || res.Record.TerminalSeq != 2 {
		t.Errorf("next tap: %+v, %v, card %+v", res, err, stateOf(c))
	}
}

// TestTornBeforeDebit: the terminal lost the card before the debit reached
// it; the retry charges (once).
func TestTornBeforeDebit(t *testing.T) {
	is := issuer(t, secret)
	term := terminal(is, termID)
	c := newCard(t, is, uidA, 5000)
	if _, err := term.Begin(c, 1250, when); err != nil {
		t.Fatal(err)
	}
	res, err := term.Tap(c, 1250, when.Add(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res.Recovered || stateOf(c) != (state{3750, 1, 1}) || term.Pending != nil {
		t.Errorf("retry = %+v, card %+v", res, stateOf(c))
	}
	if err := is.VerifyRecord(res.Record); err != nil {
		t.Error(err)
	}
}

// TestTornThenOtherTerminal: the debit never reached the card, which then
// paid at another terminal; back at the first, its purchase number is the
// other terminal's, so the first knows its own did not happen and charges.
func TestTornThenOtherTerminal(t *testing.T) {
	is := issuer(t, secret)
	t1, t2 := terminal(is, termID), terminal(is, termID2)
	c := newCard(t, is, uidA, 5000)
	if _, err := t1.Begin(c, 1250, when); err != nil {
		t.Fatal(err)
	}
	if _, err := t2.Tap(c, 300, when.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	res, err := t1.Tap(c, 1250, when.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res.Recovered || stateOf(c) != (state{3450, 1, 2}) {
		t.Errorf("retry = %+v, card %+v", res, stateOf(c))
	}
}

// TestTornUnresolved: the card debited, the answer was lost, and the card
// paid twice elsewhere before coming back: the terminal cannot tell, sets the
// purchase aside for the server and charges nothing; the next tap charges.
func TestTornUnresolved(t *testing.T) {
	is := issuer(t, secret)
	t1, t2 := terminal(is, termID), terminal(is, termID2)
	c := newCard(t, is, uidA, 5000)
	p := tear(t, t1, c, 1250, when)
	for i := range 2 {
		if _, err := t2.Tap(c, 100, when.Add(time.Duration(i+1)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := t1.Tap(c, 1250, when.Add(time.Minute))
	if !errors.Is(err, purse.ErrUnresolved) || res == nil || res.Abandoned != p || res.Record != nil {
		t.Fatalf("retry = %+v, %v; want ErrUnresolved with the pending purchase set aside", res, err)
	}
	if got := stateOf(c); got != (state{3550, 1, 3}) || t1.Pending != nil {
		t.Errorf("card %+v, pending %v", got, t1.Pending)
	}
	if res, err := t1.Tap(c, 1250, when.Add(2*time.Minute)); err != nil || res.Recovered || c.Balance != 2300 {
		t.Errorf("next tap: %+v, %v, balance %d", res, err, c.Balance)
	}
}

// TestTapOtherCardPending: a terminal waiting for one card refuses another,
// and refuses to Begin over its pending purchase.
func TestTapOtherCardPending(t *testing.T) {
	is := issuer(t, secret)
	term := terminal(is, termID)
	a, b := newCard(t, is, uidA, 5000), newCard(t, is, uidB, 5000)
	tear(t, term, a, 1250, when)
	if _, err := term.Tap(b, 500, when); !errors.Is(err, purse.ErrPendingCard) {
		t.Errorf("Tap of another card: %v, want ErrPendingCard", err)
	}
	if _, err := term.Begin(a, 500, when); !errors.Is(err, purse.ErrPendingCard) {
		t.Errorf("Begin over a pending purchase: %v, want ErrPendingCard", err)
	}
	if b.Balance != 5000 || b.OfflineCounter != 0 {
		t.Errorf("card B charged: %+v", stateOf(b))
	}
	if _, err := term.Finish(b); !errors.Is(err, purse.ErrNoTransaction) {
		t.Errorf("Finish with another card: %v, want ErrNoTransaction", err)
	}
}

// TestTapRefused: a refused tap leaves nothing pending and no sequence gap.
func TestTapRefused(t *testing.T) {
	is := issuer(t, secret)
	term := terminal(is, termID)
	c := newCard(t, is, uidA, 5000)
	c.Blacklisted = true
	if _, err := term.Tap(c, 100, when); !errors.Is(err, purse.ErrBlacklisted) {
		t.Fatalf("Tap of a blacklisted card: %v", err)
	}
	if term.Pending != nil || term.Seq != 0 {
		t.Errorf("terminal after a refused tap: %+v", term)
	}
}

// TestTerminalJSON: a terminal saved with a pending purchase (the POS
// crashed after sending the debit) recovers it after loading.
func TestTerminalJSON(t *testing.T) {
	is := issuer(t, secret)
	term := terminal(is, termID)
	c := newCard(t, is, uidA, 5000)
	tear(t, term, c, 1250, when)
	b, err := json.Marshal(term)
	if err != nil {
		t.Fatal(err)
	}
	loaded := &purse.Terminal{SAM: is.SAM(termID)}
	if err := json.Unmarshal(b, loaded); err != nil {
		t.Fatal(err)
	}
	res, err := loaded.Tap(c, 1250, when.Add(time.Minute))
	if err != nil || !res.Recovered || c.Balance != 3750 {
		t.Fatalf("tap after reload: %+v, %v, balance %d (JSON %s)", res, err, c.Balance, b)
	}
	if err := is.VerifyRecord(res.Record); err != nil {
		t.Error(err)
	}
}
