package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/onecard-campus/onecard"
)

// defaultNoticePrefs are a cardholder's notices until they choose: money
// arriving and the card being frozen are worth a text to everyone; a low
// balance is opt-in, it would come often.
var defaultNoticePrefs = onecard.NoticePrefs{TopUp: true, Freeze: true, LowBalanceBelow: 20_00}

// NoticePrefs implements onecard.PaymentStore.
func (db *DB) NoticePrefs(ctx context.Context, cardholderID int64) (*onecard.NoticePrefs, error) {
	if _, err := db.Cardholder(ctx, cardholderID); err != nil {
		return nil, err
	}
	p := &onecard.NoticePrefs{}
	err := db.queryRow(ctx, `SELECT top_up, low_balance, card_freeze, low_balance_below FROM notice_prefs WHERE cardholder_id = ?`,
		cardholderID).Scan(&p.TopUp, &p.LowBalance, &p.Freeze, &p.LowBalanceBelow)
	if errors.Is(err, sql.ErrNoRows) {
		d := defaultNoticePrefs
		return &d, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: unable to load notice preferences: %w", err)
	}
	return p, nil
}

// SetNoticePrefs implements onecard.PaymentStore.
func (db *DB) SetNoticePrefs(ctx context.Context, cardholderID int64, p *onecard.NoticePrefs) error {
	if p.LowBalanceBelow < 0 || p.LowBalanceBelow > onecard.MaxAmount {
		return onecard.Errorf(onecard.EINVALID, "The low-balance level is an amount between ¥0.00 and %s.", onecard.Yuan(onecard.MaxAmount))
	}
	if p.LowBalance && p.LowBalanceBelow == 0 {
		return onecard.Errorf(onecard.EINVALID, "Give the balance under which the low-balance notice is sent.")
	}
	return db.Write(ctx, func(tx *Tx) error {
		h, err := findCardholder(ctx, tx, "", cardholderID)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO notice_prefs (cardholder_id, top_up, low_balance, card_freeze, low_balance_below, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (cardholder_id) DO UPDATE SET top_up = excluded.top_up,
			low_balance = excluded.low_balance, card_freeze = excluded.card_freeze, low_balance_below = excluded.low_balance_below,
			updated_at = excluded.updated_at`,
			h.ID, p.TopUp, p.LowBalance, p.Freeze, p.LowBalanceBelow, micro(tx.now)); err != nil {
			return fmt.Errorf("store: unable to set notice preferences: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "notice.set", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: h.ID,
			Detail: fmt.Sprintf("top-up %v, low balance %v (below %s), freeze %v", p.TopUp, p.LowBalance, onecard.Yuan(p.LowBalanceBelow), p.Freeze)})
	})
}
