package purse

import "time"

// SAM is a terminal's secure access module (PSAM): the school's purchase
// master key and the terminal's id. It opens purchases with any card of the
// school and checks the card's MAC2, but holds no load or TAC key, so a
// terminal can neither load a card nor forge a transaction certificate.
// A SAM is safe for concurrent use.
type SAM struct {
	master   Key
	terminal TerminalID
}

// NewSAM returns the SAM of a terminal given the school's purchase master key
// (Issuer.PurchaseMasterKey).
func NewSAM(purchaseMaster Key, terminal TerminalID) *SAM {
	return &SAM{master: purchaseMaster, terminal: terminal}
}

// TerminalID returns the id of the terminal the SAM belongs to.
func (s *SAM) TerminalID() TerminalID { return s.terminal }

func (s *SAM) sessionKey(uid UID, init *PurchaseInit, seq uint32) Key {
	return purchaseSessionKey(cardKey(s.master, uid), init.Random, init.Counter, seq)
}

// PurchaseMAC1 computes MAC1 for a purchase of amount fen the card opened
// with init, as this terminal's transaction seq at time when (INIT SAM FOR
// PURCHASE). The card checks it before it debits.
func (s *SAM) PurchaseMAC1(uid UID, init *PurchaseInit, amount int64, seq uint32, when time.Time) MAC {
	return purchaseMAC1(s.sessionKey(uid, init, seq), amount, s.terminal, when)
}

// VerifyMAC2 checks the card's answer to a purchase the SAM opened with the
// same uid, init, amount and seq (CREDIT SAM FOR PURCHASE): the card debited
// amount and now holds res.BalanceAfter. It returns ErrBadMAC2 if not.
func (s *SAM) VerifyMAC2(uid UID, init *PurchaseInit, amount int64, seq uint32, res *PurchaseResult) error {
	want := purchaseMAC2(s.sessionKey(uid, init, seq), amount, res.BalanceAfter)
	if !equalMAC(res.MAC2, want) || res.Counter != init.Counter+1 || res.BalanceAfter != init.Balance-amount {
		return ErrBadMAC2
	}
	return nil
}
