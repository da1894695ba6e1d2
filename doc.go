// Package onecard holds the domain of a campus one-card system (校园一卡通):
// schools and their settings, cardholders, cards, PINs, merchants and
// operators, the error codes every layer shares, and the service interfaces
// the HTTP API is written against. It imports only the standard library;
// storage, the ledger engine and transports live in subpackages named after
// what they wrap.
//
// Money is always int64 fen (分). The balance a cardholder sees is the sum of
// two ledger accounts: the purse (the server's shadow of the balance written
// on the card) and the transition account (过渡余额, money that has reached
// the account but not yet the card).
package onecard
