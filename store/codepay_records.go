package store

import (
	"context"
	"fmt"
	"time"

	"github.com/onecard-campus/onecard"
)

// codePaymentRecords returns OneCard's side of a channel's code payments
// for one school in [from, to): each payment the channel took, at the time
// the channel says it was paid, and each refund, at the time it was booked.
// A payment refunded later still counts on its own day; its refunds count
// on theirs, as the channel's statements list them.
func (db *DB) codePaymentRecords(ctx context.Context, schoolID int64, channel string, from, to time.Time) ([]onecard.ChannelRecord, error) {
	var out []onecard.ChannelRecord
	rows, err := db.query(ctx, `SELECT no, gateway_no, amount, paid_at FROM code_payments
		WHERE school_id = ? AND channel = ? AND state IN (?, ?) AND paid_at >= ? AND paid_at < ? ORDER BY paid_at, no`,
		schoolID, channel, onecard.CodePaid, onecard.CodeRefunded, micro(from), micro(to))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list code payments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r := onecard.ChannelRecord{Kind: "payment"}
		var at int64
		if err := rows.Scan(&r.No, &r.GatewayNo, &r.Amount, &at); err != nil {
			return nil, fmt.Errorf("store: unable to list code payments: %w", err)
		}
		r.At = fromMicro(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to list code payments: %w", err)
	}
	rows.Close()
	rows, err = db.query(ctx, `SELECT r.payment_no, r.refund_no, p.gateway_no, r.amount, r.created_at
		FROM code_payment_refunds r JOIN code_payments p ON p.no = r.payment_no
		WHERE r.school_id = ? AND r.channel = ? AND r.created_at >= ? AND r.created_at < ? ORDER BY r.created_at, r.refund_no`,
		schoolID, channel, micro(from), micro(to))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list code payment refunds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r := onecard.ChannelRecord{Kind: "refund"}
		var at int64
		if err := rows.Scan(&r.No, &r.RefundNo, &r.GatewayNo, &r.Amount, &at); err != nil {
			return nil, fmt.Errorf("store: unable to list code payment refunds: %w", err)
		}
		r.At = fromMicro(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to list code payment refunds: %w", err)
	}
	return out, nil
}
