package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/onecard-campus/onecard"
)

var _ onecard.SSOService = (*DB)(nil)

// SSOConfig implements onecard.SSOService.
func (db *DB) SSOConfig(ctx context.Context, schoolID int64) (*onecard.SSOConfig, error) {
	return findSSOConfig(ctx, db, db, schoolID)
}

func findSSOConfig(ctx context.Context, db *DB, q querier, schoolID int64) (*onecard.SSOConfig, error) {
	c := &onecard.SSOConfig{SchoolID: schoolID}
	var sealed []byte
	err := q.queryRow(ctx, `SELECT kind, cas_url, issuer, client_id, client_secret, user_claim FROM school_sso WHERE school_id = ?`,
		schoolID).Scan(&c.Kind, &c.CASURL, &c.Issuer, &c.ClientID, &sealed, &c.UserClaim)
	if err != nil {
		return nil, notFound(err, "unable to load unified identity login", "School %d has no unified identity login.", schoolID)
	}
	if len(sealed) > 0 {
		secret, err := db.openSSOSecret(schoolID, sealed)
		if err != nil {
			return nil, err
		}
		c.ClientSecret = string(secret)
	}
	return c, nil
}

// SetSSOConfig implements onecard.SSOService. The audit entry names the
// provider and the client, never the secret: operators read the audit log.
func (db *DB) SetSSOConfig(ctx context.Context, c *onecard.SSOConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	sealed := []byte{}
	if c.ClientSecret != "" {
		var err error
		if sealed, err = db.sealSSOSecret(c.SchoolID, []byte(c.ClientSecret)); err != nil {
			return err
		}
	}
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.school(ctx, c.SchoolID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO school_sso (school_id, kind, cas_url, issuer, client_id, client_secret, user_claim, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (school_id) DO UPDATE SET kind = excluded.kind, cas_url = excluded.cas_url, issuer = excluded.issuer,
				client_id = excluded.client_id, client_secret = excluded.client_secret, user_claim = excluded.user_claim,
				updated_at = excluded.updated_at`,
			c.SchoolID, c.Kind, c.CASURL, c.Issuer, c.ClientID, sealed, c.UserClaim, micro(tx.now))
		if err != nil {
			return fmt.Errorf("store: unable to store unified identity login: %w", err)
		}
		detail := c.Kind + " " + c.CASURL
		if c.Kind == onecard.SSOOIDC {
			detail = c.Kind + " " + c.Issuer + " client " + c.ClientID + " claim " + c.UserClaim
		}
		return tx.audit(ctx, auditEvent{Action: "school.set_sso", SchoolID: c.SchoolID, TargetType: "school", TargetID: c.SchoolID,
			Detail: detail})
	})
}

// RemoveSSOConfig implements onecard.SSOService. Sessions opened through
// the provider stay valid: turning the login off is no reason to log
// everyone out.
func (db *DB) RemoveSSOConfig(ctx context.Context, schoolID int64) error {
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM school_sso WHERE school_id = ?`, schoolID)
		if err != nil {
			return fmt.Errorf("store: unable to remove unified identity login: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return onecard.Errorf(onecard.ENOTFOUND, "School %d has no unified identity login.", schoolID)
		}
		return tx.audit(ctx, auditEvent{Action: "school.remove_sso", SchoolID: schoolID, TargetType: "school", TargetID: schoolID})
	})
}

// errSSONoCardholder is the one answer for an unknown number and a closed
// account. The identity provider knows people the card centre does not
// (staff without a card, alumni), so this is an ordinary refusal.
var errSSONoCardholder = onecard.Errorf(onecard.EUNAUTHORIZED,
	"Your unified identity account has no active campus card here. Log in with the card number and query PIN, or ask the card centre.")

// CardholderSession implements onecard.SSOService. It writes the session
// itself rather than through createSession so that the audit entry says
// which protocol vouched, in the same transaction as the session; the
// cardholder is read in that transaction too, so an account closed
// meanwhile gets no session.
func (db *DB) CardholderSession(ctx context.Context, schoolID int64, number, via string) (*onecard.Session, error) {
	num, err := onecard.NormalizeCardNumber(number)
	if err != nil {
		return nil, errSSONoCardholder
	}
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	token := base64.RawURLEncoding.EncodeToString(b[:])
	sess := &onecard.Session{Token: token}
	err = db.Write(ctx, func(tx *Tx) error {
		c, err := findSSOConfig(ctx, db, tx, schoolID)
		if onecard.ErrorCode(err) == onecard.ENOTFOUND || err == nil && c.Kind != via {
			// A bug in the caller, or a configuration changed while the
			// person was at the provider: either way no vouching counts.
			return onecard.Errorf(onecard.EUNAUTHORIZED, "This school does not log in through %q; log in with the card number and query PIN.", via)
		} else if err != nil {
			return err
		}
		h, err := scanCardholder(tx.queryRow(ctx, `SELECT `+cardholderColumns+` FROM cardholders WHERE school_id = ? AND number = ?`,
			schoolID, num))
		if errors.Is(err, sql.ErrNoRows) {
			return errSSONoCardholder
		} else if err != nil {
			return fmt.Errorf("store: unable to load cardholder: %w", err)
		}
		if h.Status == onecard.CardholderClosed {
			return errSSONoCardholder
		}
		sess.Cardholder, sess.ExpiresAt = h, tx.now.Add(CardholderSessionTTL)
		id, err := tx.insertID(ctx, `INSERT INTO sessions (token_hash, operator_id, cardholder_id, created_at, expires_at)
			VALUES (?, 0, ?, ?, ?)`, tokenHash(token), h.ID, micro(tx.now), micro(sess.ExpiresAt))
		if err != nil {
			return fmt.Errorf("store: unable to create session: %w", err)
		}
		return tx.auditAs(ctx, actorCardholder, h.ID, auditEvent{Action: "cardholder.login", SchoolID: schoolID,
			TargetType: "cardholder", TargetID: h.ID, Detail: fmt.Sprintf("session %d via %s", id, via)})
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// sealSSOSecret encrypts a client secret with AES-256-GCM under a key
// derived from the store secret. The school ID is the associated data, so a
// sealed secret copied into another school's row does not open.
func (db *DB) sealSSOSecret(schoolID int64, secret []byte) ([]byte, error) {
	aead, err := db.ssoAEAD()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, secret, ssoSecretAD(schoolID)), nil
}

func (db *DB) openSSOSecret(schoolID int64, sealed []byte) ([]byte, error) {
	aead, err := db.ssoAEAD()
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("store: sealed client secret of school %d too short", schoolID)
	}
	n := aead.NonceSize()
	secret, err := aead.Open(nil, sealed[:n], sealed[n:], ssoSecretAD(schoolID))
	if err != nil {
		return nil, fmt.Errorf("store: unable to open the client secret of school %d (was the store secret changed?): %w", schoolID, err)
	}
	return secret, nil
}

func ssoSecretAD(schoolID int64) []byte {
	return []byte("onecard sso client secret school " + strconv.FormatInt(schoolID, 10))
}

func (db *DB) ssoAEAD() (cipher.AEAD, error) {
	block, err := aes.NewCipher(derive(db.secret, "onecard sso client secret seal v1"))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
