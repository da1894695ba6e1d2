package purse

import "time"

// DefaultPreDebit is what a water controller takes from the card at a time
// unless set otherwise: 1 yuan (seed 001).
const DefaultPreDebit = 100

// BathController is the purse side of a water controller (控水器). Both
// modes of seed 001 are sequences of its two calls:
//
//   - insert and remove: the first insert pre-debits; the next insert of
//     the same card settles (the water also stops by itself once the
//     pre-debit is used up);
//   - key mode: the card stays in; insert pre-debits, each time the
//     pre-debit is used up PreDebit again takes another, and a double press
//     settles.
//
// The controller persists Seq (the simulator keeps it as JSON); the SAM is
// provisioned separately. Price and the meter are the controller's: it
// turns litres or seconds into fen with Cost.
type BathController struct {
	SAM      *SAM   `json:"-"`
	Seq      uint32 `json:"seq"`       // the last bath sequence used
	PreDebit int64  `json:"pre_debit"` // fen per pre-debit; DefaultPreDebit if 0
	Price    int64  `json:"price"`     // fen per unit of water
	Unit     string `json:"unit"`      // "litre" or "second"
}

// Cost is what units of water cost, in fen.
func (b *BathController) Cost(units int64) int64 { return units * b.Price }

// Open reports the bath in progress on the card at this controller, if any.
func (b *BathController) Open(c *Card) *BathSession {
	if c.Bath != nil && c.Bath.Terminal == b.SAM.TerminalID() {
		return c.Bath
	}
	return nil
}

// Debit pre-debits the card: it begins a bath, or in key mode adds to the
// one in progress. It takes PreDebit, or what is left on the card if less
// (the water then runs for less), and refuses an empty card.
func (b *BathController) Debit(c *Card, when time.Time) (*BathStep, error) {
	init, err := c.InitBath(b.SAM.TerminalID())
	if err != nil {
		return nil, err
	}
	seq := init.Seq
	if init.Held == 0 {
		if b.Seq == ^uint32(0) {
			return nil, ErrCounter
		}
		seq = b.Seq + 1
	}
	amount := b.PreDebit
	if amount <= 0 {
		amount = DefaultPreDebit
	}
	amount = min(amount, init.Balance)
	if amount <= 0 {
		return nil, ErrInsufficient
	}
	step, err := c.PreDebit(amount, seq, b.SAM.BathMAC1(c.UID, init, amount, seq, when), when)
	if err != nil {
		return nil, err
	}
	if err := b.SAM.VerifyBathMAC2(c.UID, init, amount, seq, step); err != nil {
		return nil, err
	}
	b.Seq = max(b.Seq, seq)
	return step, nil
}

// Settle ends the bath in progress at this controller: used fen (capped at
// what is held) are kept and the rest is written back. It returns the
// record to upload, or nil when no water was used.
func (b *BathController) Settle(c *Card, used int64, when time.Time) (*Record, error) {
	if b.Open(c) == nil {
		return nil, ErrNoTransaction
	}
	init, err := c.InitBath(b.SAM.TerminalID())
	if err != nil {
		return nil, err
	}
	used = max(0, min(used, init.Held))
	when = when.Truncate(time.Second)
	res, err := c.SettleBath(used, b.SAM.SettleMAC1(c.UID, init, used, when), when)
	if err != nil {
		return nil, err
	}
	if err := b.SAM.VerifySettleMAC2(c.UID, init, used, res); err != nil {
		return nil, err
	}
	if used == 0 {
		return nil, nil
	}
	return &Record{Type: TypeCompound, UID: c.UID, Number: c.Number, Counter: res.Counter, TerminalID: b.SAM.TerminalID(),
		TerminalSeq: init.Seq, Amount: used, BalanceBefore: res.BalanceBefore, BalanceAfter: res.BalanceAfter, Time: when, TAC: res.TAC}, nil
}
