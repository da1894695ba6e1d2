package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

// codePayKey prefixes the ledger key of a code payment's transfer to the
// merchant: the payment number is unique, so a second booking of the same
// payment is the ledger's duplicate, whatever the channel.
const codePayKey = "codepay:"

const codePaymentColumns = `no, school_id, merchant_id, terminal_id, channel, amount, refunded, state, cardholder_id, payer,
	gateway_no, transfer_id, created_at, paid_at, code_hash`

// CreateCodePayment implements onecard.PaymentStore for Alipay and WeChat
// codes scanned at a POS; the one-card code goes through PayWithCode. The
// row exists before the channel is asked, so that an answer arriving late
// (a notification, the query job) always finds what it settles.
func (db *DB) CreateCodePayment(ctx context.Context, p *onecard.CodePayment) (*onecard.CodePayment, error) {
	if err := validCodePayNo(p.No, "payment number"); err != nil {
		return nil, err
	}
	if p.Channel != onecard.ChannelAlipay && p.Channel != onecard.ChannelWechat {
		return nil, onecard.Errorf(onecard.EINVALID, "A code payment through a channel is by Alipay or WeChat, not %q.", p.Channel)
	}
	if err := onecard.ValidateAmount(p.Amount); err != nil {
		return nil, err
	}
	var out *onecard.CodePayment
	err := db.Write(ctx, func(tx *Tx) error {
		m, err := findMerchant(ctx, tx, p.MerchantID)
		if err != nil {
			return err
		}
		if p.SchoolID != 0 && p.SchoolID != m.SchoolID {
			return onecard.Errorf(onecard.EINVALID, "Merchant %s is not a merchant of school %d.", m.Name, p.SchoolID)
		}
		// ON CONFLICT rather than a unique violation: on PostgreSQL a failed
		// statement would abort the transaction before the stored row could
		// be read back for the comparison.
		if _, err := tx.exec(ctx, `INSERT INTO code_payments (no, school_id, merchant_id, terminal_id, channel, amount, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (no) DO NOTHING`,
			p.No, m.SchoolID, m.ID, p.TerminalID, p.Channel, p.Amount, onecard.CodePaying, micro(tx.now)); err != nil {
			return fmt.Errorf("store: unable to record code payment: %w", err)
		}
		stored, _, err := findCodePayment(ctx, tx, p.No)
		if err != nil {
			return err
		}
		if stored.Channel != p.Channel || stored.MerchantID != m.ID || stored.Amount != p.Amount {
			return onecard.Errorf(onecard.ECONFLICT, "Payment number %s was already used for a different payment.", p.No)
		}
		out = stored
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SettleCodePayment implements onecard.PaymentStore. Exactly one of paid
// and closed is given. A paid payment moves the amount from the channel's
// clearing account (which goes negative by what the channel owes the
// school) to the merchant. A paid or refunded payment is returned
// unchanged, so a duplicate notification moves nothing. A closed payment
// that the channel reports paid after all is booked like a paying one: the
// money did leave the payer, and leaving it out of the books would only
// move the difference into reconciliation; the merchant refunds it if the
// goods were not handed over.
func (db *DB) SettleCodePayment(ctx context.Context, no string, paid *onecard.PaidTrade, closed bool) (*onecard.CodePayment, error) {
	if (paid == nil) == !closed {
		return nil, onecard.Errorf(onecard.EINVALID, "A code payment is settled as either paid or closed.")
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
		if p.Channel == ChannelOneCard {
			return onecard.Errorf(onecard.ECONFLICT, "Payment %s was paid with the one-card code; there is no channel answer to book.", no)
		}
		if paid != nil && paid.Amount != p.Amount {
			// A gateway or configuration fault, never money to book.
			return onecard.Errorf(onecard.EINVALID, "The channel reports %s paid for payment %s of %s.",
				onecard.Yuan(paid.Amount), no, onecard.Yuan(p.Amount))
		}
		if p.State == onecard.CodePaid || p.State == onecard.CodeRefunded {
			return nil
		}
		if closed {
			if p.State == onecard.CodePaying {
				if _, err := tx.exec(ctx, `UPDATE code_payments SET state = ? WHERE no = ?`, onecard.CodeClosed, no); err != nil {
					return fmt.Errorf("store: unable to close code payment: %w", err)
				}
				p.State = onecard.CodeClosed
			}
			return nil
		}
		return tx.bookCodePayment(ctx, p, paid)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// bookCodePayment moves a paid channel payment to the merchant and links
// the payer's card when the payer's account is bound to one, so that the
// purchase shows in that cardholder's bills.
func (tx *Tx) bookCodePayment(ctx context.Context, p *onecard.CodePayment, paid *onecard.PaidTrade) error {
	m, err := findMerchant(ctx, tx, p.MerchantID)
	if err != nil {
		return err
	}
	clearing, err := tx.systemAccount(ctx, p.SchoolID, "clearing_"+p.Channel)
	if err != nil {
		return err
	}
	var holderID int64
	if paid.Payer != "" {
		err := tx.queryRow(ctx, `SELECT cardholder_id FROM channel_bindings WHERE channel = ? AND account = ?`, p.Channel, paid.Payer).Scan(&holderID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: unable to look up the payer's binding: %w", err)
		}
	}
	t := ledger.Transfer{Key: codePayKey + p.No, Debit: clearing, Credit: m.Account, Amount: p.Amount, Code: codePurchase,
		Memo: truncate(m.Name+" ("+p.Channel+")", ledger.MaxMemoLen)}
	res, err := ledger.Apply(ctx, tx, []ledger.Transfer{t})
	if err != nil {
		return err
	}
	if r := res[0].Result; r != ledger.OK && r != ledger.Exists {
		return onecard.Errorf(onecard.ECONFLICT, "Unable to book payment %s to merchant %s (%s).", p.No, m.Name, r)
	}
	at := tx.now
	if !paid.At.IsZero() {
		at = fromMicro(micro(paid.At))
	}
	p.State, p.Payer, p.GatewayNo, p.CardholderID, p.TransferID, p.PaidAt = onecard.CodePaid, paid.Payer, paid.GatewayNo, holderID, res[0].Transfer.ID, &at
	if _, err := tx.exec(ctx, `UPDATE code_payments SET state = ?, payer = ?, gateway_no = ?, cardholder_id = ?, transfer_id = ?, paid_at = ?
		WHERE no = ?`, p.State, p.Payer, p.GatewayNo, p.CardholderID, p.TransferID, micro(at), p.No); err != nil {
		return fmt.Errorf("store: unable to settle code payment: %w", err)
	}
	return tx.audit(ctx, auditEvent{Action: "money.codepay", SchoolID: p.SchoolID, TargetType: "merchant", TargetID: m.ID,
		Detail: fmt.Sprintf("%s by %s code, %s, transfer %d", onecard.Yuan(p.Amount), p.Channel, p.No, p.TransferID)})
}

// CodePayment implements onecard.PaymentStore.
func (db *DB) CodePayment(ctx context.Context, no string) (*onecard.CodePayment, error) {
	p, _, err := findCodePayment(ctx, db, no)
	return p, err
}

// findCodePayment loads a payment and the hash of the one-card code that
// paid it (empty for channel payments).
func findCodePayment(ctx context.Context, q querier, no string) (*onecard.CodePayment, []byte, error) {
	p, hash, err := scanCodePayment(q.queryRow(ctx, `SELECT `+codePaymentColumns+` FROM code_payments WHERE no = ?`, no))
	if err != nil {
		return nil, nil, notFound(err, "unable to load code payment", "Code payment %s does not exist.", no)
	}
	return p, hash, nil
}

func scanCodePayment(r scanner) (*onecard.CodePayment, []byte, error) {
	p := &onecard.CodePayment{}
	var created, paid int64
	var hash []byte
	if err := r.Scan(&p.No, &p.SchoolID, &p.MerchantID, &p.TerminalID, &p.Channel, &p.Amount, &p.Refunded, &p.State,
		&p.CardholderID, &p.Payer, &p.GatewayNo, &p.TransferID, &created, &paid, &hash); err != nil {
		return nil, nil, err
	}
	p.CreatedAt, p.PaidAt = fromMicro(created), fromMicroPtr(paid)
	return p, hash, nil
}

// validCodePayNo checks a payment or refund number: 1 to 64 printable
// ASCII characters without spaces, as the channels accept for their order
// numbers, and short enough for the ledger key it becomes part of.
func validCodePayNo(no, what string) error {
	ok := len(no) >= 1 && len(no) <= 64
	for i := 0; ok && i < len(no); i++ {
		ok = no[i] > ' ' && no[i] < 0x7f
	}
	if !ok {
		return onecard.Errorf(onecard.EINVALID, "A %s is 1 to 64 letters, digits or signs, without spaces.", what)
	}
	return nil
}

// withCodePayments merges into a cardholder's ledger history (newest
// first) the Alipay and WeChat code payments made from the cardholder's
// bound accounts: they never touch the card's accounts, but the cardholder
// paid them and expects them in the card's bills (seed 004). They show as
// purchases from "alipay" or "wechat" with the merchant's name; a refunded
// one keeps its line with the state "refunded".
func (db *DB) withCodePayments(ctx context.Context, h *onecard.Cardholder, until int64, limit int, items []*onecard.HistoryItem) ([]*onecard.HistoryItem, error) {
	rows, err := db.query(ctx, `SELECT p.transfer_id, p.paid_at, p.channel, p.amount, p.state, m.name
		FROM code_payments p JOIN merchants m ON m.id = p.merchant_id
		WHERE p.cardholder_id = ? AND p.channel IN (?, ?) AND p.state IN (?, ?) AND p.paid_at < ?
		ORDER BY p.paid_at DESC LIMIT ?`,
		h.ID, onecard.ChannelAlipay, onecard.ChannelWechat, onecard.CodePaid, onecard.CodeRefunded, until, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to load code payments: %w", err)
	}
	defer rows.Close()
	var cps []*onecard.HistoryItem
	for rows.Next() {
		it := &onecard.HistoryItem{Code: codePurchase}
		var at int64
		var state string
		if err := rows.Scan(&it.TransferID, &at, &it.Account, &it.Amount, &state, &it.Memo); err != nil {
			return nil, fmt.Errorf("store: unable to load code payments: %w", err)
		}
		it.Time, it.Amount = fromMicro(at), -it.Amount
		if state == onecard.CodeRefunded {
			it.State = state
		}
		cps = append(cps, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to load code payments: %w", err)
	}
	if len(cps) == 0 {
		return items, nil
	}
	out := make([]*onecard.HistoryItem, 0, min(limit, len(items)+len(cps)))
	for len(out) < limit && (len(items) > 0 || len(cps) > 0) {
		if len(cps) > 0 && (len(items) == 0 || cps[0].Time.After(items[0].Time)) {
			out, cps = append(out, cps[0]), cps[1:]
		} else {
			out, items = append(out, items[0]), items[1:]
		}
	}
	return out, nil
}
