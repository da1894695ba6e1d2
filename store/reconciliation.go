package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/onecard-campus/onecard"
)

// ChannelRecords implements onecard.PaymentStore. A schoolID of 0 takes
// every school: a channel's statement covers the merchant account the
// whole deployment shares. Payments are the top-ups the channel was paid
// for, by the time it reported them paid (credited ones, and rejected,
// returned or refunded ones: the channel received those too) and the code
// payments; refunds are the channel's returns of rejected top-ups and the
// merchants' refunds of code payments. An operator's refund of a mistaken
// top-up goes back outside the channel and is not here.
func (db *DB) ChannelRecords(ctx context.Context, schoolID int64, channel string, from, to time.Time) ([]onecard.ChannelRecord, error) {
	if !knownChannel(channel) {
		return nil, onecard.Errorf(onecard.EINVALID, "Unknown channel %q.", channel)
	}
	school, args := "", []any{}
	if schoolID != 0 {
		school, args = ` AND school_id = ?`, []any{schoolID}
	}
	out := []onecard.ChannelRecord{}
	add := func(kind, column, states string, args ...any) error {
		rows, err := db.query(ctx, `SELECT order_no, gateway_no, total, `+column+` FROM top_ups
			WHERE channel = ? AND `+column+` >= ? AND `+column+` < ? AND state IN (`+states+`)`+school, args...)
		if err != nil {
			return fmt.Errorf("store: unable to list channel records: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r := onecard.ChannelRecord{Kind: kind}
			var at int64
			if err := rows.Scan(&r.No, &r.GatewayNo, &r.Amount, &at); err != nil {
				return fmt.Errorf("store: unable to list channel records: %w", err)
			}
			r.At = fromMicro(at)
			if kind == "refund" {
				r.RefundNo = topUpRefundNo(r.No)
			}
			out = append(out, r)
		}
		return rows.Err()
	}
	span := []any{channel, micro(from), micro(to)}
	if err := add("payment", "paid_at", `'credited', 'rejected', 'returned', 'refunded'`, append(span, args...)...); err != nil {
		return nil, err
	}
	if err := add("refund", "returned_at", `'returned'`, append(span, args...)...); err != nil {
		return nil, err
	}
	// codePaymentRecords takes one school at a time.
	schools := []int64{schoolID}
	if schoolID == 0 {
		all, err := db.Schools(ctx)
		if err != nil {
			return nil, err
		}
		schools = schools[:0]
		for _, s := range all {
			schools = append(schools, s.ID)
		}
	}
	for _, id := range schools {
		codes, err := db.codePaymentRecords(ctx, id, channel, from, to)
		if err != nil {
			return nil, err
		}
		out = append(out, codes...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		if a.No != b.No {
			return a.No < b.No
		}
		return a.Kind < b.Kind
	})
	return out, nil
}

// SaveReconciliation implements onecard.PaymentStore. A report is kept as
// made; reconciling a day again adds a new one.
func (db *DB) SaveReconciliation(ctx context.Context, r *onecard.Reconciliation) error {
	if !knownChannel(r.Channel) {
		return onecard.Errorf(onecard.EINVALID, "Unknown channel %q.", r.Channel)
	}
	if _, err := time.Parse("2006-01-02", r.Day); err != nil {
		return onecard.Errorf(onecard.EINVALID, "A reconciliation's day is written 2026-11-21, not %q.", r.Day)
	}
	if r.Issues == nil {
		r.Issues = []onecard.ReconciliationItem{}
	}
	issues, err := json.Marshal(r.Issues)
	if err != nil {
		return fmt.Errorf("store: unable to encode reconciliation issues: %w", err)
	}
	return db.Write(ctx, func(tx *Tx) error {
		if r.SchoolID != 0 {
			if _, err := tx.school(ctx, r.SchoolID); err != nil {
				return err
			}
		}
		id, err := tx.insertID(ctx, `INSERT INTO reconciliations (school_id, channel, day, matched, ours, theirs, issues, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.SchoolID, r.Channel, r.Day, r.Matched, r.Ours, r.Theirs, string(issues), micro(tx.now))
		if err != nil {
			return fmt.Errorf("store: unable to save reconciliation: %w", err)
		}
		r.ID, r.CreatedAt = id, tx.now
		return tx.audit(ctx, auditEvent{Action: "reconciliation.save", SchoolID: r.SchoolID, TargetType: "reconciliation", TargetID: id,
			Detail: fmt.Sprintf("%s %s: %d matched, %d issues", r.Channel, r.Day, r.Matched, len(r.Issues))})
	})
}

// Reconciliations implements onecard.PaymentStore. A schoolID of 0 lists
// every report, the deployment-wide ones (saved with school 0) included;
// a school's ID lists that school's own.
func (db *DB) Reconciliations(ctx context.Context, schoolID int64, limit int) ([]*onecard.Reconciliation, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	const cols = `SELECT id, school_id, channel, day, matched, ours, theirs, issues, created_at FROM reconciliations`
	q, args := cols+` ORDER BY id DESC LIMIT ?`, []any{limit}
	if schoolID != 0 {
		q, args = cols+` WHERE school_id = ? ORDER BY id DESC LIMIT ?`, []any{schoolID, limit}
	}
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list reconciliations: %w", err)
	}
	defer rows.Close()
	out := []*onecard.Reconciliation{}
	for rows.Next() {
		r := &onecard.Reconciliation{}
		var issues string
		var created int64
		if err := rows.Scan(&r.ID, &r.SchoolID, &r.Channel, &r.Day, &r.Matched, &r.Ours, &r.Theirs, &issues, &created); err != nil {
			return nil, fmt.Errorf("store: unable to list reconciliations: %w", err)
		}
		if err := json.Unmarshal([]byte(issues), &r.Issues); err != nil {
			return nil, fmt.Errorf("store: reconciliation %d has unreadable issues: %w", r.ID, err)
		}
		r.CreatedAt = fromMicro(created)
		out = append(out, r)
	}
	return out, rows.Err()
}
