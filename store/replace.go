package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

// Replace implements onecard.CardService.
//
// The purse account belongs to the cardholder, not to the card, so the new
// card carries the purse shadow by construction: it is written with the
// shadow's balance, and the old card, whatever its chip still says, is
// cancelled and blacklisted. That is also why the fee may be taken from the
// purse server-side without the card present.
//
// The new card starts not lost. A freeze for arrears, by an operator or for
// abnormal use is carried over (a replacement must not undo a decision or a
// debt); a freeze for card-vs-account mismatch is not, since the mismatch
// was between the old chip and the shadow and the new chip matches.
func (db *DB) Replace(ctx context.Context, cardID int64, key string) (*onecard.Card, error) {
	if strings.TrimSpace(key) == "" {
		return nil, onecard.Errorf(onecard.EINVALID, "A request key is needed so that a retry does not charge the fee twice.")
	}
	if _, err := requestKey("replace:", key+":t"); err != nil {
		return nil, err
	}
	var c *onecard.Card
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		var oldID, newID int64
		err := tx.queryRow(ctx, `SELECT id, replaced_by FROM cards WHERE replace_key = ?`, key).Scan(&oldID, &newID)
		switch {
		case err == nil && oldID != cardID && newID != cardID:
			return onecard.Errorf(onecard.ECONFLICT, "Request key %q was already used to replace another card.", key)
		case err == nil:
			c, err = findCard(ctx, tx, `id = ?`, newID)
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: unable to look up replacement: %w", err)
		}
		old, err := tx.card(ctx, cardID)
		if err != nil {
			return err
		}
		if old.Status == onecard.CardCancelled {
			if old.ReplacedBy != 0 {
				return onecard.Errorf(onecard.ECONFLICT, "Card %s was already replaced; it cannot be replaced again.", old.UID)
			}
			return onecard.Errorf(onecard.ECONFLICT, "Card %s is cancelled; it cannot be replaced.", old.UID)
		}
		h, err := findCardholder(ctx, tx, tx.forUpdate(), old.CardholderID)
		if err != nil {
			return err
		}
		if h.Status != onecard.CardholderActive {
			return onecard.Errorf(onecard.ECONFLICT, "Cardholder %s is %s; only active cardholders get a new card.", h.Number, h.Status)
		}
		s, err := tx.school(ctx, h.SchoolID)
		if err != nil {
			return err
		}
		if err := tx.chargeReplacementFee(ctx, h, s.Settings.ReplacementFee, key); err != nil {
			return err
		}
		before := *old
		old.Status, old.CancelledAt = onecard.CardCancelled, &tx.now
		if err := tx.saveCard(ctx, &before, old); err != nil {
			return err
		}
		freeze, note := old.FreezeReason, old.FreezeNote
		if freeze == onecard.FreezeMismatch {
			freeze, note = "", ""
		}
		if c, err = tx.issueCard(ctx, h, "", freeze, note); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE cards SET replaced_by = ?, replace_key = ? WHERE id = ?`, c.ID, key, old.ID); err != nil {
			return fmt.Errorf("store: unable to link replacement: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "card.replace", SchoolID: h.SchoolID, TargetType: "card", TargetID: old.ID,
			Detail: fmt.Sprintf("new card %d (%s), fee %s", c.ID, c.UID, onecard.Yuan(s.Settings.ReplacementFee))})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// chargeReplacementFee moves fee to the school's fee income, from the
// transition balance first and the purse for the rest, as one linked pair
// of transfers. The fee is settled at the counter, so a freeze of the
// accounts does not refuse it.
func (tx *Tx) chargeReplacementFee(ctx context.Context, h *onecard.Cardholder, fee int64, key string) error {
	if fee == 0 {
		return nil
	}
	var purse, transition int64
	rows, err := tx.query(ctx, `SELECT id, balance - debits_pending FROM accounts WHERE id IN (?, ?)`, h.PurseAccount, h.TransitionAccount)
	if err != nil {
		return fmt.Errorf("store: unable to load balances: %w", err)
	}
	for rows.Next() {
		var id, avail int64
		if err := rows.Scan(&id, &avail); err != nil {
			rows.Close()
			return fmt.Errorf("store: unable to load balances: %w", err)
		}
		if id == h.PurseAccount {
			purse = avail
		} else {
			transition = avail
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: unable to load balances: %w", err)
	}
	if purse+transition < fee {
		return onecard.Errorf(onecard.EINSUFFICIENT, "Balance %s is short of the %s replacement fee; top up first.",
			onecard.Yuan(purse+transition), onecard.Yuan(fee))
	}
	income, err := tx.systemAccount(ctx, h.SchoolID, KindFeeIncome)
	if err != nil {
		return err
	}
	fromTransition := min(fee, max(transition, 0))
	var ts []ledger.Transfer
	if fromTransition > 0 {
		ts = append(ts, ledger.Transfer{Key: "replace:" + key + ":t", Debit: h.TransitionAccount, Credit: income,
			Amount: fromTransition, Code: codeFee, Memo: "card replacement", Flags: ledger.Settle})
	}
	if rest := fee - fromTransition; rest > 0 {
		ts = append(ts, ledger.Transfer{Key: "replace:" + key + ":p", Debit: h.PurseAccount, Credit: income,
			Amount: rest, Code: codeFee, Memo: "card replacement", Flags: ledger.Settle})
	}
	if len(ts) == 2 {
		ts[0].Flags |= ledger.Linked
	}
	out, err := ledger.Apply(ctx, tx, ts)
	if err != nil {
		return err
	}
	failed := ledger.OK
	for _, o := range out {
		if o.Result != ledger.OK && (failed == ledger.OK || failed == ledger.LinkedFailed) {
			failed = o.Result // the transfer that failed, not its linked neighbour
		}
	}
	if failed != ledger.OK {
		if err := tx.transferError(ctx, failed, h, fee, "charge the "+onecard.Yuan(fee)+" replacement fee"); err != nil {
			return err
		}
		return onecard.Errorf(onecard.ECONFLICT, "Unable to charge the replacement fee (%s).", failed)
	}
	return nil
}
