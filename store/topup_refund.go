package store

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

// ReturnRejected implements onecard.PaymentStore: the channel has refunded
// a rejected payment to its payer, so the school owes it no longer and the
// clearing account is back to what the channel's settlement will show.
func (db *DB) ReturnRejected(ctx context.Context, no string) (*onecard.TopUp, error) {
	var out *onecard.TopUp
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		t, err := findTopUp(ctx, tx, tx.forUpdate(), no)
		if err != nil {
			return err
		}
		out = t
		switch t.State {
		case onecard.TopUpReturned:
			return nil
		case onecard.TopUpRejected:
		default:
			return onecard.Errorf(onecard.ECONFLICT, "Top-up %s is %s; only a rejected payment is returned to its payer.", no, t.State)
		}
		refunds, err := tx.systemAccount(ctx, t.SchoolID, KindRefundsPayable)
		if err != nil {
			return err
		}
		clearing, err := tx.systemAccount(ctx, t.SchoolID, clearingKind(t.Channel))
		if err != nil {
			return err
		}
		res, err := ledger.Apply(ctx, tx, []ledger.Transfer{{Key: "topup-return:" + t.No, Debit: refunds, Credit: clearing, Amount: t.Total,
			Code: codeTopUpReturn, Memo: fmt.Sprintf("%s refund %s of top-up %s", paymentChannelTitle(t.Channel), topUpRefundNo(t.No), t.No)}})
		if err != nil {
			return err
		}
		if r := res[0].Result; !r.Done() {
			return fmt.Errorf("store: the ledger refused to book the return of top-up %s: %s", t.No, r)
		}
		t.State = onecard.TopUpReturned
		if _, err := tx.exec(ctx, `UPDATE top_ups SET state = ?, returned_at = ? WHERE order_no = ?`, string(t.State), micro(tx.now), no); err != nil {
			return fmt.Errorf("store: unable to return top-up: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "topup.return", SchoolID: t.SchoolID, TargetType: "cardholder", TargetID: t.CardholderID,
			Detail: fmt.Sprintf("%s: %s refunded to the payer through %s", t.No, onecard.Yuan(t.Total), t.Channel)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RefundTopUp implements onecard.PaymentStore. Only what is still on the
// transition balance can be refunded: money already claimed onto the card
// (or spent) is the cardholder's to take off at the counter. The transfer
// is booked with Settle, so a card frozen for being lost can still have a
// mistaken top-up taken back; a freeze stops the cardholder spending, not
// an operator's correction. The fee stays with the school: the channel
// charged it.
func (db *DB) RefundTopUp(ctx context.Context, no, reason string) (*onecard.TopUp, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 200 || strings.IndexFunc(reason, unicode.IsControl) >= 0 {
		return nil, onecard.Errorf(onecard.EINVALID, "Give the reason for the refund (1 to 200 characters).")
	}
	var out *onecard.TopUp
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		t, err := findTopUp(ctx, tx, tx.forUpdate(), no)
		if err != nil {
			return err
		}
		out = t
		switch t.State {
		case onecard.TopUpRefunded:
			return nil
		case onecard.TopUpCredited:
		default:
			return onecard.Errorf(onecard.ECONFLICT, "Top-up %s is %s; only a credited top-up can be refunded.", no, t.State)
		}
		h, err := findCardholder(ctx, tx, "", t.CardholderID)
		if err != nil {
			return err
		}
		refunds, err := tx.systemAccount(ctx, t.SchoolID, KindRefundsPayable)
		if err != nil {
			return err
		}
		a, err := tx.Accounts(ctx, []int64{h.TransitionAccount})
		if err != nil {
			return err
		}
		// The ledger's floor would let the refund dig into the arrears
		// allowance; a refund must not put the cardholder in debt.
		if avail := a[h.TransitionAccount].Balance - a[h.TransitionAccount].DebitsPending; avail < t.Amount {
			return onecard.Errorf(onecard.EINSUFFICIENT, "The transition balance is %s; it cannot give back the %s of top-up %s. Money already on the card is not refunded here.",
				onecard.Yuan(avail), onecard.Yuan(t.Amount), no)
		}
		res, err := ledger.Apply(ctx, tx, []ledger.Transfer{{Key: "topup-refund:" + t.No, Debit: h.TransitionAccount, Credit: refunds,
			Amount: t.Amount, Flags: ledger.Settle, Code: codeTopUpRefund, Memo: truncate("refund of top-up "+t.No+": "+reason, ledger.MaxMemoLen)}})
		if err != nil {
			return err
		}
		if err := tx.transferError(ctx, res[0].Result, h, t.Amount, "refund the "+onecard.Yuan(t.Amount)+" top-up"); err != nil {
			return err
		}
		t.State = onecard.TopUpRefunded
		if _, err := tx.exec(ctx, `UPDATE top_ups SET state = ?, refunded_at = ?, refund_reason = ? WHERE order_no = ?`,
			string(t.State), micro(tx.now), reason, no); err != nil {
			return fmt.Errorf("store: unable to refund top-up: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "topup.refund", SchoolID: t.SchoolID, TargetType: "cardholder", TargetID: t.CardholderID,
			Detail: truncate(fmt.Sprintf("%s: %s to refunds payable, transfer %d: %s", t.No, onecard.Yuan(t.Amount), res[0].Transfer.ID, reason), 1000)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
