package store

import (
	"context"
	"fmt"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/password"
)

var _ onecard.PINService = (*DB)(nil)

// VerifyPIN implements onecard.PINService.
func (db *DB) VerifyPIN(ctx context.Context, cardholderID int64, kind onecard.PINKind, pin string) error {
	if !kind.Valid() {
		return onecard.Errorf(onecard.EINVALID, "PIN kind must be query or consumption.")
	}
	h, err := db.Cardholder(ctx, cardholderID)
	if err != nil {
		return err
	}
	return db.checkPIN(ctx, h, kind, pin)
}

// ChangePIN implements onecard.PINService. The old PIN is checked (and a
// wrong one counted) in its own transaction before the new one is stored.
func (db *DB) ChangePIN(ctx context.Context, cardholderID int64, kind onecard.PINKind, old, new string) error {
	if !kind.Valid() {
		return onecard.Errorf(onecard.EINVALID, "PIN kind must be query or consumption.")
	}
	if err := onecard.ValidatePIN(new); err != nil {
		return err
	}
	h, err := db.Cardholder(ctx, cardholderID)
	if err != nil {
		return err
	}
	if err := db.checkPIN(ctx, h, kind, old); err != nil {
		return err
	}
	hash, err := password.Hash(db.pepper, new)
	if err != nil {
		return fmt.Errorf("store: unable to hash PIN: %w", err)
	}
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `UPDATE pins SET hash = ?, failed_attempts = 0, locked_until = 0, changed_at = ?
			WHERE cardholder_id = ? AND kind = ?`, hash, micro(tx.now), h.ID, string(kind)); err != nil {
			return fmt.Errorf("store: unable to change PIN: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "pin.change", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: h.ID,
			Detail: string(kind)})
	})
}

// ResetPIN implements onecard.PINService.
func (db *DB) ResetPIN(ctx context.Context, cardholderID int64, kind onecard.PINKind, pin string) error {
	if !kind.Valid() {
		return onecard.Errorf(onecard.EINVALID, "PIN kind must be query or consumption.")
	}
	var hash string
	if pin != "" {
		if err := onecard.ValidatePIN(pin); err != nil {
			return err
		}
		var err error
		if hash, err = password.Hash(db.pepper, pin); err != nil {
			return fmt.Errorf("store: unable to hash PIN: %w", err)
		}
	}
	return db.Write(ctx, func(tx *Tx) error {
		h, err := findCardholder(ctx, tx, "", cardholderID)
		if err != nil {
			return err
		}
		set, args, detail := `hash = initial_hash`, []any{}, string(kind)+" to initial"
		if hash != "" {
			set, args, detail = `hash = ?`, []any{hash}, string(kind)+" to a new PIN"
		}
		args = append(args, micro(tx.now), h.ID, string(kind))
		if _, err := tx.exec(ctx, `UPDATE pins SET `+set+`, failed_attempts = 0, locked_until = 0, changed_at = ?
			WHERE cardholder_id = ? AND kind = ?`, args...); err != nil {
			return fmt.Errorf("store: unable to reset PIN: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "pin.reset", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: h.ID,
			Detail: detail})
	})
}

// checkPIN checks a cardholder's PIN under the school's lockout rule and
// turns the outcome into EWRONGPIN, ELOCKED or nil.
func (db *DB) checkPIN(ctx context.Context, h *onecard.Cardholder, kind onecard.PINKind, pin string) error {
	if err := onecard.ValidatePIN(pin); err != nil {
		return err
	}
	s, err := db.School(ctx, h.SchoolID)
	if err != nil {
		return err
	}
	a := attempt{
		table: "pins", hashColumn: "hash", where: "cardholder_id = ? AND kind = ?", args: []any{h.ID, string(kind)},
		max: s.Settings.PINMaxAttempts, lockout: time.Duration(s.Settings.PINLockout),
		onLock: func(ctx context.Context, tx *Tx) error {
			return tx.auditAs(ctx, actorSystem, 0, auditEvent{Action: "pin.locked", SchoolID: h.SchoolID, TargetType: "cardholder",
				TargetID: h.ID, Detail: string(kind)})
		},
	}
	r, err := db.checkSecret(ctx, a, pin)
	if err != nil {
		return err
	}
	loc := s.Settings.Location()
	switch {
	case !r.lockedUntil.IsZero():
		return onecard.Errorf(onecard.ELOCKED, "Too many wrong PINs; try again after %s.", r.lockedUntil.In(loc).Format("15:04"))
	case !r.ok && r.left == 1:
		return onecard.Errorf(onecard.EWRONGPIN, "Wrong PIN; 1 attempt left.")
	case !r.ok:
		return onecard.Errorf(onecard.EWRONGPIN, "Wrong PIN; %d attempts left.", r.left)
	}
	return nil
}

// attempt describes a secret (PIN or password) stored in a row that also
// counts failed_attempts and holds locked_until.
type attempt struct {
	table, hashColumn, where string
	args                     []any
	max                      int
	lockout                  time.Duration
	onLock                   func(ctx context.Context, tx *Tx) error // audits the lockout
}

type attemptResult struct {
	ok          bool
	left        int       // attempts left after a wrong one
	lockedUntil time.Time // set when locked: the secret was not (or no longer) judged
}

// checkSecret verifies plain against the stored hash with lockout. The slow
// hash runs outside any transaction; the verdict is then recorded in a
// write transaction that re-reads the row under lock, so parallel guesses
// are judged one at a time and none counts once the row is locked. The
// transaction commits the failure count even though the caller then
// returns an error. A missing row is ENOTFOUND.
func (db *DB) checkSecret(ctx context.Context, a attempt, plain string) (attemptResult, error) {
	var hash string
	var lockedUntil int64
	err := db.queryRow(ctx, `SELECT `+a.hashColumn+`, locked_until FROM `+a.table+` WHERE `+a.where, a.args...).Scan(&hash, &lockedUntil)
	if err != nil {
		return attemptResult{}, notFound(err, "unable to load "+a.table, "Not found.")
	}
	if now := db.Now(); lockedUntil > micro(now) {
		return attemptResult{lockedUntil: fromMicro(lockedUntil)}, nil
	}
	ok, err := password.Verify(db.pepper, hash, plain)
	if err != nil {
		return attemptResult{}, fmt.Errorf("store: unable to verify %s: %w", a.table, err)
	}
	var r attemptResult
	err = db.Write(ctx, func(tx *Tx) error {
		r = attemptResult{}
		var stored string
		var failed int
		err := tx.queryRow(ctx, `SELECT `+a.hashColumn+`, failed_attempts, locked_until FROM `+a.table+` WHERE `+a.where+tx.forUpdate(),
			a.args...).Scan(&stored, &failed, &lockedUntil)
		if err != nil {
			return notFound(err, "unable to load "+a.table, "Not found.")
		}
		if lockedUntil > micro(tx.now) {
			r.lockedUntil = fromMicro(lockedUntil)
			return nil
		}
		if stored != hash { // changed meanwhile (rare): judge against what is stored now
			if ok, err = password.Verify(db.pepper, stored, plain); err != nil {
				return fmt.Errorf("store: unable to verify %s: %w", a.table, err)
			}
		}
		if ok {
			r.ok = true
			if failed == 0 && lockedUntil == 0 {
				return nil
			}
			_, err := tx.exec(ctx, `UPDATE `+a.table+` SET failed_attempts = 0, locked_until = 0 WHERE `+a.where, a.args...)
			return err
		}
		failed++
		if failed >= a.max {
			r.lockedUntil = tx.now.Add(a.lockout)
			if _, err := tx.exec(ctx, `UPDATE `+a.table+` SET failed_attempts = 0, locked_until = ? WHERE `+a.where,
				append([]any{micro(r.lockedUntil)}, a.args...)...); err != nil {
				return fmt.Errorf("store: unable to lock %s: %w", a.table, err)
			}
			return a.onLock(ctx, tx)
		}
		r.left = a.max - failed
		if _, err := tx.exec(ctx, `UPDATE `+a.table+` SET failed_attempts = ? WHERE `+a.where,
			append([]any{failed}, a.args...)...); err != nil {
			return fmt.Errorf("store: unable to count a failed attempt: %w", err)
		}
		return nil
	})
	return r, err
}
