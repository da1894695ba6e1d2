package purse

import onecard "github.com/onecard-campus/onecard"

// Errors of the purse. They are *onecard.Error values, so the API maps them
// like any domain error; compare with errors.Is.
var (
	// ErrSecret: the school secret is not SecretSize bytes.
	ErrSecret = onecard.Errorf(onecard.EINVALID, "The school purse secret must be 32 bytes.")
	// ErrAmount: an amount is zero, negative or above onecard.MaxAmount.
	ErrAmount = onecard.Errorf(onecard.EINVALID, "The amount must be positive.")
	// ErrBadMAC1: MAC1 did not verify (the card to the issuer for a load, the
	// SAM to the card for a purchase).
	ErrBadMAC1 = onecard.Errorf(onecard.EINVALID, "MAC1 does not verify: wrong card, wrong key or changed data.")
	// ErrBadMAC2: MAC2 did not verify (the issuer to the card for a load, the
	// card to the SAM for a purchase).
	ErrBadMAC2 = onecard.Errorf(onecard.EINVALID, "MAC2 does not verify: wrong card, wrong key or changed data.")
	// ErrBadTAC: a transaction certificate does not match its record.
	ErrBadTAC = onecard.Errorf(onecard.EINVALID, "The transaction certificate (TAC) does not match the record.")
	// ErrBadRecord: a record is malformed before any crypto: unknown type,
	// balances that do not add up, counter zero.
	ErrBadRecord = onecard.Errorf(onecard.EINVALID, "The transaction record is inconsistent.")
	// ErrInsufficient: the card balance is below the purchase amount.
	ErrInsufficient = onecard.Errorf(onecard.EINSUFFICIENT, "The card balance is too low for this purchase.")
	// ErrCeiling: the load would take the balance above the card's ceiling.
	ErrCeiling = onecard.Errorf(onecard.ELIMIT, "This load would take the card balance above its ceiling.")
	// ErrBlacklisted: the card was locked by a terminal that found it on the
	// blacklist; it refuses purchases.
	ErrBlacklisted = onecard.Errorf(onecard.ECARDBLOCKED, "This card is locked (blacklisted). Please go to the card center.")
	// ErrCounter: a transaction counter (the card's or the terminal's) is
	// exhausted; the card or terminal must be replaced or reset by the issuer.
	ErrCounter = onecard.Errorf(onecard.ECONFLICT, "The transaction counter is exhausted.")
	// ErrNoTransaction: a Load or Purchase without the matching Init (or after
	// the session ended), or a Terminal.Finish with nothing pending.
	ErrNoTransaction = onecard.Errorf(onecard.ECONFLICT, "No transaction is in progress.")
	// ErrPendingCard: the terminal has an unfinished purchase: Tap was given
	// another card, or Begin was called before it was resolved.
	ErrPendingCard = onecard.Errorf(onecard.ECONFLICT, "This terminal has an unfinished purchase; tap the card it was for first.")
	// ErrUnresolved: the terminal cannot tell whether its unfinished purchase
	// happened (the card has done other purchases since); it gave it up.
	ErrUnresolved = onecard.Errorf(onecard.ECONFLICT, "The unfinished purchase on this card cannot be confirmed; it was set aside. Tap again to pay.")
	// ErrBathElsewhere: the card has a bath in progress at another water
	// controller; only that one can write the unused part back.
	ErrBathElsewhere = onecard.Errorf(onecard.ECONFLICT, "This card has a bath in progress at another water controller; insert it there first.")
)
