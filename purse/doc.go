// Package purse is the electronic purse of a OneCard card: the virtual card
// image and the crypto of a PBOC-style purse (JR/T 0025), with AES-CMAC
// (RFC 4493) in place of 3DES. It does no I/O, so the server, the device
// simulator and the tests share it.
//
// Three parties hold keys:
//
//   - the Issuer (the server) holds the school's three master keys (load,
//     purchase, TAC), derived from one 32-byte school secret;
//   - a Card holds its own three keys, diversified from the masters by its
//     UID at personalization;
//   - a SAM (a terminal's secure module) holds only the purchase master key,
//     so any terminal of the school can open a purchase with any card of the
//     school, but it can never compute or check a TAC: only the issuer can.
//
// A load (圈存) is authorised online: the card proves itself with MAC1, the
// issuer authorises exactly that amount with MAC2, the card credits and
// returns a TAC. A purchase (消费) works offline: the SAM opens it with
// MAC1, the card debits and returns MAC2 (for the SAM) and a TAC (for the
// issuer, carried in the terminal's Record). A Terminal completes a purchase
// whose answer it lost from the card's transaction proof instead of charging
// twice.
//
// keys.go documents the key derivation and mac.go the exact bytes every MAC
// and TAC covers.
package purse
