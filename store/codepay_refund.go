package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

// codeMerchantRefund is the transfer code of a merchant's refund of a code
// payment.
const codeMerchantRefund = "refund"

// codePayRefundKey prefixes the ledger key of a refund: the refund number
// is the idempotency key the channel knows the refund by.
const codePayRefundKey = "codepay-refund:"

// RefundCodePayment implements onecard.PaymentStore. The channel has
// already given the payer the money back, so the merchant now pays the
// clearing account back what it received. A one-card code payment is
// refunded to the cardholder's transition balance, where it came from
// (which also lifts an arrears freeze the payment caused, when the
// balance is back at zero). Refunds are kept by number, each once; the
// payment's refunded sum grows with them and it is refunded when all is
// back.
func (db *DB) RefundCodePayment(ctx context.Context, no, refundNo string, amount int64) (*onecard.CodePayment, error) {
	if err := validCodePayNo(refundNo, "refund number"); err != nil {
		return nil, err
	}
	if err := onecard.ValidateAmount(amount); err != nil {
		return nil, err
	}
	var out *onecard.CodePayment
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		p, _, err := findCodePayment(ctx, tx, no)
		if err != nil {
			return err
		}
		out = p
		var prevNo string
		var prevAmount int64
		err = tx.queryRow(ctx, `SELECT payment_no, amount FROM code_payment_refunds WHERE refund_no = ?`, refundNo).Scan(&prevNo, &prevAmount)
		if err == nil {
			if prevNo != no || prevAmount != amount {
				return onecard.Errorf(onecard.ECONFLICT, "Refund number %s was already used for a different refund.", refundNo)
			}
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: unable to load refund: %w", err)
		}
		if p.State != onecard.CodePaid && p.State != onecard.CodeRefunded {
			return onecard.Errorf(onecard.ECONFLICT, "Payment %s is %s; only a paid payment can be refunded.", no, p.State)
		}
		if left := p.Amount - p.Refunded; amount > left {
			return onecard.Errorf(onecard.EINVALID, "Payment %s has %s left to refund, not %s.", no, onecard.Yuan(left), onecard.Yuan(amount))
		}
		m, err := findMerchant(ctx, tx, p.MerchantID)
		if err != nil {
			return err
		}
		var to int64
		var holder *onecard.Cardholder
		if p.Channel == ChannelOneCard {
			if holder, err = findCardholder(ctx, tx, "", p.CardholderID); err != nil {
				return err
			}
			to = holder.TransitionAccount
		} else if to, err = tx.systemAccount(ctx, p.SchoolID, "clearing_"+p.Channel); err != nil {
			return err
		}
		t := ledger.Transfer{Key: codePayRefundKey + refundNo, Debit: m.Account, Credit: to, Amount: amount, Code: codeMerchantRefund,
			Memo: truncate(m.Name+" refund ("+p.Channel+")", ledger.MaxMemoLen)}
		res, err := ledger.Apply(ctx, tx, []ledger.Transfer{t})
		if err != nil {
			return err
		}
		switch r := res[0].Result; r {
		case ledger.OK:
		case ledger.InsufficientFunds:
			// The merchant's account has a floor of zero: it cannot give
			// back what it no longer holds (paid out to the merchant).
			return onecard.Errorf(onecard.EINSUFFICIENT, "Merchant %s's balance is not enough to refund %s.", m.Name, onecard.Yuan(amount))
		default:
			return onecard.Errorf(onecard.ECONFLICT, "Unable to refund %s of payment %s (%s).", onecard.Yuan(amount), no, r)
		}
		if _, err := tx.exec(ctx, `INSERT INTO code_payment_refunds (refund_no, payment_no, school_id, channel, amount, transfer_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, refundNo, no, p.SchoolID, p.Channel, amount, res[0].Transfer.ID, micro(tx.now)); err != nil {
			return fmt.Errorf("store: unable to record refund: %w", err)
		}
		p.Refunded += amount
		if p.Refunded == p.Amount {
			p.State = onecard.CodeRefunded
		}
		if _, err := tx.exec(ctx, `UPDATE code_payments SET refunded = ?, state = ? WHERE no = ?`, p.Refunded, p.State, no); err != nil {
			return fmt.Errorf("store: unable to record refund: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "money.codepay_refund", SchoolID: p.SchoolID, TargetType: "merchant", TargetID: m.ID,
			Detail: fmt.Sprintf("%s of %s payment %s, refund %s, transfer %d", onecard.Yuan(amount), p.Channel, no, refundNo, res[0].Transfer.ID)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
