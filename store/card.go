package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
)

var _ onecard.CardService = (*DB)(nil)

// Every write transaction here that changes a card's state calls
// tx.LockHead first, even those that touch no account: ledger batches lock
// the head and then card rows (settleArrears), so taking them in the same
// order can never deadlock on PostgreSQL.

// IssueCard implements onecard.CardService. A cardholder already in arrears
// gets a card frozen for arrears, which lifts itself after a top-up.
func (db *DB) IssueCard(ctx context.Context, cardholderID int64, uid string) (*onecard.Card, error) {
	uid, err := normalizeUID(uid)
	if err != nil {
		return nil, err
	}
	var c *onecard.Card
	err = db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		h, err := findCardholder(ctx, tx, tx.forUpdate(), cardholderID)
		if err != nil {
			return err
		}
		if h.Status != onecard.CardholderActive {
			return onecard.Errorf(onecard.ECONFLICT, "Cardholder %s is %s; only active cardholders get a card.", h.Number, h.Status)
		}
		if old, err := tx.activeCard(ctx, h.ID); err == nil {
			return onecard.Errorf(onecard.ECONFLICT, "Cardholder %s already has an active card (%s); report it lost and replace it instead.",
				h.Number, old.UID)
		} else if onecard.ErrorCode(err) != onecard.ENOTFOUND {
			return err
		}
		if c, err = tx.issueCard(ctx, h, uid, "", ""); err != nil {
			return err
		}
		return tx.audit(ctx, auditEvent{Action: "card.issue", SchoolID: h.SchoolID, TargetType: "card", TargetID: c.ID, Detail: c.UID})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// issueCard inserts an active card with the given freeze (if any), freezes
// it for arrears instead when the balance is below zero, sets the accounts'
// frozen flags to match and blacklists it if it starts blocked.
func (tx *Tx) issueCard(ctx context.Context, h *onecard.Cardholder, uid string, freeze onecard.FreezeReason, note string) (*onecard.Card, error) {
	if uid == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("store: unable to make a card UID: %w", err)
		}
		uid = strings.ToUpper(hex.EncodeToString(b[:]))
	}
	if freeze == "" {
		total, err := tx.total(ctx, h)
		if err != nil {
			return nil, err
		}
		if total < 0 {
			freeze, note = onecard.FreezeArrears, "balance "+onecard.Yuan(total)+" at issue"
		}
	}
	c := &onecard.Card{SchoolID: h.SchoolID, CardholderID: h.ID, UID: uid, Status: onecard.CardActive, IssuedAt: tx.now,
		FreezeReason: freeze, FreezeNote: note}
	if freeze != "" {
		c.FrozenAt = &tx.now
	}
	id, err := tx.insertID(ctx, `INSERT INTO cards (school_id, cardholder_id, uid, status, freeze_reason, freeze_note, issued_at, frozen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.SchoolID, c.CardholderID, c.UID, string(c.Status), string(c.FreezeReason), c.FreezeNote,
		micro(tx.now), micro(ptrTime(c.FrozenAt)))
	if isUniqueViolation(err) {
		return nil, onecard.Errorf(onecard.ECONFLICT, "Card UID %s is already in use, or the cardholder already has an active card.", uid)
	} else if err != nil {
		return nil, fmt.Errorf("store: unable to issue card: %w", err)
	}
	c.ID = id
	if err := tx.setAccountsFrozen(ctx, freeze != "", h.PurseAccount, h.TransitionAccount); err != nil {
		return nil, err
	}
	if !c.Usable() {
		if err := tx.appendBlacklist(ctx, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Card implements onecard.CardService.
func (db *DB) Card(ctx context.Context, id int64) (*onecard.Card, error) {
	return findCard(ctx, db, `id = ?`, id)
}

// CardByUID implements onecard.CardService.
func (db *DB) CardByUID(ctx context.Context, schoolID int64, uid string) (*onecard.Card, error) {
	return findCard(ctx, db, `school_id = ? AND uid = ?`, schoolID, strings.ToUpper(uid))
}

// ActiveCard implements onecard.CardService.
func (db *DB) ActiveCard(ctx context.Context, cardholderID int64) (*onecard.Card, error) {
	c, err := findCard(ctx, db, `cardholder_id = ? AND status = 'active'`, cardholderID)
	if onecard.ErrorCode(err) == onecard.ENOTFOUND {
		return nil, onecard.Errorf(onecard.ENOTFOUND, "Cardholder %d has no active card.", cardholderID)
	}
	return c, err
}

// Cards implements onecard.CardService.
func (db *DB) Cards(ctx context.Context, cardholderID int64) ([]*onecard.Card, error) {
	rows, err := db.query(ctx, `SELECT `+cardColumns+` FROM cards WHERE cardholder_id = ? ORDER BY id DESC`, cardholderID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list cards: %w", err)
	}
	defer rows.Close()
	out := []*onecard.Card{}
	for rows.Next() {
		c, err := scanCard(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to list cards: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ReportLost implements onecard.CardService.
func (db *DB) ReportLost(ctx context.Context, cardID int64) (*onecard.Card, error) {
	return db.changeCard(ctx, cardID, "card.report_lost", func(tx *Tx, c *onecard.Card) (string, error) {
		switch {
		case c.Status == onecard.CardCancelled:
			return "", onecard.Errorf(onecard.ECONFLICT, "Card %s is cancelled; it cannot be reported lost.", c.UID)
		case c.Lost:
			return "", onecard.Errorf(onecard.ECONFLICT, "Card %s is already reported lost.", c.UID)
		}
		c.Lost, c.LostAt = true, &tx.now
		return "", nil
	})
}

// Unlock implements onecard.CardService. The card becomes usable again
// unless it is also frozen.
func (db *DB) Unlock(ctx context.Context, cardID int64) (*onecard.Card, error) {
	return db.changeCard(ctx, cardID, "card.unlock", func(tx *Tx, c *onecard.Card) (string, error) {
		switch {
		case c.Status == onecard.CardCancelled:
			return "", onecard.Errorf(onecard.ECONFLICT, "Card %s is cancelled; it cannot be unlocked.", c.UID)
		case !c.Lost:
			return "", onecard.Errorf(onecard.ECONFLICT, "Card %s is not reported lost.", c.UID)
		}
		c.Lost, c.LostAt = false, nil
		return "", nil
	})
}

// Freeze implements onecard.CardService. Both of the cardholder's accounts
// refuse debits while the card is frozen; credits still land.
func (db *DB) Freeze(ctx context.Context, cardID int64, reason onecard.FreezeReason, note string) (*onecard.Card, error) {
	if !reason.Valid() {
		return nil, onecard.Errorf(onecard.EINVALID, "Freeze reason must be arrears, mismatch, abnormal or operator.")
	}
	note = strings.TrimSpace(note)
	if len([]rune(note)) > 200 {
		return nil, onecard.Errorf(onecard.EINVALID, "A freeze note has at most 200 characters.")
	}
	return db.changeCard(ctx, cardID, "card.freeze", func(tx *Tx, c *onecard.Card) (string, error) {
		switch {
		case c.Status == onecard.CardCancelled:
			return "", onecard.Errorf(onecard.ECONFLICT, "Card %s is cancelled; it cannot be frozen.", c.UID)
		case c.FreezeReason != "":
			return "", onecard.Errorf(onecard.ECONFLICT, "Card %s is already frozen (%s).", c.UID, c.FreezeReason)
		}
		return string(reason), tx.freezeCard(ctx, c, reason, note)
	})
}

// Unfreeze implements onecard.CardService. A freeze for arrears cannot be
// lifted by hand while the balance is below zero (a top-up lifts it); any
// other freeze lifted while the balance is below zero turns into one.
func (db *DB) Unfreeze(ctx context.Context, cardID int64) (*onecard.Card, error) {
	return db.changeCard(ctx, cardID, "card.unfreeze", func(tx *Tx, c *onecard.Card) (string, error) {
		switch {
		case c.Status == onecard.CardCancelled:
			return "", onecard.Errorf(onecard.ECONFLICT, "Card %s is cancelled; it cannot be unfrozen.", c.UID)
		case c.FreezeReason == "":
			return "", onecard.Errorf(onecard.ECONFLICT, "Card %s is not frozen.", c.UID)
		}
		h, err := findCardholder(ctx, tx, "", c.CardholderID)
		if err != nil {
			return "", err
		}
		total, err := tx.total(ctx, h)
		if err != nil {
			return "", err
		}
		if total < 0 {
			if c.FreezeReason == onecard.FreezeArrears {
				return "", onecard.Errorf(onecard.ECONFLICT, "The balance is %s; a top-up that brings it to zero or above unfreezes the card.",
					onecard.Yuan(total))
			}
			was := c.FreezeReason
			c.FreezeReason, c.FreezeNote = onecard.FreezeArrears, "balance "+onecard.Yuan(total)+" when the "+string(was)+" freeze was lifted"
			return "now frozen for arrears", nil
		}
		return "", tx.unfreezeCard(ctx, c)
	})
}

// Cancel implements onecard.CardService. The cardholder's accounts are
// unfrozen with it: freezes belong to cards, and a new card starts from the
// balance (frozen for arrears if it is below zero).
func (db *DB) Cancel(ctx context.Context, cardID int64) (*onecard.Card, error) {
	return db.changeCard(ctx, cardID, "card.cancel", func(tx *Tx, c *onecard.Card) (string, error) {
		if c.Status == onecard.CardCancelled {
			return "", onecard.Errorf(onecard.ECONFLICT, "Card %s is already cancelled.", c.UID)
		}
		if c.FreezeReason != "" {
			h, err := findCardholder(ctx, tx, "", c.CardholderID)
			if err != nil {
				return "", err
			}
			if err := tx.setAccountsFrozen(ctx, false, h.PurseAccount, h.TransitionAccount); err != nil {
				return "", err
			}
		}
		c.Status, c.CancelledAt = onecard.CardCancelled, &tx.now
		return "", nil
	})
}

// changeCard runs one lifecycle step: lock the ledger head (lock order),
// lock the card, let change validate and mutate it, save it (with a
// blacklist row when its state changed) and audit the action.
func (db *DB) changeCard(ctx context.Context, cardID int64, action string, change func(tx *Tx, c *onecard.Card) (string, error)) (*onecard.Card, error) {
	var c *onecard.Card
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		var err error
		if c, err = tx.card(ctx, cardID); err != nil {
			return err
		}
		before := *c
		detail, err := change(tx, c)
		if err != nil {
			return err
		}
		if err := tx.saveCard(ctx, &before, c); err != nil {
			return err
		}
		return tx.audit(ctx, auditEvent{Action: action, SchoolID: c.SchoolID, TargetType: "card", TargetID: c.ID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// freezeCard sets a freeze on c (saved by the caller) and freezes the
// cardholder's accounts.
func (tx *Tx) freezeCard(ctx context.Context, c *onecard.Card, reason onecard.FreezeReason, note string) error {
	h, err := findCardholder(ctx, tx, "", c.CardholderID)
	if err != nil {
		return err
	}
	c.FreezeReason, c.FreezeNote, c.FrozenAt = reason, note, &tx.now
	return tx.setAccountsFrozen(ctx, true, h.PurseAccount, h.TransitionAccount)
}

// unfreezeCard lifts c's freeze (saved by the caller) and unfreezes the
// cardholder's accounts.
func (tx *Tx) unfreezeCard(ctx context.Context, c *onecard.Card) error {
	h, err := findCardholder(ctx, tx, "", c.CardholderID)
	if err != nil {
		return err
	}
	c.FreezeReason, c.FreezeNote, c.FrozenAt = "", "", nil
	return tx.setAccountsFrozen(ctx, false, h.PurseAccount, h.TransitionAccount)
}

// cancelCard cancels c and saves it; the accounts are the caller's concern.
func (tx *Tx) cancelCard(ctx context.Context, c *onecard.Card) (*onecard.Card, error) {
	before := *c
	c.Status, c.CancelledAt = onecard.CardCancelled, &tx.now
	return c, tx.saveCard(ctx, &before, c)
}

// saveCard writes c's mutable fields and, when the state a terminal cares
// about changed, appends a blacklist row.
func (tx *Tx) saveCard(ctx context.Context, before, c *onecard.Card) error {
	if _, err := tx.exec(ctx, `UPDATE cards SET status = ?, lost = ?, freeze_reason = ?, freeze_note = ?, lost_at = ?,
		frozen_at = ?, cancelled_at = ?, replaced_by = ? WHERE id = ?`,
		string(c.Status), c.Lost, string(c.FreezeReason), c.FreezeNote, micro(ptrTime(c.LostAt)), micro(ptrTime(c.FrozenAt)),
		micro(ptrTime(c.CancelledAt)), c.ReplacedBy, c.ID); err != nil {
		return fmt.Errorf("store: unable to update card: %w", err)
	}
	if before.State() != c.State() || before.FreezeReason != c.FreezeReason {
		return tx.appendBlacklist(ctx, c)
	}
	return nil
}

// card loads and locks a card. ENOTFOUND.
func (tx *Tx) card(ctx context.Context, id int64) (*onecard.Card, error) {
	return findCard(ctx, tx, `id = ?`+tx.forUpdate(), id)
}

// activeCard loads and locks a cardholder's active card. ENOTFOUND.
func (tx *Tx) activeCard(ctx context.Context, cardholderID int64) (*onecard.Card, error) {
	return findCard(ctx, tx, `cardholder_id = ? AND status = 'active'`+tx.forUpdate(), cardholderID)
}

const cardColumns = `id, school_id, cardholder_id, uid, status, lost, freeze_reason, freeze_note, issued_at, lost_at,
	frozen_at, cancelled_at, replaced_by`

func findCard(ctx context.Context, q querier, where string, args ...any) (*onecard.Card, error) {
	c, err := scanCard(q.queryRow(ctx, `SELECT `+cardColumns+` FROM cards WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, onecard.Errorf(onecard.ENOTFOUND, "Card not found.")
	} else if err != nil {
		return nil, fmt.Errorf("store: unable to load card: %w", err)
	}
	return c, nil
}

func scanCard(r scanner) (*onecard.Card, error) {
	c := &onecard.Card{}
	var status, reason string
	var issued, lost, frozen, cancelled int64
	if err := r.Scan(&c.ID, &c.SchoolID, &c.CardholderID, &c.UID, &status, &c.Lost, &reason, &c.FreezeNote, &issued, &lost,
		&frozen, &cancelled, &c.ReplacedBy); err != nil {
		return nil, err
	}
	c.Status, c.FreezeReason = onecard.CardStatus(status), onecard.FreezeReason(reason)
	c.IssuedAt, c.LostAt, c.FrozenAt, c.CancelledAt = fromMicro(issued), fromMicroPtr(lost), fromMicroPtr(frozen), fromMicroPtr(cancelled)
	return c, nil
}

// total returns a cardholder's purse + transition balance inside tx.
func (tx *Tx) total(ctx context.Context, h *onecard.Cardholder) (int64, error) {
	var total int64
	err := tx.queryRow(ctx, `SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM accounts WHERE id IN (?, ?)`,
		h.PurseAccount, h.TransitionAccount).Scan(&total)
	if err != nil {
		return 0, fmt.Errorf("store: unable to load balance: %w", err)
	}
	return total, nil
}

// normalizeUID upper-cases a chip serial and checks it is 4 to 16 bytes of
// hex (Mifare UIDs are 4, 7 or 10 bytes; ours are 8). Empty stays empty.
func normalizeUID(uid string) (string, error) {
	uid = strings.ToUpper(strings.NewReplacer(" ", "", ":", "", "-", "").Replace(uid))
	if uid == "" {
		return "", nil
	}
	if _, err := hex.DecodeString(uid); err != nil || len(uid) < 8 || len(uid) > 32 {
		return "", onecard.Errorf(onecard.EINVALID, "A card UID is 8 to 32 hexadecimal digits, got %q.", uid)
	}
	return uid, nil
}

func ptrTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
