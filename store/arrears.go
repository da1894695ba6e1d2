package store

import (
	"context"
	"fmt"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

// settleArrears runs inside every ledger batch after the balances moved,
// for the cardholders arrearsCandidates names. A cardholder whose purse +
// transition fell below zero gets their card frozen for arrears; one whose
// card is frozen for arrears and whose total is back at zero or above is
// unfrozen (seed 001, Part 08). Only accounts that can
// change either state are looked at, so ordinary batches cost nothing here.
//
// The candidates come from tx.accountOwner (filled when the batch loaded
// its accounts): a cardholder's purse or transition account that was
// debited (the total may now be below zero) or that was frozen and got a
// credit (the arrears may be paid). Batches of top-ups to unfrozen accounts
// and of merchant or system transfers run no query at all; a batch with
// candidates runs one query per 4,000 of them, and touches cards only for
// the cardholders whose state changes.
func (tx *Tx) settleArrears(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	type change struct {
		cardID int64
		total  int64
	}
	var changes []change
	for chunk := range chunks(ids, 4000) {
		in, args := `IN (`+placeholders(len(chunk))+`)`, anys(chunk)
		if tx.db.dialect == Postgres {
			in, args = `= ANY(?)`, []any{chunk}
		}
		rows, err := tx.query(ctx, `SELECT c.id, p.balance + t.balance, c.freeze_reason
			FROM cardholders h
			JOIN accounts p ON p.id = h.purse_account
			JOIN accounts t ON t.id = h.transition_account
			JOIN cards c ON c.cardholder_id = h.id AND c.status = 'active'
			WHERE h.id `+in, args...)
		if err != nil {
			return fmt.Errorf("store: unable to settle arrears: %w", err)
		}
		for rows.Next() {
			var c change
			var reason string
			if err := rows.Scan(&c.cardID, &c.total, &reason); err != nil {
				rows.Close()
				return fmt.Errorf("store: unable to settle arrears: %w", err)
			}
			if (c.total < 0 && reason == "") || (c.total >= 0 && reason == string(onecard.FreezeArrears)) {
				changes = append(changes, c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: unable to settle arrears: %w", err)
		}
	}
	for _, ch := range changes {
		if err := tx.settleCard(ctx, ch.cardID, ch.total); err != nil {
			return err
		}
	}
	if tx.batch != nil && len(changes) > 0 {
		tx.batch.settled = true // accounts were frozen or unfrozen outside the ledger's view
	}
	return nil
}

// arrearsCandidates lists the cardholders whose arrears state the deltas
// may change.
func (tx *Tx) arrearsCandidates(deltas []ledger.Delta) []int64 {
	var ids []int64
	seen := map[int64]bool{}
	for _, d := range deltas {
		o, ok := tx.accountOwner[d.Account]
		if !ok || o.ownerID == 0 || (o.kind != KindPurse && o.kind != KindTransition) || seen[o.ownerID] {
			continue
		}
		if d.Balance < 0 || (o.frozen && d.Balance > 0) {
			seen[o.ownerID] = true
			ids = append(ids, o.ownerID)
		}
	}
	return ids
}

// settleCard freezes a card for arrears (total below zero) or lifts its
// arrears freeze (total at zero or above), as the system.
func (tx *Tx) settleCard(ctx context.Context, cardID, total int64) error {
	c, err := tx.card(ctx, cardID)
	if err != nil {
		return err
	}
	before := *c
	action := "card.freeze"
	if total < 0 {
		if err := tx.freezeCard(ctx, c, onecard.FreezeArrears, "balance "+onecard.Yuan(total)); err != nil {
			return err
		}
	} else {
		action = "card.unfreeze"
		if err := tx.unfreezeCard(ctx, c); err != nil {
			return err
		}
	}
	if err := tx.saveCard(ctx, &before, c); err != nil {
		return err
	}
	return tx.auditAs(ctx, actorSystem, 0, auditEvent{Action: action, SchoolID: c.SchoolID, TargetType: "card", TargetID: c.ID,
		Detail: "arrears: balance " + onecard.Yuan(total)})
}
