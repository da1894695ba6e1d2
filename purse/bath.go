package purse

import "time"

// A bath (seed 001, Part 04) is a compound purchase: the water controller
// pre-debits the card (1 yuan by default), the water runs, and when the
// cardholder stops — or the pre-debit is used up — the same controller
// writes the unused part back and the card signs one TAC for what was
// used. In key mode the controller takes another pre-debit when one is
// used up. A controller is offline, so the write-back cannot be a load
// (which needs the issuer): it is the settlement of the card's own open
// compound record, authorised by the controller's SAM and never more than
// the card holds back for that bath.

// BathSession is a bath in progress on a card.
type BathSession struct {
	Terminal TerminalID `json:"terminal"`
	Seq      uint32     `json:"seq"`     // the controller's sequence for this bath; its record carries it
	Held     int64      `json:"held"`    // pre-debited so far, fen
	Random   Random     `json:"random"`  // the card's challenge, fixed for the whole bath
	Counter  uint16     `json:"counter"` // the offline counter when the bath began (binds the session key)
}

// BathInit is the card's answer to INITIALIZE FOR COMPOUND: what the
// controller's SAM needs to pre-debit or to settle.
type BathInit struct {
	Balance int64  `json:"balance"`
	Held    int64  `json:"held"`    // already pre-debited in this bath; 0 for a new one
	Seq     uint32 `json:"seq"`     // this bath's sequence; 0 for a new one (the controller picks it)
	Counter uint16 `json:"counter"` // binds the session key
	Random  Random `json:"random"`
}

// BathStep is the card's answer to a pre-debit.
type BathStep struct {
	Held         int64 `json:"held"` // pre-debited in this bath after this step
	BalanceAfter int64 `json:"balance_after"`
	MAC2         MAC   `json:"mac2"`
}

// BathResult is the card's answer to a settlement.
type BathResult struct {
	Used          int64  `json:"used"`
	BalanceBefore int64  `json:"balance_before"` // the balance as if nothing had been pre-debited
	BalanceAfter  int64  `json:"balance_after"`
	Counter       uint16 `json:"counter"` // 0 when nothing was used: no transaction, no record
	MAC2          MAC    `json:"mac2"`
	TAC           TAC    `json:"tac"`
}

// InitBath opens a pre-debit or settlement with a water controller. A card
// with a bath in progress at another controller refuses (ErrBathElsewhere);
// a locked card may still settle, but begins no new bath.
func (c *Card) InitBath(terminal TerminalID) (*BathInit, error) {
	c.session = nil
	if b := c.Bath; b != nil {
		if b.Terminal != terminal {
			return nil, ErrBathElsewhere
		}
		c.session = &session{typ: TypeCompound, terminal: terminal, random: b.Random, counter: b.Counter}
		return &BathInit{Balance: c.Balance, Held: b.Held, Seq: b.Seq, Counter: b.Counter, Random: b.Random}, nil
	}
	switch {
	case c.Blacklisted:
		return nil, ErrBlacklisted
	case counterExhausted(c.OfflineCounter):
		return nil, ErrCounter
	}
	r, err := c.newRandom()
	if err != nil {
		return nil, err
	}
	c.session = &session{typ: TypeCompound, terminal: terminal, random: r, counter: c.OfflineCounter}
	return &BathInit{Balance: c.Balance, Seq: 0, Counter: c.OfflineCounter, Random: r}, nil
}

// PreDebit takes amount fen from the purse into the bath opened by
// InitBath, with the controller's MAC1 over the amount and what is held
// already. seq is the bath's sequence (the one InitBath gave, or for a new
// bath the controller's next).
func (c *Card) PreDebit(amount int64, seq uint32, mac1 MAC, when time.Time) (*BathStep, error) {
	s := c.take(TypeCompound)
	if s == nil {
		return nil, ErrNoTransaction
	}
	held := int64(0)
	if c.Bath != nil {
		held = c.Bath.Held
		if seq != c.Bath.Seq {
			return nil, ErrBadMAC1
		}
	}
	key := purchaseSessionKey(c.Keys.Purchase, s.random, s.counter, seq)
	if !equalMAC(mac1, bathMAC1(key, amount, held, s.terminal, when)) {
		return nil, ErrBadMAC1
	}
	switch {
	case !validAmount(amount):
		return nil, ErrAmount
	case c.Blacklisted:
		return nil, ErrBlacklisted
	case amount > c.Balance:
		return nil, ErrInsufficient
	}
	c.Balance -= amount
	c.Bath = &BathSession{Terminal: s.terminal, Seq: seq, Held: held + amount, Random: s.random, Counter: s.counter}
	return &BathStep{Held: c.Bath.Held, BalanceAfter: c.Balance, MAC2: bathMAC2(key, amount, c.Bath.Held, c.Balance)}, nil
}

// SettleBath ends the bath opened by InitBath: it checks the controller's
// MAC1 over what was used and what is held, writes the unused part back
// and, if anything was used, counts one transaction and signs its TAC.
func (c *Card) SettleBath(used int64, mac1 MAC, when time.Time) (*BathResult, error) {
	s := c.take(TypeCompound)
	b := c.Bath
	if s == nil || b == nil || b.Terminal != s.terminal {
		return nil, ErrNoTransaction
	}
	key := purchaseSessionKey(c.Keys.Purchase, b.Random, b.Counter, b.Seq)
	if !equalMAC(mac1, settleMAC1(key, used, b.Held, s.terminal, when)) {
		return nil, ErrBadMAC1
	}
	if used < 0 || used > b.Held {
		return nil, ErrAmount
	}
	res := &BathResult{Used: used, BalanceBefore: c.Balance + b.Held, BalanceAfter: c.Balance + b.Held - used}
	res.MAC2 = settleMAC2(key, used, res.BalanceAfter)
	if used > 0 {
		if counterExhausted(c.OfflineCounter) {
			return nil, ErrCounter
		}
		res.Counter = c.OfflineCounter + 1
		f := tacFields{typ: TypeCompound, amount: used, balanceAfter: res.BalanceAfter, counter: res.Counter,
			terminal: s.terminal, seq: b.Seq, when: when}
		res.TAC = f.tac(c.Keys.TAC)
		c.OfflineCounter = res.Counter
		c.LastPurchase = &PurchaseResult{Counter: res.Counter, BalanceAfter: res.BalanceAfter, MAC2: res.MAC2, TAC: res.TAC}
	}
	c.Balance = res.BalanceAfter
	c.Bath = nil
	return res, nil
}

func (s *SAM) bathKey(uid UID, init *BathInit, seq uint32) Key {
	return purchaseSessionKey(cardKey(s.master, uid), init.Random, init.Counter, seq)
}

// BathMAC1 authorises a pre-debit of amount fen into the bath the card
// opened with init, under the bath's sequence seq.
func (s *SAM) BathMAC1(uid UID, init *BathInit, amount int64, seq uint32, when time.Time) MAC {
	return bathMAC1(s.bathKey(uid, init, seq), amount, init.Held, s.terminal, when)
}

// VerifyBathMAC2 checks the card's answer to a pre-debit.
func (s *SAM) VerifyBathMAC2(uid UID, init *BathInit, amount int64, seq uint32, step *BathStep) error {
	want := bathMAC2(s.bathKey(uid, init, seq), amount, init.Held+amount, step.BalanceAfter)
	if !equalMAC(step.MAC2, want) || step.Held != init.Held+amount || step.BalanceAfter != init.Balance-amount {
		return ErrBadMAC2
	}
	return nil
}

// SettleMAC1 authorises the settlement of the bath the card opened with
// init: used fen kept, the rest of what it holds written back.
func (s *SAM) SettleMAC1(uid UID, init *BathInit, used int64, when time.Time) MAC {
	return settleMAC1(s.bathKey(uid, init, init.Seq), used, init.Held, s.terminal, when)
}

// VerifySettleMAC2 checks the card's answer to a settlement.
func (s *SAM) VerifySettleMAC2(uid UID, init *BathInit, used int64, res *BathResult) error {
	want := settleMAC2(s.bathKey(uid, init, init.Seq), used, res.BalanceAfter)
	if !equalMAC(res.MAC2, want) || res.Used != used || res.BalanceAfter != init.Balance+init.Held-used {
		return ErrBadMAC2
	}
	return nil
}
