package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/onecard-campus/onecard"
)

var _ onecard.NoticeStore = (*DB)(nil)

// DueNotices implements onecard.NoticeStore. The school day of a
// low-balance notice is each school's own; a freeze notice is keyed by the
// card and the moment it was frozen, so a card frozen again after an
// unfreeze gets a new one.
func (db *DB) DueNotices(ctx context.Context, limit int) ([]*onecard.Notice, error) {
	schools, err := db.Schools(ctx)
	if err != nil {
		return nil, err
	}
	now := db.now()
	var out []*onecard.Notice
	for _, s := range schools {
		day := "low:" + s.Settings.DayStart(now).Format("2006-01-02")
		rows, err := db.query(ctx, `SELECT h.id, h.phone, h.number, pa.balance + ta.balance, np.low_balance_below
			FROM notice_prefs np
			JOIN cardholders h ON h.id = np.cardholder_id
			JOIN accounts pa ON pa.id = h.purse_account
			JOIN accounts ta ON ta.id = h.transition_account
			WHERE h.school_id = ? AND np.low_balance = ? AND h.phone <> '' AND h.status <> 'closed'
			  AND pa.balance + ta.balance < np.low_balance_below
			  AND NOT EXISTS (SELECT 1 FROM notices_sent ns WHERE ns.cardholder_id = h.id AND ns.key = ?)
			ORDER BY h.id LIMIT ?`, s.ID, true, day, limit)
		if err != nil {
			return nil, fmt.Errorf("store: unable to find low-balance notices: %w", err)
		}
		for rows.Next() {
			n := &onecard.Notice{Kind: "low_balance", Key: day}
			if err := rows.Scan(&n.CardholderID, &n.Phone, &n.Number, &n.Balance, &n.Threshold); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	rows, err := db.query(ctx, `SELECT h.id, h.phone, h.number, c.id, c.frozen_at, c.freeze_reason, pa.balance + ta.balance
		FROM cards c
		JOIN cardholders h ON h.id = c.cardholder_id
		JOIN accounts pa ON pa.id = h.purse_account
		JOIN accounts ta ON ta.id = h.transition_account
		LEFT JOIN notice_prefs np ON np.cardholder_id = h.id
		WHERE c.status = 'active' AND c.freeze_reason <> '' AND h.phone <> ''
		  AND (np.cardholder_id IS NULL OR np.card_freeze = ?)
		  AND NOT EXISTS (SELECT 1 FROM notices_sent ns WHERE ns.cardholder_id = h.id
		      AND ns.key = 'freeze:' || CAST(c.id AS TEXT) || ':' || CAST(c.frozen_at AS TEXT))
		ORDER BY c.id LIMIT ?`, true, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to find freeze notices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		n := &onecard.Notice{Kind: "freeze"}
		var cardID, frozenAt int64
		var reason string
		if err := rows.Scan(&n.CardholderID, &n.Phone, &n.Number, &cardID, &frozenAt, &reason, &n.Balance); err != nil {
			return nil, err
		}
		n.Reason = onecard.FreezeReason(reason)
		n.Key = "freeze:" + strconv.FormatInt(cardID, 10) + ":" + strconv.FormatInt(frozenAt, 10)
		out = append(out, n)
	}
	return out, rows.Err()
}

// MarkNoticeSent implements onecard.NoticeStore.
func (db *DB) MarkNoticeSent(ctx context.Context, n *onecard.Notice) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO notices_sent (cardholder_id, key, sent_at) VALUES (?, ?, ?)
			ON CONFLICT (cardholder_id, key) DO NOTHING`, n.CardholderID, n.Key, micro(tx.now))
		if err != nil {
			return fmt.Errorf("store: unable to record a notice: %w", err)
		}
		return nil
	})
}
