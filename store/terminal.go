package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
)

var _ onecard.TerminalService = (*DB)(nil)

const terminalColumns = `id, school_id, campus_id, merchant_id, kind, code, name, disabled, seq, last_seen_at, created_at`

// CreateTerminal implements onecard.TerminalService. The key is 32 random
// bytes, returned once for provisioning the device and stored sealed.
func (db *DB) CreateTerminal(ctx context.Context, t *onecard.Terminal) ([]byte, error) {
	t.Code = strings.ToLower(strings.TrimSpace(t.Code))
	if !validCode(t.Code) {
		return nil, onecard.Errorf(onecard.EINVALID, "A terminal code is 2 to 32 lowercase letters, digits, hyphens or underscores.")
	}
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || len([]rune(t.Name)) > 64 {
		return nil, onecard.Errorf(onecard.EINVALID, "A terminal name must be 1 to 64 characters.")
	}
	if !t.Kind.Valid() {
		return nil, onecard.Errorf(onecard.EINVALID, "Terminal kind must be pos, bath, kiosk, cash or replacement.")
	}
	key := make([]byte, 32)
	rand.Read(key)
	sealed, err := db.sealTerminalKey(key)
	if err != nil {
		return nil, err
	}
	err = db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.school(ctx, t.SchoolID); err != nil {
			return err
		}
		if err := campusOf(ctx, tx, t.SchoolID, t.CampusID); err != nil {
			return err
		}
		if t.MerchantID != 0 {
			m, err := findMerchant(ctx, tx, t.MerchantID)
			if err != nil {
				return err
			} else if m.SchoolID != t.SchoolID {
				return onecard.Errorf(onecard.EINVALID, "Merchant %d is not a merchant of this school.", t.MerchantID)
			}
		}
		id, err := tx.insertID(ctx, `INSERT INTO terminals (school_id, campus_id, merchant_id, kind, code, name, sealed_key, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.SchoolID, t.CampusID, t.MerchantID, string(t.Kind), t.Code, t.Name, sealed, micro(tx.now))
		if isUniqueViolation(err) {
			return onecard.Errorf(onecard.ECONFLICT, "Terminal code %q is already taken at this school.", t.Code)
		} else if err != nil {
			return fmt.Errorf("store: unable to create terminal: %w", err)
		}
		t.ID, t.CreatedAt = id, tx.now
		return tx.audit(ctx, auditEvent{Action: "terminal.create", SchoolID: t.SchoolID, TargetType: "terminal", TargetID: id, Detail: t.Code})
	})
	if err != nil {
		return nil, err
	}
	return key, nil
}

// Terminal implements onecard.TerminalService.
func (db *DB) Terminal(ctx context.Context, id int64) (*onecard.Terminal, error) {
	t, _, err := scanTerminal(db.queryRow(ctx, `SELECT `+terminalColumns+`, sealed_key FROM terminals WHERE id = ?`, id))
	return t, notFound(err, "unable to load terminal", "Terminal %d does not exist.", id)
}

// Terminals implements onecard.TerminalService.
func (db *DB) Terminals(ctx context.Context, schoolID int64) ([]*onecard.Terminal, error) {
	rows, err := db.query(ctx, `SELECT `+terminalColumns+`, sealed_key FROM terminals WHERE school_id = ? ORDER BY code`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list terminals: %w", err)
	}
	defer rows.Close()
	out := []*onecard.Terminal{}
	for rows.Next() {
		t, _, err := scanTerminal(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to list terminals: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetTerminalDisabled implements onecard.TerminalService.
func (db *DB) SetTerminalDisabled(ctx context.Context, id int64, disabled bool) (*onecard.Terminal, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE terminals SET disabled = ? WHERE id = ?`, disabled, id)
		if err != nil {
			return fmt.Errorf("store: unable to disable terminal: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return onecard.Errorf(onecard.ENOTFOUND, "Terminal %d does not exist.", id)
		}
		action := "terminal.enable"
		if disabled {
			action = "terminal.disable"
		}
		return tx.audit(ctx, auditEvent{Action: action, TargetType: "terminal", TargetID: id})
	})
	if err != nil {
		return nil, err
	}
	return db.Terminal(ctx, id)
}

// TerminalKey implements onecard.TerminalService.
func (db *DB) TerminalKey(ctx context.Context, schoolCode, terminalCode string) (*onecard.Terminal, []byte, error) {
	t, sealed, err := scanTerminal(db.queryRow(ctx, `SELECT `+prefixed("t.", terminalColumns)+`, t.sealed_key
		FROM terminals t JOIN schools s ON s.id = t.school_id WHERE s.code = ? AND t.code = ?`,
		strings.ToLower(schoolCode), strings.ToLower(terminalCode)))
	if err == sql.ErrNoRows || (err == nil && t.Disabled) {
		return nil, nil, onecard.Errorf(onecard.EUNAUTHORIZED, "Unknown or disabled terminal.")
	} else if err != nil {
		return nil, nil, fmt.Errorf("store: unable to load terminal: %w", err)
	}
	key, err := db.openTerminalKey(sealed)
	if err != nil {
		return nil, nil, err
	}
	return t, key, nil
}

// UseNonce implements onecard.TerminalService. About one call in a hundred
// also forgets nonces older than the window, keeping the table small. The
// write does not wait for the disk: a crash may forget recent nonces, which
// lets a captured request be replayed once more, and every device call that
// moves money is idempotent by its own key, so a replay moves nothing.
func (db *DB) UseNonce(ctx context.Context, terminalID int64, nonce string, window time.Duration) error {
	if n := len(nonce); n < 16 || n > 64 {
		return onecard.Errorf(onecard.EINVALID, "A request nonce has 16 to 64 characters.")
	}
	return db.writeEphemeral(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO terminal_nonces (terminal_id, nonce, seen_at) VALUES (?, ?, ?)`, terminalID, nonce, micro(tx.now))
		if isUniqueViolation(err) {
			return onecard.Errorf(onecard.ECONFLICT, "This request was already received (replayed nonce).")
		} else if err != nil {
			return fmt.Errorf("store: unable to record nonce: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE terminals SET last_seen_at = ? WHERE id = ?`, micro(tx.now), terminalID); err != nil {
			return fmt.Errorf("store: unable to record nonce: %w", err)
		}
		if tx.now.UnixMicro()%100 == 0 {
			if _, err := tx.exec(ctx, `DELETE FROM terminal_nonces WHERE seen_at < ?`, micro(tx.now.Add(-window))); err != nil {
				return fmt.Errorf("store: unable to forget old nonces: %w", err)
			}
		}
		return nil
	})
}

func scanTerminal(row interface{ Scan(...any) error }) (*onecard.Terminal, []byte, error) {
	t := &onecard.Terminal{}
	var kind string
	var seen, created int64
	var sealed []byte
	if err := row.Scan(&t.ID, &t.SchoolID, &t.CampusID, &t.MerchantID, &kind, &t.Code, &t.Name, &t.Disabled, &t.Seq,
		&seen, &created, &sealed); err != nil {
		return nil, nil, err
	}
	t.Kind, t.LastSeenAt, t.CreatedAt = onecard.TerminalKind(kind), fromMicroPtr(seen), fromMicro(created)
	return t, sealed, nil
}

// sealTerminalKey encrypts a terminal key with AES-256-GCM under a key
// derived from the store secret: a copy of the database alone does not
// let anyone sign as a terminal.
func (db *DB) sealTerminalKey(key []byte) ([]byte, error) {
	aead, err := db.terminalAEAD()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, key, []byte("onecard terminal key")), nil
}

func (db *DB) openTerminalKey(sealed []byte) ([]byte, error) {
	aead, err := db.terminalAEAD()
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("store: sealed terminal key too short")
	}
	key, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte("onecard terminal key"))
	if err != nil {
		return nil, fmt.Errorf("store: unable to open terminal key (was the store secret changed?): %w", err)
	}
	return key, nil
}

func (db *DB) terminalAEAD() (cipher.AEAD, error) {
	block, err := aes.NewCipher(derive(db.secret, "onecard terminal key seal v1"))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// prefixed qualifies a column list with a table alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ", ")
	for i := range cols {
		cols[i] = alias + cols[i]
	}
	return strings.Join(cols, ", ")
}
