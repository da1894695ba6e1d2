package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/onecard-campus/onecard"
)

// SetAutoTopUp implements onecard.PaymentStore. A zero threshold or amount
// takes the school's default. Turning it on records the consent now;
// changing the numbers of a setting that stays on keeps the first consent;
// turning it off withdraws it.
func (db *DB) SetAutoTopUp(ctx context.Context, a *onecard.AutoTopUp) (*onecard.AutoTopUp, error) {
	var out *onecard.AutoTopUp
	err := db.Write(ctx, func(tx *Tx) error {
		h, err := findCardholder(ctx, tx, "", a.CardholderID)
		if err != nil {
			return err
		}
		if h.Status == onecard.CardholderClosed {
			return onecard.Errorf(onecard.ECONFLICT, "The account of %s is closed.", h.Number)
		}
		s, err := tx.school(ctx, h.SchoolID)
		if err != nil {
			return err
		}
		rules := s.Settings.TopUp
		prev, err := findAutoTopUp(ctx, tx, h.ID, rules)
		if err != nil {
			return err
		}
		next := &onecard.AutoTopUp{CardholderID: h.ID, Enabled: a.Enabled, Threshold: a.Threshold, Amount: a.Amount, LastAt: prev.LastAt}
		if next.Threshold == 0 {
			next.Threshold = rules.AutoThreshold
		}
		if next.Amount == 0 {
			next.Amount = rules.AutoAmount
		}
		if next.Threshold < 0 || next.Threshold > onecard.MaxAmount {
			return onecard.Errorf(onecard.EINVALID, "The threshold is an amount between ¥0.00 and %s.", onecard.Yuan(onecard.MaxAmount))
		}
		// The rules' own codes (ELIMIT for a range) are for orders; here the
		// setting itself is what is wrong.
		if err := rules.CheckAmount(next.Amount); err != nil {
			return onecard.Errorf(onecard.EINVALID, "%s", onecard.ErrorMessage(err))
		}
		if next.Amount > rules.BankDailyLimit {
			return onecard.Errorf(onecard.EINVALID, "An automatic top-up of %s is above the bank card's daily limit of %s.",
				onecard.Yuan(next.Amount), onecard.Yuan(rules.BankDailyLimit))
		}
		if next.Enabled {
			if _, err := bankAgreement(ctx, tx, h.ID); onecard.ErrorCode(err) == onecard.ENOTFOUND {
				return onecard.Errorf(onecard.ECONFLICT, "Automatic top-ups take money from the bound bank card; bind one for top-ups first.")
			} else if err != nil {
				return err
			}
			next.ConsentAt = prev.ConsentAt
			if !prev.Enabled || next.ConsentAt == nil {
				now := tx.now
				next.ConsentAt = &now
			}
		}
		var consent, last int64
		if next.ConsentAt != nil {
			consent = micro(*next.ConsentAt)
		}
		if next.LastAt != nil {
			last = micro(*next.LastAt)
		}
		if _, err := tx.exec(ctx, `INSERT INTO auto_top_ups (cardholder_id, enabled, threshold, amount, consent_at, last_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cardholder_id) DO UPDATE SET enabled = excluded.enabled,
			threshold = excluded.threshold, amount = excluded.amount, consent_at = excluded.consent_at, updated_at = excluded.updated_at`,
			h.ID, next.Enabled, next.Threshold, next.Amount, consent, last, micro(tx.now)); err != nil {
			return fmt.Errorf("store: unable to set automatic top-up: %w", err)
		}
		out = next
		detail := "off"
		if next.Enabled {
			detail = fmt.Sprintf("on: %s from the bank card when the balance is below %s", onecard.Yuan(next.Amount), onecard.Yuan(next.Threshold))
		}
		return tx.audit(ctx, auditEvent{Action: "autotopup.set", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: h.ID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AutoTopUp implements onecard.PaymentStore.
func (db *DB) AutoTopUp(ctx context.Context, cardholderID int64) (*onecard.AutoTopUp, error) {
	h, err := db.Cardholder(ctx, cardholderID)
	if err != nil {
		return nil, err
	}
	s, err := db.School(ctx, h.SchoolID)
	if err != nil {
		return nil, err
	}
	return findAutoTopUp(ctx, db, h.ID, s.Settings.TopUp)
}

// findAutoTopUp loads a setting, or the school's defaults (off) when the
// cardholder never set one.
func findAutoTopUp(ctx context.Context, q querier, cardholderID int64, rules onecard.TopUpRules) (*onecard.AutoTopUp, error) {
	a, err := scanAutoTopUp(q.queryRow(ctx, `SELECT `+autoTopUpColumns+` FROM auto_top_ups WHERE cardholder_id = ?`, cardholderID))
	if errors.Is(err, sql.ErrNoRows) {
		return &onecard.AutoTopUp{CardholderID: cardholderID, Threshold: rules.AutoThreshold, Amount: rules.AutoAmount}, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: unable to load automatic top-up: %w", err)
	}
	return a, nil
}

// DueAutoTopUps implements onecard.PaymentStore: settings that are on,
// whose cardholder's purse + transition balance is below the threshold,
// whose bound bank card has an agreement, and who have no automatic
// top-up order today (school time) other than closed ones: after one that
// was credited, is still payable or was paid and rejected, the next waits
// for tomorrow. Schools are taken one by one because "today" is each
// school's own.
func (db *DB) DueAutoTopUps(ctx context.Context, limit int) ([]*onecard.AutoTopUp, error) {
	if limit <= 0 || limit > 5000 {
		limit = 500
	}
	schools, err := db.Schools(ctx)
	if err != nil {
		return nil, err
	}
	out := []*onecard.AutoTopUp{}
	for _, s := range schools {
		if len(out) >= limit {
			break
		}
		rows, err := db.query(ctx, `SELECT a.cardholder_id, a.enabled, a.threshold, a.amount, a.consent_at, a.last_at
			FROM auto_top_ups a
			JOIN cardholders h ON h.id = a.cardholder_id
			JOIN accounts p ON p.id = h.purse_account
			JOIN accounts t ON t.id = h.transition_account
			JOIN bank_bindings b ON b.cardholder_id = a.cardholder_id
			WHERE a.enabled = ? AND h.school_id = ? AND h.status <> ? AND b.agreement IS NOT NULL AND b.agreement <> ''
				AND p.balance + t.balance < a.threshold
				AND NOT EXISTS (SELECT 1 FROM top_ups o WHERE o.cardholder_id = a.cardholder_id AND o.kind = ?
					AND o.state <> ? AND o.created_at >= ?)
			ORDER BY a.cardholder_id LIMIT ?`,
			true, s.ID, string(onecard.CardholderClosed), string(onecard.TopUpAuto), string(onecard.TopUpClosed),
			micro(s.Settings.DayStart(db.Now())), limit-len(out))
		if err != nil {
			return nil, fmt.Errorf("store: unable to list due automatic top-ups: %w", err)
		}
		for rows.Next() {
			a, err := scanAutoTopUp(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: unable to list due automatic top-ups: %w", err)
			}
			out = append(out, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: unable to list due automatic top-ups: %w", err)
		}
	}
	return out, nil
}

const autoTopUpColumns = `cardholder_id, enabled, threshold, amount, consent_at, last_at`

func scanAutoTopUp(r scanner) (*onecard.AutoTopUp, error) {
	a := &onecard.AutoTopUp{}
	var consent, last int64
	if err := r.Scan(&a.CardholderID, &a.Enabled, &a.Threshold, &a.Amount, &consent, &last); err != nil {
		return nil, err
	}
	a.ConsentAt, a.LastAt = fromMicroPtr(consent), fromMicroPtr(last)
	return a, nil
}
