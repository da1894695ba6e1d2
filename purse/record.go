package purse

import (
	"math"
	"time"
)

// Record is a transaction as a terminal uploads it to the server: what the
// card signed in its TAC, plus the card number and the balance before, which
// the issuer checks against the rest. The card number is not covered by the
// TAC (the UID is, through the card's key): the server looks the card up by
// UID and refuses a record whose number differs.
type Record struct {
	Type          Type       `json:"type"`
	UID           UID        `json:"uid"`
	Number        string     `json:"number"`
	Counter       uint16     `json:"counter"` // the transaction's number: the card's online (load) or offline (purchase) counter after it
	TerminalID    TerminalID `json:"terminal_id"`
	TerminalSeq   uint32     `json:"terminal_seq"` // 0 for a load
	Amount        int64      `json:"amount"`       // fen, positive
	BalanceBefore int64      `json:"balance_before"`
	BalanceAfter  int64      `json:"balance_after"`
	Time          time.Time  `json:"time"` // whole seconds: the TAC covers Unix seconds
	TAC           TAC        `json:"tac"`
}

// LoadRecord returns the record of a load opened with init and completed at
// time when with the given TAC, as a kiosk or online POS reports it.
func LoadRecord(uid UID, number string, init *LoadInit, amount int64, terminal TerminalID, when time.Time, tac TAC) *Record {
	return &Record{
		Type:          TypeLoad,
		UID:           uid,
		Number:        number,
		Counter:       init.Counter + 1,
		TerminalID:    terminal,
		Amount:        amount,
		BalanceBefore: init.Balance,
		BalanceAfter:  init.Balance + amount,
		Time:          unix(when),
		TAC:           tac,
	}
}

// VerifyRecord checks an uploaded record: that its balances add up
// (ErrBadRecord) and that its TAC is the one the card computed
// (ErrBadTAC). The server verifies every record before it moves money.
func (is *Issuer) VerifyRecord(rec *Record) error {
	if !rec.consistent() {
		return ErrBadRecord
	}
	f := tacFields{typ: rec.Type, amount: rec.Amount, balanceAfter: rec.BalanceAfter,
		counter: rec.Counter, terminal: rec.TerminalID, seq: rec.TerminalSeq, when: rec.Time}
	if !equalMAC(rec.TAC, f.tac(cardKey(is.m.tac, rec.UID))) {
		return ErrBadTAC
	}
	return nil
}

// consistent checks what needs no key, without overflow.
func (rec *Record) consistent() bool {
	if rec == nil || !validAmount(rec.Amount) || rec.Counter == 0 || rec.BalanceBefore < 0 || rec.BalanceAfter < 0 {
		return false
	}
	switch rec.Type {
	case TypeLoad:
		return rec.TerminalSeq == 0 && rec.BalanceBefore <= math.MaxInt64-rec.Amount &&
			rec.BalanceAfter == rec.BalanceBefore+rec.Amount
	case TypePurchase, TypeCompound:
		return rec.BalanceAfter == rec.BalanceBefore-rec.Amount
	}
	return false
}
