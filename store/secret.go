package store

import (
	"crypto/hmac"
	"crypto/sha256"
)

// derive returns a subkey of the store secret for one purpose, so that the
// PIN pepper and the ID-number hash key are independent.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// idHash is the keyed hash of a normalised ID number: equal numbers match,
// and without the secret the 10^n possible numbers cannot be tried offline.
func (db *DB) idHash(idNumber string) []byte {
	m := hmac.New(sha256.New, db.idKey)
	m.Write([]byte(idNumber))
	return m.Sum(nil)
}
