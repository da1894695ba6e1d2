package purse

import "time"

// Issuer is the card issuer (the server): it holds the school's three master
// keys, personalizes cards, authorises loads and verifies TACs. An Issuer is
// safe for concurrent use.
type Issuer struct {
	m masters
}

// NewIssuer derives the school's master keys from its SecretSize-byte purse
// secret. The secret must stay on the server; it returns ErrSecret if the
// size is wrong.
func NewIssuer(secret []byte) (*Issuer, error) {
	if len(secret) != SecretSize {
		return nil, ErrSecret
	}
	return &Issuer{m: deriveMasters(secret)}, nil
}

// CardKeys returns the keys of the card with the given UID.
func (is *Issuer) CardKeys(uid UID) CardKeys {
	return CardKeys{
		Load:     cardKey(is.m.load, uid),
		Purchase: cardKey(is.m.purchase, uid),
		TAC:      cardKey(is.m.tac, uid),
	}
}

// Personalize returns a new card image: empty purse, counters at zero, its
// keys diversified by uid. ceiling is the most the purse may hold, in fen.
func (is *Issuer) Personalize(uid UID, number string, ceiling int64) *Card {
	return &Card{UID: uid, Number: number, Ceiling: ceiling, Keys: is.CardKeys(uid)}
}

// PurchaseMasterKey returns the key a terminal's SAM is provisioned with.
func (is *Issuer) PurchaseMasterKey() Key { return is.m.purchase }

// SAM returns the SAM of a terminal of this school.
func (is *Issuer) SAM(terminal TerminalID) *SAM { return NewSAM(is.m.purchase, terminal) }

// AuthorizeLoad checks the card's MAC1 for a load of amount fen at terminal
// and returns MAC2, which authorises exactly that amount at time when. It
// returns ErrBadMAC1 if the card, amount, terminal or balance differ from
// what the card signed. The caller (the server) decides whether the load may
// happen at all: the card checks only its ceiling.
func (is *Issuer) AuthorizeLoad(uid UID, init *LoadInit, amount int64, terminal TerminalID, when time.Time) (MAC, error) {
	if !validAmount(amount) {
		return MAC{}, ErrAmount
	}
	key := loadSessionKey(cardKey(is.m.load, uid), init.Random, init.Counter)
	if !equalMAC(init.MAC1, loadMAC1(key, init.Balance, amount, terminal)) {
		return MAC{}, ErrBadMAC1
	}
	return loadMAC2(key, amount, terminal, when), nil
}

// VerifyLoadTAC checks the TAC a card returned for the load the issuer
// authorised with the same uid, init, amount, terminal and time. It returns
// ErrBadTAC if it does not match (ErrBadRecord for impossible values).
func (is *Issuer) VerifyLoadTAC(uid UID, init *LoadInit, amount int64, terminal TerminalID, when time.Time, tac TAC) error {
	return is.VerifyRecord(LoadRecord(uid, "", init, amount, terminal, when, tac))
}
