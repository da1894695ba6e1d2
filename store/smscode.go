package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/onecard-campus/onecard"
)

// Rules of SMS verification codes.
const (
	smsCodeLife     = 5 * time.Minute // how long a code is good
	smsCodeInterval = time.Minute     // the least time between two codes of one purpose
	smsCodeTries    = 5               // wrong tries that kill a code
)

// IssueSMSCode implements onecard.PaymentStore. A new code replaces the
// last one of the purpose. Only a keyed hash is stored: whoever reads the
// database cannot confirm a bank top-up with it.
func (db *DB) IssueSMSCode(ctx context.Context, cardholderID int64, purpose string) (string, string, error) {
	if !validCode(purpose) {
		return "", "", onecard.Errorf(onecard.EINVALID, "An SMS code's purpose is 2 to 32 lowercase letters, digits, hyphens or underscores.")
	}
	r, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", "", fmt.Errorf("store: unable to make an SMS code: %w", err)
	}
	code := fmt.Sprintf("%06d", r.Int64())
	var phone string
	err = db.Write(ctx, func(tx *Tx) error {
		h, err := findCardholder(ctx, tx, "", cardholderID)
		if err != nil {
			return err
		}
		if h.Status == onecard.CardholderClosed {
			return onecard.Errorf(onecard.ECONFLICT, "The account of %s is closed.", h.Number)
		}
		if h.Phone == "" {
			return onecard.Errorf(onecard.ECONFLICT, "No mobile phone is registered for this card; add one first.")
		}
		var last int64
		err = tx.queryRow(ctx, `SELECT created_at FROM sms_codes WHERE cardholder_id = ? AND purpose = ?`+tx.forUpdate(),
			h.ID, purpose).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: unable to load SMS code: %w", err)
		}
		if last > micro(tx.now.Add(-smsCodeInterval)) {
			return onecard.Errorf(onecard.ERATELIMIT, "A code was sent less than a minute ago; please wait before asking again.")
		}
		if _, err := tx.exec(ctx, `INSERT INTO sms_codes (cardholder_id, purpose, code_hash, attempts, created_at, expires_at, used_at)
			VALUES (?, ?, ?, 0, ?, ?, 0) ON CONFLICT (cardholder_id, purpose) DO UPDATE SET code_hash = excluded.code_hash,
			attempts = 0, created_at = excluded.created_at, expires_at = excluded.expires_at, used_at = 0`,
			h.ID, purpose, db.smsCodeHash(h.ID, purpose, code), micro(tx.now), micro(tx.now.Add(smsCodeLife))); err != nil {
			return fmt.Errorf("store: unable to store SMS code: %w", err)
		}
		phone = h.Phone
		return tx.audit(ctx, auditEvent{Action: "sms.code_issued", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: h.ID,
			Detail: purpose})
	})
	if err != nil {
		return "", "", err
	}
	return code, phone, nil
}

// CheckSMSCode implements onecard.PaymentStore. A wrong code is counted in
// a transaction that commits even though the caller gets EWRONGPIN, and the
// row is read under lock, so parallel guesses are judged one at a time and
// a code takes at most smsCodeTries of them.
func (db *DB) CheckSMSCode(ctx context.Context, cardholderID int64, purpose, code string) error {
	if len(code) != 6 {
		return onecard.Errorf(onecard.EINVALID, "A verification code is 6 digits.")
	}
	if _, err := strconv.ParseUint(code, 10, 32); err != nil {
		return onecard.Errorf(onecard.EINVALID, "A verification code is 6 digits.")
	}
	var wrong error
	err := db.Write(ctx, func(tx *Tx) error {
		wrong = nil
		var hash []byte
		var attempts int
		var expires, used int64
		err := tx.queryRow(ctx, `SELECT code_hash, attempts, expires_at, used_at FROM sms_codes WHERE cardholder_id = ? AND purpose = ?`+
			tx.forUpdate(), cardholderID, purpose).Scan(&hash, &attempts, &expires, &used)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return onecard.Errorf(onecard.EINVALID, "No verification code was sent; ask for one.")
		case err != nil:
			return fmt.Errorf("store: unable to load SMS code: %w", err)
		case used != 0:
			return onecard.Errorf(onecard.EINVALID, "This verification code was already used; ask for a new one.")
		case attempts >= smsCodeTries:
			return onecard.Errorf(onecard.EINVALID, "Too many wrong codes; ask for a new one.")
		case expires <= micro(tx.now):
			return onecard.Errorf(onecard.EINVALID, "The verification code has expired; ask for a new one.")
		}
		if hmac.Equal(hash, db.smsCodeHash(cardholderID, purpose, code)) {
			_, err := tx.exec(ctx, `UPDATE sms_codes SET used_at = ? WHERE cardholder_id = ? AND purpose = ?`, micro(tx.now), cardholderID, purpose)
			return err
		}
		attempts++
		if _, err := tx.exec(ctx, `UPDATE sms_codes SET attempts = ? WHERE cardholder_id = ? AND purpose = ?`,
			attempts, cardholderID, purpose); err != nil {
			return fmt.Errorf("store: unable to count a wrong code: %w", err)
		}
		switch left := smsCodeTries - attempts; left {
		case 0:
			wrong = onecard.Errorf(onecard.EWRONGPIN, "Wrong verification code; no attempts left, ask for a new one.")
			h, err := findCardholder(ctx, tx, "", cardholderID)
			if err != nil {
				return err
			}
			return tx.auditAs(ctx, actorSystem, 0, auditEvent{Action: "sms.code_dead", SchoolID: h.SchoolID, TargetType: "cardholder",
				TargetID: cardholderID, Detail: purpose})
		case 1:
			wrong = onecard.Errorf(onecard.EWRONGPIN, "Wrong verification code; 1 attempt left.")
		default:
			wrong = onecard.Errorf(onecard.EWRONGPIN, "Wrong verification code; %d attempts left.", left)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return wrong
}

// smsCodeHash is a keyed hash of a code for one cardholder and purpose, so
// that a stored hash matches nothing else: six digits are too few to keep
// unkeyed.
func (db *DB) smsCodeHash(cardholderID int64, purpose, code string) []byte {
	m := hmac.New(sha256.New, derive(db.secret, "onecard sms code v1"))
	fmt.Fprintf(m, "%d\x00%s\x00%s", cardholderID, purpose, code)
	return m.Sum(nil)
}
