package purse

import (
	"math"
	"time"
)

// Terminal is the purse side of a POS: its SAM, its transaction sequence and
// the purchase it sent to a card without seeing the answer. A POS persists
// it (the simulator as JSON; the SAM is provisioned separately) and keeps it
// across taps, so that a torn purchase is completed, not charged twice.
//
// A purchase is Begin (open it with the card, compute MAC1, remember it as
// pending) then Finish (send it to the card, check MAC2, make the record).
// Tap does both and first resolves a pending purchase. A test or the
// simulator models "the card debited but the terminal lost the answer" by
// calling Begin, then Card.Purchase with the pending MAC1, and dropping what
// the card returns.
type Terminal struct {
	SAM     *SAM     `json:"-"`
	Seq     uint32   `json:"seq"`               // the last terminal sequence used
	Pending *Pending `json:"pending,omitempty"` // a purchase sent to a card, answer not seen
}

// Pending is a purchase a terminal sent to a card without seeing the answer.
type Pending struct {
	UID    UID          `json:"uid"`
	Number string       `json:"number"`
	Amount int64        `json:"amount"`
	Seq    uint32       `json:"seq"`
	Time   time.Time    `json:"time"`
	Init   PurchaseInit `json:"init"`
	MAC1   MAC          `json:"mac1"`
}

// TapResult is what one tap produced.
type TapResult struct {
	// Record is the purchase to upload; nil only with ErrUnresolved.
	Record *Record
	// Recovered: Record completes the purchase a previous tap lost the answer
	// of; the card was not charged again.
	Recovered bool
	// Abandoned is the pending purchase the terminal could not resolve
	// (with ErrUnresolved): the POS reports it, and the server learns from
	// the card's counter whether it happened.
	Abandoned *Pending
}

// Begin opens a purchase of amount fen with the card: INITIALIZE FOR
// PURCHASE, then MAC1 from the SAM under the next terminal sequence. The
// purchase is pending until Finish; a POS saves the Terminal before it sends
// the debit. With a purchase already pending it returns ErrPendingCard: Tap
// resolves that first.
func (t *Terminal) Begin(c *Card, amount int64, when time.Time) (*Pending, error) {
	switch {
	case t.Pending != nil:
		return nil, ErrPendingCard
	case t.Seq == math.MaxUint32:
		return nil, ErrCounter
	}
	init, err := c.InitPurchase(amount, t.SAM.TerminalID())
	if err != nil {
		return nil, err
	}
	t.Seq++
	when = unix(when)
	t.Pending = &Pending{
		UID: c.UID, Number: c.Number, Amount: amount, Seq: t.Seq, Time: when, Init: *init,
		MAC1: t.SAM.PurchaseMAC1(c.UID, init, amount, t.Seq, when),
	}
	return t.Pending, nil
}

// Finish sends the pending purchase to the card (DEBIT FOR PURCHASE), checks
// its MAC2 and returns the record to upload. Whatever the card answers, the
// purchase is no longer pending: a refusal means it did not happen.
func (t *Terminal) Finish(c *Card) (*Record, error) {
	p := t.Pending
	if p == nil || p.UID != c.UID {
		return nil, ErrNoTransaction
	}
	t.Pending = nil
	res, err := c.Purchase(p.MAC1, p.Seq, p.Time)
	if err != nil {
		return nil, err
	}
	return t.complete(p, res)
}

// complete checks the card's MAC2 and makes the record.
func (t *Terminal) complete(p *Pending, res *PurchaseResult) (*Record, error) {
	if err := t.SAM.VerifyMAC2(p.UID, &p.Init, p.Amount, p.Seq, res); err != nil {
		return nil, err
	}
	return &Record{
		Type:          TypePurchase,
		UID:           p.UID,
		Number:        p.Number,
		Counter:       res.Counter,
		TerminalID:    t.SAM.TerminalID(),
		TerminalSeq:   p.Seq,
		Amount:        p.Amount,
		BalanceBefore: p.Init.Balance,
		BalanceAfter:  res.BalanceAfter,
		Time:          p.Time,
		TAC:           res.TAC,
	}, nil
}

// Tap charges amount fen to the card. If a purchase on this card is pending,
// the tap is its retry: when the card shows it happened, Tap returns its
// record (Recovered) and charges nothing more; when it did not, Tap charges
// amount now. A pending purchase of another card makes Tap refuse with
// ErrPendingCard. If the card has done other purchases since, so that it
// cannot be told whether the pending one happened, Tap sets it aside
// (TapResult.Abandoned), charges nothing and returns ErrUnresolved; the next
// tap charges.
func (t *Terminal) Tap(c *Card, amount int64, when time.Time) (*TapResult, error) {
	if p := t.Pending; p != nil {
		if p.UID != c.UID {
			return nil, ErrPendingCard
		}
		rec, err := t.resolve(c, p)
		if err != nil {
			return &TapResult{Abandoned: p}, err
		}
		if rec != nil {
			return &TapResult{Record: rec, Recovered: true}, nil
		}
	}
	if _, err := t.Begin(c, amount, when); err != nil {
		return nil, err
	}
	rec, err := t.Finish(c)
	if err != nil {
		return nil, err
	}
	return &TapResult{Record: rec}, nil
}

// resolve settles the pending purchase p with the card: its record if the
// card did it, nil if it did not, ErrUnresolved if that cannot be told.
// p is no longer pending afterwards.
func (t *Terminal) resolve(c *Card, p *Pending) (*Record, error) {
	t.Pending = nil
	if c.OfflineCounter == p.Init.Counter {
		return nil, nil // the debit never reached the card
	}
	proof, ok := c.TransactionProof(p.Init.Counter + 1)
	if !ok {
		return nil, ErrUnresolved
	}
	rec, err := t.complete(p, proof)
	if err != nil {
		return nil, nil // purchase Counter+1 was another terminal's: ours never happened
	}
	return rec, nil
}
