package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

// Transfer code of a correction of the purse shadow to what a card holds.
const codeCorrection = "correction"

// CorrectMismatch sets a card's purse shadow to the balance the card
// actually holds, as read at the service hall (seed 001 Part 08: 到服务大厅
// 现场矫正卡片). Called by the operator API's POST
// /api/v1/cards/{id}/correct-balance. The difference moves between the
// purse and the school's over/short account, in whichever direction; a
// freeze for mismatch is lifted (into an arrears freeze if the balance is
// below zero, as Unfreeze does); the card's purse state takes the new
// balance; the operator's action is audited with both figures. A card
// balance equal to the shadow moves nothing and still lifts the freeze.
// EINVALID (balance outside 0 to the purse ceiling, note too long),
// ENOTFOUND, ECONFLICT (cancelled card).
func (db *DB) CorrectMismatch(ctx context.Context, cardID, cardBalance int64, note string) (*onecard.Card, error) {
	note = strings.TrimSpace(note)
	if len([]rune(note)) > 200 {
		return nil, onecard.Errorf(onecard.EINVALID, "A correction note has at most 200 characters.")
	}
	if cardBalance < 0 {
		return nil, onecard.Errorf(onecard.EINVALID, "A card balance cannot be negative.")
	}
	var c *onecard.Card
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		var err error
		if c, err = tx.card(ctx, cardID); err != nil {
			return err
		}
		if c.Status == onecard.CardCancelled {
			return onecard.Errorf(onecard.ECONFLICT, "Card %s is cancelled; its balance lives on in the cardholder's new card.", c.UID)
		}
		h, err := findCardholder(ctx, tx, "", c.CardholderID)
		if err != nil {
			return err
		}
		s, err := tx.school(ctx, c.SchoolID)
		if err != nil {
			return err
		}
		if cardBalance > s.Settings.PurseCeiling {
			return onecard.Errorf(onecard.EINVALID, "A card cannot hold %s: the purse ceiling is %s.",
				onecard.Yuan(cardBalance), onecard.Yuan(s.Settings.PurseCeiling))
		}
		a, err := tx.Accounts(ctx, []int64{h.PurseAccount})
		if err != nil {
			return err
		}
		shadow := a[h.PurseAccount].Balance
		var transferID int64
		if diff := cardBalance - shadow; diff != 0 {
			overShort, err := tx.systemAccount(ctx, c.SchoolID, KindOverShort)
			if err != nil {
				return err
			}
			t := ledger.Transfer{Key: fmt.Sprintf("correct:%d:%d", c.ID, tx.now.UnixMicro()), Debit: overShort, Credit: h.PurseAccount,
				Amount: diff, Code: codeCorrection, Memo: "card balance corrected at the service hall", Flags: ledger.Settle}
			if diff < 0 {
				t.Debit, t.Credit, t.Amount = h.PurseAccount, overShort, -diff
			}
			out, err := ledger.Apply(ctx, tx, []ledger.Transfer{t})
			if err != nil {
				return err
			}
			if r := out[0].Result; r != ledger.OK {
				if err := tx.transferError(ctx, r, h, t.Amount, "correct the balance"); err != nil {
					return err
				}
				return onecard.Errorf(onecard.ECONFLICT, "Unable to correct the balance (%s).", r)
			}
			transferID = out[0].Transfer.ID
		}
		if _, err := tx.exec(ctx, `UPDATE card_purses SET last_balance = ?, updated_at = ? WHERE card_id = ?`,
			cardBalance, micro(tx.now), c.ID); err != nil {
			return fmt.Errorf("store: unable to update card purse: %w", err)
		}
		// Reload: the ledger batch may have frozen or unfrozen the card for arrears.
		if c, err = tx.card(ctx, cardID); err != nil {
			return err
		}
		detail := fmt.Sprintf("card %s, account %s", onecard.Yuan(cardBalance), onecard.Yuan(shadow))
		if transferID != 0 {
			detail += fmt.Sprintf(", transfer %d", transferID)
		}
		if c.FreezeReason == onecard.FreezeMismatch {
			before := *c
			total, err := tx.total(ctx, h)
			if err != nil {
				return err
			}
			if total < 0 {
				c.FreezeReason, c.FreezeNote = onecard.FreezeArrears, "balance "+onecard.Yuan(total)+" when the mismatch freeze was lifted"
				detail += ", now frozen for arrears"
			} else if err := tx.unfreezeCard(ctx, c); err != nil {
				return err
			} else {
				detail += ", unfrozen"
			}
			if err := tx.saveCard(ctx, &before, c); err != nil {
				return err
			}
		}
		if note != "" {
			detail += ": " + note
		}
		return tx.audit(ctx, auditEvent{Action: "card.correct_balance", SchoolID: c.SchoolID, TargetType: "card", TargetID: c.ID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
