package purse

import "time"

// LoadInit is the card's answer to INITIALIZE FOR LOAD, sent to the issuer.
type LoadInit struct {
	Balance int64  `json:"balance"` // before the load
	Counter uint16 `json:"counter"` // the online counter before the load; this load will be Counter+1
	Random  Random `json:"random"`
	MAC1    MAC    `json:"mac1"` // the card proves itself and the balance, amount and terminal it saw
}

// LoadResult is the proof of a completed load the card keeps for
// LoadProof.
type LoadResult struct {
	Counter      uint16 `json:"counter"` // this load's number: the online counter after it
	BalanceAfter int64  `json:"balance_after"`
	TAC          TAC    `json:"tac"`
}

// InitLoad opens a load of amount fen at a terminal (INITIALIZE FOR LOAD).
// The load ends with Load; any other command in between cancels it.
func (c *Card) InitLoad(amount int64, terminal TerminalID) (*LoadInit, error) {
	c.session = nil
	switch {
	case !validAmount(amount):
		return nil, ErrAmount
	case amount > c.Ceiling-c.Balance:
		return nil, ErrCeiling
	case counterExhausted(c.OnlineCounter):
		return nil, ErrCounter
	}
	r, err := c.newRandom()
	if err != nil {
		return nil, err
	}
	key := loadSessionKey(c.Keys.Load, r, c.OnlineCounter)
	c.session = &session{typ: TypeLoad, amount: amount, terminal: terminal, random: r, counter: c.OnlineCounter}
	return &LoadInit{
		Balance: c.Balance,
		Counter: c.OnlineCounter,
		Random:  r,
		MAC1:    loadMAC1(key, c.Balance, amount, terminal),
	}, nil
}

// Load completes the open load with the issuer's MAC2 (CREDIT FOR LOAD): it
// checks MAC2, credits the balance, counts the load and returns its TAC. A
// wrong MAC2 ends the session, so each MAC2 gets one try.
func (c *Card) Load(mac2 MAC, when time.Time) (TAC, error) {
	s := c.take(TypeLoad)
	if s == nil {
		return TAC{}, ErrNoTransaction
	}
	key := loadSessionKey(c.Keys.Load, s.random, s.counter)
	if !equalMAC(mac2, loadMAC2(key, s.amount, s.terminal, when)) {
		return TAC{}, ErrBadMAC2
	}
	if s.amount > c.Ceiling-c.Balance {
		return TAC{}, ErrCeiling
	}
	f := tacFields{typ: TypeLoad, amount: s.amount, balanceAfter: c.Balance + s.amount,
		counter: s.counter + 1, terminal: s.terminal, when: when}
	tac := f.tac(c.Keys.TAC)
	c.Balance = f.balanceAfter
	c.OnlineCounter = f.counter
	c.LastLoad = &LoadResult{Counter: f.counter, BalanceAfter: f.balanceAfter, TAC: tac}
	return tac, nil
}

// LoadProof returns the TAC of load number counter if it was the card's
// last load: how a kiosk that lost the card's answer learns the load happened.
func (c *Card) LoadProof(counter uint16) (*LoadResult, bool) {
	c.session = nil
	if p := c.LastLoad; p != nil && p.Counter == counter && c.OnlineCounter == counter {
		cp := *p
		return &cp, true
	}
	return nil, false
}
