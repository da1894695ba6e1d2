package store

import (
	"context"
	"fmt"
	"time"

	"github.com/onecard-campus/onecard"
)

// FreezeExpiredGraduates freezes, for abnormal use, the active cards of
// cardholders who graduated longer ago than their school's
// graduate_freeze_after (seed 004: three months after leaving; 超期 in
// seed 001 Part 08). Their balance stays theirs: an operator unfreezes the
// card to refund it. A school whose setting is zero is left alone. It
// returns how many cards it froze; serve calls it periodically, and it is
// safe to run concurrently or twice.
func (db *DB) FreezeExpiredGraduates(ctx context.Context) (int, error) {
	schools, err := db.Schools(ctx)
	if err != nil {
		return 0, err
	}
	frozen := 0
	for _, s := range schools {
		after := time.Duration(s.Settings.GraduateFreezeAfter)
		if after <= 0 {
			continue
		}
		ids, err := db.graduatesToFreeze(ctx, s.ID, db.now().Add(-after))
		if err != nil {
			return frozen, err
		}
		for _, id := range ids {
			_, err := db.changeCard(ctx, id, "card.freeze", func(tx *Tx, c *onecard.Card) (string, error) {
				if c.Status != onecard.CardActive || c.FreezeReason != "" {
					return "", errSkip // changed since the query: nothing to do
				}
				note := fmt.Sprintf("graduated more than %d days ago", int(after.Hours()/24))
				return string(onecard.FreezeAbnormal) + ": " + note, tx.freezeCard(ctx, c, onecard.FreezeAbnormal, note)
			})
			switch {
			case err == errSkip:
			case err != nil:
				return frozen, err
			default:
				frozen++
			}
		}
	}
	return frozen, nil
}

// errSkip ends a card change that turned out to have nothing to do.
var errSkip = onecard.Errorf(onecard.ECONFLICT, "Nothing to do.")

// graduatesToFreeze lists a school's active, unfrozen cards whose holders
// graduated before the cutoff.
func (db *DB) graduatesToFreeze(ctx context.Context, schoolID int64, cutoff time.Time) ([]int64, error) {
	rows, err := db.query(ctx, `SELECT c.id FROM cards c JOIN cardholders h ON h.id = c.cardholder_id
		WHERE c.school_id = ? AND c.status = 'active' AND c.freeze_reason = '' AND h.status = ?
		AND h.left_at > 0 AND h.left_at <= ? ORDER BY c.id`, schoolID, string(onecard.CardholderGraduated), micro(cutoff))
	if err != nil {
		return nil, fmt.Errorf("store: unable to find graduates' cards: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
