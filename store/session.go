package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/password"
)

var _ onecard.AuthService = (*DB)(nil)

// Session lifetimes. An operator's console session lasts a working day. A
// cardholder's lasts a week: long enough that the app opened from WeChat or
// Alipay does not ask for the PIN every day, short enough that a lost phone
// does not stay logged in for a month (a loss report or PIN change revokes
// sessions at once anyway).
const (
	OperatorSessionTTL   = 12 * time.Hour
	CardholderSessionTTL = 7 * 24 * time.Hour
)

// Operator lockout: five wrong passwords lock the account for 15 minutes.
const (
	operatorMaxAttempts = 5
	operatorLockout     = 15 * time.Minute
)

var errBadLogin = onecard.Errorf(onecard.EUNAUTHORIZED, "Wrong username or password.")

// LoginOperator implements onecard.AuthService. An unknown username costs
// the same hash as a wrong password and gets the same message.
func (db *DB) LoginOperator(ctx context.Context, username, pass string) (*onecard.Session, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	o, err := findOperator(ctx, db, `username = ?`, username)
	if onecard.ErrorCode(err) == onecard.ENOTFOUND {
		password.Verify(db.pepper, dummyOperatorHash(), pass)
		return nil, errBadLogin
	} else if err != nil {
		return nil, err
	}
	if err := db.checkOperatorPassword(ctx, o, pass); err != nil {
		if onecard.ErrorCode(err) == onecard.EUNAUTHORIZED {
			return nil, errBadLogin
		}
		return nil, err
	}
	if o.Disabled {
		return nil, onecard.Errorf(onecard.EUNAUTHORIZED, "This account is disabled.")
	}
	return db.createSession(ctx, o, nil)
}

// dummyOperatorHash is verified for unknown usernames so that a login's
// time does not tell whether the user exists.
var dummyOperatorHash = sync.OnceValue(func() string {
	h, _ := password.HashWith(password.Operator, []byte("dummy pepper"), "dummy password")
	return h
})

// LoginCardholder implements onecard.AuthService. A cardholder whose card
// is lost can still log in (to unlock it); a closed account cannot.
func (db *DB) LoginCardholder(ctx context.Context, schoolCode, number, pin string) (*onecard.Session, error) {
	s, err := db.SchoolByCode(ctx, schoolCode)
	if onecard.ErrorCode(err) == onecard.ENOTFOUND {
		return nil, onecard.Errorf(onecard.EUNAUTHORIZED, "Unknown school %q.", schoolCode)
	} else if err != nil {
		return nil, err
	}
	h, err := db.CardholderByNumber(ctx, s.ID, number)
	switch onecard.ErrorCode(err) {
	case "":
	case onecard.ENOTFOUND, onecard.EINVALID:
		return nil, onecard.Errorf(onecard.EUNAUTHORIZED, "No cardholder has card number %q at %s.", number, s.Name)
	default:
		return nil, err
	}
	if h.Status == onecard.CardholderClosed {
		return nil, onecard.Errorf(onecard.EUNAUTHORIZED, "The account of %s is closed.", h.Number)
	}
	if err := db.checkPIN(ctx, h, onecard.QueryPIN, pin); err != nil {
		if onecard.ErrorCode(err) == onecard.EINVALID {
			return nil, onecard.Errorf(onecard.EWRONGPIN, "Wrong PIN: a PIN is exactly six digits.")
		}
		return nil, err
	}
	return db.createSession(ctx, nil, h)
}

// createSession stores a new session for an operator or a cardholder and
// returns its token, which exists nowhere else.
func (db *DB) createSession(ctx context.Context, o *onecard.Operator, h *onecard.Cardholder) (*onecard.Session, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("store: unable to make a session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	sess := &onecard.Session{Token: token, Operator: o, Cardholder: h}
	err := db.Write(ctx, func(tx *Tx) error {
		var operatorID, cardholderID, schoolID int64
		e := auditEvent{}
		ttl := OperatorSessionTTL
		if o != nil {
			operatorID, schoolID = o.ID, o.SchoolID
			e = auditEvent{Action: "operator.login", SchoolID: schoolID, TargetType: "operator", TargetID: o.ID}
		} else {
			cardholderID, schoolID, ttl = h.ID, h.SchoolID, CardholderSessionTTL
			e = auditEvent{Action: "cardholder.login", SchoolID: schoolID, TargetType: "cardholder", TargetID: h.ID}
		}
		sess.ExpiresAt = tx.now.Add(ttl)
		id, err := tx.insertID(ctx, `INSERT INTO sessions (token_hash, operator_id, cardholder_id, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, tokenHash(token), operatorID, cardholderID, micro(tx.now), micro(sess.ExpiresAt))
		if err != nil {
			return fmt.Errorf("store: unable to create session: %w", err)
		}
		e.Detail = fmt.Sprintf("session %d", id)
		if o != nil {
			return tx.auditAs(ctx, actorOperator, o.ID, e)
		}
		return tx.auditAs(ctx, actorCardholder, h.ID, e)
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

var errSessionExpired = onecard.Errorf(onecard.EUNAUTHORIZED, "Your session has ended; please log in again.")

// Authenticate implements onecard.AuthService. The operator or cardholder
// is loaded fresh on every call, so disabling an operator or closing an
// account takes effect at once.
func (db *DB) Authenticate(ctx context.Context, token string) (*onecard.Principal, error) {
	if token == "" {
		return nil, errSessionExpired
	}
	var id, operatorID, cardholderID, expires, revoked int64
	err := db.queryRow(ctx, `SELECT id, operator_id, cardholder_id, expires_at, revoked_at FROM sessions WHERE token_hash = ?`,
		tokenHash(token)).Scan(&id, &operatorID, &cardholderID, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errSessionExpired
	} else if err != nil {
		return nil, fmt.Errorf("store: unable to load session: %w", err)
	}
	if revoked != 0 || expires <= micro(db.Now()) {
		return nil, errSessionExpired
	}
	p := &onecard.Principal{SessionID: id}
	if operatorID != 0 {
		o, err := findOperator(ctx, db, `id = ?`, operatorID)
		if onecard.ErrorCode(err) == onecard.ENOTFOUND {
			return nil, errSessionExpired
		} else if err != nil {
			return nil, err
		}
		if o.Disabled {
			return nil, onecard.Errorf(onecard.EUNAUTHORIZED, "This account is disabled.")
		}
		p.Operator = o
		return p, nil
	}
	h, err := db.Cardholder(ctx, cardholderID)
	if onecard.ErrorCode(err) == onecard.ENOTFOUND {
		return nil, errSessionExpired
	} else if err != nil {
		return nil, err
	}
	if h.Status == onecard.CardholderClosed {
		return nil, onecard.Errorf(onecard.EUNAUTHORIZED, "The account of %s is closed.", h.Number)
	}
	p.Cardholder = h
	return p, nil
}

// Logout implements onecard.AuthService. An unknown or already ended
// session is not an error.
func (db *DB) Logout(ctx context.Context, token string) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at = 0`, micro(tx.now), tokenHash(token))
		if err != nil {
			return fmt.Errorf("store: unable to end session: %w", err)
		}
		return nil
	})
}

// RevokeCardholderSessions implements onecard.AuthService.
func (db *DB) RevokeCardholderSessions(ctx context.Context, cardholderID int64) error {
	return db.Write(ctx, func(tx *Tx) error {
		h, err := findCardholder(ctx, tx, "", cardholderID)
		if err != nil {
			return err
		}
		if err := tx.revokeCardholderSessions(ctx, cardholderID); err != nil {
			return err
		}
		return tx.audit(ctx, auditEvent{Action: "cardholder.revoke_sessions", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: h.ID})
	})
}

func (tx *Tx) revokeCardholderSessions(ctx context.Context, cardholderID int64) error {
	_, err := tx.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE cardholder_id = ? AND revoked_at = 0`, micro(tx.now), cardholderID)
	if err != nil {
		return fmt.Errorf("store: unable to revoke sessions: %w", err)
	}
	return nil
}

// tokenHash is what is stored of a token: tokens are 256 random bits, so a
// plain SHA-256 is enough (no salt, no cost) and lets the lookup use an index.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
