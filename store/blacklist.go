package store

import (
	"context"
	"fmt"

	"github.com/onecard-campus/onecard"
)

// appendBlacklist records c's current blocked state at the school's next
// blacklist version. The upsert locks the school's version row until the
// transaction ends, so versions are gapless and in commit order.
func (tx *Tx) appendBlacklist(ctx context.Context, c *onecard.Card) error {
	var version int64
	err := tx.queryRow(ctx, `INSERT INTO blacklist_versions (school_id, version) VALUES (?, 1)
		ON CONFLICT (school_id) DO UPDATE SET version = blacklist_versions.version + 1 RETURNING version`, c.SchoolID).Scan(&version)
	if err != nil {
		return fmt.Errorf("store: unable to bump blacklist version: %w", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO blacklist (school_id, version, card_id, uid, blocked, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.SchoolID, version, c.ID, c.UID, !c.Usable(), blacklistReason(c), micro(tx.now)); err != nil {
		return fmt.Errorf("store: unable to append to blacklist: %w", err)
	}
	return nil
}

// blacklistReason is the card's state for a terminal: active (unblocked),
// lost, cancelled, or the freeze reason.
func blacklistReason(c *onecard.Card) string {
	if s := c.State(); s != "frozen" {
		return s
	}
	return string(c.FreezeReason)
}

// Blacklist implements onecard.CardService. The version is read first and
// bounds the entries, so a terminal that stores it never skips a change
// committed while it was reading.
func (db *DB) Blacklist(ctx context.Context, schoolID, since int64) ([]onecard.BlacklistEntry, int64, error) {
	if _, err := findSchool(ctx, db, `id = ?`, schoolID); err != nil {
		return nil, 0, notFound(err, "unable to load school", "School %d does not exist.", schoolID)
	}
	var version int64
	err := db.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM blacklist_versions WHERE school_id = ?`, schoolID).Scan(&version)
	if err != nil {
		return nil, 0, fmt.Errorf("store: unable to read blacklist version: %w", err)
	}
	rows, err := db.query(ctx, `SELECT version, card_id, uid, blocked, reason, at FROM blacklist
		WHERE school_id = ? AND version > ? AND version <= ? ORDER BY version`, schoolID, since, version)
	if err != nil {
		return nil, 0, fmt.Errorf("store: unable to read blacklist: %w", err)
	}
	defer rows.Close()
	out := []onecard.BlacklistEntry{}
	for rows.Next() {
		var e onecard.BlacklistEntry
		var at int64
		if err := rows.Scan(&e.Version, &e.CardID, &e.UID, &e.Blocked, &e.Reason, &at); err != nil {
			return nil, 0, fmt.Errorf("store: unable to read blacklist: %w", err)
		}
		e.At = fromMicro(at)
		out = append(out, e)
	}
	return out, version, rows.Err()
}
