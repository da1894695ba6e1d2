package purse

import "time"

// PurchaseInit is the card's answer to INITIALIZE FOR PURCHASE, for the SAM.
type PurchaseInit struct {
	Balance int64  `json:"balance"` // before the purchase
	Counter uint16 `json:"counter"` // the offline counter before the purchase; this purchase will be Counter+1
	Random  Random `json:"random"`
}

// PurchaseResult is the card's answer to DEBIT FOR PURCHASE, and the proof
// it keeps of its last purchase.
type PurchaseResult struct {
	Counter      uint16 `json:"counter"` // this purchase's number: the offline counter after it
	BalanceAfter int64  `json:"balance_after"`
	MAC2         MAC    `json:"mac2"` // for the SAM: the card debited
	TAC          TAC    `json:"tac"`  // for the issuer, carried in the Record
}

// InitPurchase opens a purchase of amount fen at a terminal. It refuses a
// locked card and a balance below the amount. The purchase ends with
// Purchase; any other command in between cancels it.
func (c *Card) InitPurchase(amount int64, terminal TerminalID) (*PurchaseInit, error) {
	c.session = nil
	switch {
	case !validAmount(amount):
		return nil, ErrAmount
	case c.Blacklisted:
		return nil, ErrBlacklisted
	case amount > c.Balance:
		return nil, ErrInsufficient
	case counterExhausted(c.OfflineCounter):
		return nil, ErrCounter
	}
	r, err := c.newRandom()
	if err != nil {
		return nil, err
	}
	c.session = &session{typ: TypePurchase, amount: amount, terminal: terminal, random: r, counter: c.OfflineCounter}
	return &PurchaseInit{Balance: c.Balance, Counter: c.OfflineCounter, Random: r}, nil
}

// Purchase completes the open purchase with the SAM's MAC1 (DEBIT FOR
// PURCHASE): it checks MAC1, debits, counts the purchase, keeps the proof and
// returns MAC2 and the TAC. A wrong MAC1 ends the session.
func (c *Card) Purchase(mac1 MAC, seq uint32, when time.Time) (*PurchaseResult, error) {
	s := c.take(TypePurchase)
	if s == nil {
		return nil, ErrNoTransaction
	}
	key := purchaseSessionKey(c.Keys.Purchase, s.random, s.counter, seq)
	if !equalMAC(mac1, purchaseMAC1(key, s.amount, s.terminal, when)) {
		return nil, ErrBadMAC1
	}
	if s.amount > c.Balance {
		return nil, ErrInsufficient
	}
	f := tacFields{typ: TypePurchase, amount: s.amount, balanceAfter: c.Balance - s.amount,
		counter: s.counter + 1, terminal: s.terminal, seq: seq, when: when}
	res := &PurchaseResult{
		Counter:      f.counter,
		BalanceAfter: f.balanceAfter,
		MAC2:         purchaseMAC2(key, s.amount, f.balanceAfter),
		TAC:          f.tac(c.Keys.TAC),
	}
	c.Balance = f.balanceAfter
	c.OfflineCounter = f.counter
	last := *res
	c.LastPurchase = &last
	return res, nil
}

// TransactionProof returns MAC2 and the TAC of purchase number counter if it
// was the card's last purchase (GET TRANSACTION PROVE): how a terminal that
// lost the card's answer completes its record instead of charging again.
func (c *Card) TransactionProof(counter uint16) (*PurchaseResult, bool) {
	c.session = nil
	if p := c.LastPurchase; p != nil && p.Counter == counter && c.OfflineCounter == counter {
		cp := *p
		return &cp, true
	}
	return nil, false
}
