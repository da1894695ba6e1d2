package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

var _ onecard.PaymentStore = (*DB)(nil)

// Transfer codes of top-ups from the payment channels.
const (
	codeTopUp         = "topup"          // clearing → transition: the amount reaches the card's account
	codeTopUpFee      = "topup_fee"      // clearing → fee income: the channel fee the payer paid on top
	codeTopUpRejected = "topup_rejected" // clearing → refunds payable: paid by an account the order did not name
	codeTopUpReturn   = "topup_return"   // refunds payable → clearing: the channel gave a rejected payment back
	codeTopUpRefund   = "topup_refund"   // transition → refunds payable: an operator refunds a mistaken top-up
)

// topUpRefundNo is the channel refund number of a rejected order's return:
// the payment package refunds it under "R" + the order number, and
// reconciliation matches the statement's refund line by it.
func topUpRefundNo(no string) string { return "R" + no }

// clearingKind is the system account a channel's money arrives in.
func clearingKind(channel string) string {
	switch channel {
	case onecard.ChannelAlipay:
		return KindClearingAlipay
	case onecard.ChannelWechat:
		return KindClearingWechat
	}
	return KindClearingBank
}

func knownChannel(channel string) bool {
	return channel == onecard.ChannelAlipay || channel == onecard.ChannelWechat || channel == onecard.ChannelBank
}

// CreateTopUp implements onecard.PaymentStore. The checks run under the
// ledger head lock, like Pay's: two orders of one cardholder (or an order
// and a kiosk's bank load) cannot both slip under a daily limit. A retry
// with the same key returns the first order without running the checks
// again, which that order itself might now fail.
func (db *DB) CreateTopUp(ctx context.Context, n *onecard.NewTopUp) (*onecard.TopUp, error) {
	key := strings.TrimSpace(n.Key)
	if key == "" || len(key) > 64 || strings.IndexFunc(key, unicode.IsControl) >= 0 {
		return nil, onecard.Errorf(onecard.EINVALID, "A request key of 1 to 64 characters is needed so that a retry does not open a second order.")
	}
	if !knownChannel(n.Channel) {
		return nil, onecard.Errorf(onecard.EINVALID, "A top-up is paid with alipay, wechat or bank, not %q.", n.Channel)
	}
	switch n.Kind {
	case onecard.TopUpBank, onecard.TopUpAuto:
		if n.Channel != onecard.ChannelBank {
			return nil, onecard.Errorf(onecard.EINVALID, "A %s top-up comes from the bound bank card.", n.Kind)
		}
	case onecard.TopUpBound, onecard.TopUpPublic:
		if n.Channel == onecard.ChannelBank {
			return nil, onecard.Errorf(onecard.EINVALID, "A %s top-up is paid with Alipay or WeChat.", n.Kind)
		}
	default:
		return nil, onecard.Errorf(onecard.EINVALID, "A top-up is bound, public, bank or auto, not %q.", n.Kind)
	}
	if n.Kind == onecard.TopUpPublic && n.Payer != "" {
		return nil, onecard.Errorf(onecard.EINVALID, "A public top-up may be paid by anyone; it names no payer.")
	}
	phone := ""
	if n.Phone != "" {
		if n.Kind != onecard.TopUpPublic {
			return nil, onecard.Errorf(onecard.EINVALID, "Only a public top-up takes a phone for its notice.")
		}
		var ok bool
		if phone, ok = mainlandMobile(n.Phone); !ok {
			return nil, onecard.Errorf(onecard.EINVALID, "%q is not a mainland mobile number (11 digits starting with 1).", n.Phone)
		}
	}
	if err := onecard.ValidateAmount(n.Amount); err != nil {
		return nil, err
	}
	var out *onecard.TopUp
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		h, err := findCardholder(ctx, tx, "", n.CardholderID)
		if err != nil {
			return err
		}
		prev, err := scanTopUp(tx.queryRow(ctx, `SELECT `+topUpColumns+` FROM top_ups WHERE cardholder_id = ? AND request_key = ?`, h.ID, key))
		if err == nil {
			if prev.Channel != n.Channel || prev.Kind != n.Kind || prev.Amount != n.Amount {
				return onecard.Errorf(onecard.ECONFLICT, "Request key %q was already used for another top-up (%s, %s, %s).",
					key, prev.Channel, prev.Kind, onecard.Yuan(prev.Amount))
			}
			out = prev
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: unable to look up top-up: %w", err)
		}
		if h.Status == onecard.CardholderClosed {
			return onecard.Errorf(onecard.ECONFLICT, "The account of %s is closed; it takes no top-ups.", h.Number)
		}
		s, err := tx.school(ctx, h.SchoolID)
		if err != nil {
			return err
		}
		rules := s.Settings.TopUp
		if err := rules.CheckAmount(n.Amount); err != nil {
			return err
		}
		payer, err := tx.topUpPayer(ctx, h, n)
		if err != nil {
			return err
		}
		fee := rules.Fee(n.Channel, n.Amount)
		if err := onecard.ValidateAmount(n.Amount + fee); err != nil {
			return err
		}
		dayStart := s.Settings.DayStart(tx.now)
		today, err := tx.topUpsSince(ctx, h.ID, dayStart, "")
		if err != nil {
			return err
		}
		if today+n.Amount > rules.DailyLimit {
			return onecard.Errorf(onecard.ELIMIT, "Top-ups today (credited and awaiting payment) would come to %s, above the daily limit of %s.",
				onecard.Yuan(today+n.Amount), onecard.Yuan(rules.DailyLimit))
		}
		if n.Channel == onecard.ChannelBank {
			bank, err := tx.bankMoneySince(ctx, h.ID, dayStart)
			if err != nil {
				return err
			}
			if bank+n.Amount > rules.BankDailyLimit {
				return onecard.Errorf(onecard.ELIMIT, "Money from the bank card today (kiosk loads and bank top-ups) would come to %s, above the daily limit of %s.",
					onecard.Yuan(bank+n.Amount), onecard.Yuan(rules.BankDailyLimit))
			}
		}
		no, err := tx.newTopUpNo(ctx, s.Settings.Location())
		if err != nil {
			return err
		}
		t := &onecard.TopUp{No: no, SchoolID: h.SchoolID, CardholderID: h.ID, Channel: n.Channel, Kind: n.Kind,
			Amount: n.Amount, Fee: fee, Total: n.Amount + fee, State: onecard.TopUpPending, Payer: payer, Phone: phone,
			CreatedAt: tx.now, ExpiresAt: tx.now.Add(time.Duration(rules.OrderTimeout))}
		if _, err := tx.exec(ctx, `INSERT INTO top_ups (order_no, school_id, cardholder_id, channel, kind, amount, fee, total, state,
			payer, phone, request_key, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.No, t.SchoolID, t.CardholderID, t.Channel, string(t.Kind), t.Amount, t.Fee, t.Total, string(t.State),
			t.Payer, t.Phone, key, micro(t.CreatedAt), micro(t.ExpiresAt)); err != nil {
			return fmt.Errorf("store: unable to create top-up: %w", err)
		}
		out = t
		return tx.audit(ctx, auditEvent{Action: "topup.create", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: h.ID,
			Detail: fmt.Sprintf("%s: %s %s top-up of %s, fee %s", no, n.Kind, n.Channel, onecard.Yuan(t.Amount), onecard.Yuan(fee))})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// topUpPayer returns the account that must pay a new order: the bound
// Alipay or WeChat account, or the bank card's agreement. A payer the
// caller names must be that one: the binding may have changed since the
// caller looked. An automatic top-up also needs the cardholder's consent.
func (tx *Tx) topUpPayer(ctx context.Context, h *onecard.Cardholder, n *onecard.NewTopUp) (string, error) {
	var payer string
	switch n.Kind {
	case onecard.TopUpPublic:
		return "", nil
	case onecard.TopUpBound:
		b, err := findChannelBinding(ctx, tx, `cardholder_id = ? AND channel = ?`, h.ID, n.Channel)
		if errors.Is(err, sql.ErrNoRows) {
			return "", onecard.Errorf(onecard.ECONFLICT, "No %s account is bound to this card. Bind one first.", paymentChannelTitle(n.Channel))
		} else if err != nil {
			return "", fmt.Errorf("store: unable to load channel binding: %w", err)
		}
		payer = b.Account
	default: // bank, auto
		a, err := bankAgreement(ctx, tx, h.ID)
		if onecard.ErrorCode(err) == onecard.ENOTFOUND {
			return "", onecard.Errorf(onecard.ECONFLICT, "No bank card with a top-up agreement is bound to this card. Bind one first.")
		} else if err != nil {
			return "", err
		}
		payer = a
		if n.Kind == onecard.TopUpAuto {
			var enabled bool
			err := tx.queryRow(ctx, `SELECT enabled FROM auto_top_ups WHERE cardholder_id = ?`, h.ID).Scan(&enabled)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return "", fmt.Errorf("store: unable to load automatic top-up: %w", err)
			}
			if !enabled {
				return "", onecard.Errorf(onecard.ECONFLICT, "Automatic top-ups are off for this card.")
			}
		}
	}
	if n.Payer != "" && n.Payer != payer {
		return "", onecard.Errorf(onecard.ECONFLICT, "The account bound to this card has changed; please try again.")
	}
	return payer, nil
}

// topUpsSince sums the amounts of a cardholder's top-ups, through one
// channel or ("") all, that count against a daily limit from since: those
// opened or credited since then, and pending ones that can still be paid.
// Rejected, returned and closed orders never reached the card; refunded
// ones were mistakes given back.
//
// A credited order counts by when it was opened as well as by when it was
// paid, because paid_at is the gateway's time stamp, not ours: an order
// opened at 00:00:30 that a bank stamps paid at 23:59:30 is today's money,
// and without created_at every skew at midnight would let a cardholder
// spend a day's limit twice. An order opened before midnight and paid
// after it counts against both days, which errs on the side of the limit.
func (tx *Tx) topUpsSince(ctx context.Context, holderID int64, since time.Time, channel string) (int64, error) {
	q := `SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM top_ups WHERE cardholder_id = ?
		AND ((state = ? AND (paid_at >= ? OR created_at >= ?)) OR (state = ? AND (created_at >= ? OR expires_at > ?)))`
	args := []any{holderID, string(onecard.TopUpCredited), micro(since), micro(since), string(onecard.TopUpPending), micro(since), micro(tx.now)}
	if channel != "" {
		q += ` AND channel = ?`
		args = append(args, channel)
	}
	var sum int64
	if err := tx.queryRow(ctx, q, args...).Scan(&sum); err != nil {
		return 0, fmt.Errorf("store: unable to sum today's top-ups: %w", err)
	}
	return sum, nil
}

// bankMoneySince sums what a cardholder took from the bound bank card
// since a time: kiosk loads (圈存) not reversed and bank top-ups (bank and
// automatic) credited or payable. Both count against one daily limit,
// TopUpRules.BankDailyLimit.
func (tx *Tx) bankMoneySince(ctx context.Context, holderID int64, since time.Time) (int64, error) {
	loads, err := tx.bankLoadsSince(ctx, holderID, since)
	if err != nil {
		return 0, err
	}
	topUps, err := tx.topUpsSince(ctx, holderID, since, onecard.ChannelBank)
	if err != nil {
		return 0, err
	}
	return loads + topUps, nil
}

// newTopUpNo makes an order number: T, the school's local time to the
// second and six random digits (T20250901120000123456). Numbers sort by
// time and fit every channel's out_trade_no (letters and digits, at most
// 32). The caller holds the ledger head, so no other writer can take the
// number between the check and the insert.
func (tx *Tx) newTopUpNo(ctx context.Context, loc *time.Location) (string, error) {
	for range 10 {
		r, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
		if err != nil {
			return "", fmt.Errorf("store: unable to make an order number: %w", err)
		}
		no := fmt.Sprintf("T%s%06d", tx.now.In(loc).Format("20060102150405"), r.Int64())
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM top_ups WHERE order_no = ?`, no).Scan(&n); err != nil {
			return "", fmt.Errorf("store: unable to make an order number: %w", err)
		}
		if n == 0 {
			return no, nil
		}
	}
	return "", fmt.Errorf("store: no free order number this second")
}

// mainlandMobile normalises a mainland China mobile number: 11 digits
// starting 13 to 19, optionally written with +86 and spaces.
func mainlandMobile(phone string) (string, bool) {
	p := strings.TrimPrefix(strings.Join(strings.Fields(phone), ""), "+86")
	if len(p) != 11 || p[0] != '1' || p[1] < '3' || p[1] > '9' || strings.Trim(p, "0123456789") != "" {
		return "", false
	}
	return p, true
}

// SetTopUpPayURL implements onecard.PaymentStore.
func (db *DB) SetTopUpPayURL(ctx context.Context, no, url string) error {
	if len(url) > 4096 {
		return onecard.Errorf(onecard.EINVALID, "A payment page address has at most 4096 characters.")
	}
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE top_ups SET pay_url = ? WHERE order_no = ?`, url, no)
		if err != nil {
			return fmt.Errorf("store: unable to set payment page: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return onecard.Errorf(onecard.ENOTFOUND, "Top-up order %s does not exist.", no)
		}
		return nil
	})
}

// TopUp implements onecard.PaymentStore.
func (db *DB) TopUp(ctx context.Context, no string) (*onecard.TopUp, error) {
	return findTopUp(ctx, db, "", no)
}

// TopUpByKey implements onecard.PaymentStore.
func (db *DB) TopUpByKey(ctx context.Context, cardholderID int64, key string) (*onecard.TopUp, error) {
	ts, err := db.listTopUps(ctx, `cardholder_id = ? AND request_key = ? LIMIT ?`, cardholderID, key, 1)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, onecard.Errorf(onecard.ENOTFOUND, "No top-up was asked for with this key.")
	}
	return ts[0], nil
}

// TopUps implements onecard.PaymentStore.
func (db *DB) TopUps(ctx context.Context, cardholderID int64, limit int) ([]*onecard.TopUp, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	return db.listTopUps(ctx, `cardholder_id = ? ORDER BY created_at DESC, order_no DESC LIMIT ?`, cardholderID, limit)
}

// PendingTopUps implements onecard.PaymentStore.
func (db *DB) PendingTopUps(ctx context.Context, before time.Time, limit int) ([]*onecard.TopUp, error) {
	if limit <= 0 || limit > 5000 {
		limit = 500
	}
	// The state is written out so that the partial index top_ups_pending serves it.
	return db.listTopUps(ctx, `state = 'pending' AND created_at < ? ORDER BY created_at, order_no LIMIT ?`, micro(before), limit)
}

func (db *DB) listTopUps(ctx context.Context, where string, args ...any) ([]*onecard.TopUp, error) {
	rows, err := db.query(ctx, `SELECT `+topUpColumns+` FROM top_ups WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list top-ups: %w", err)
	}
	defer rows.Close()
	out := []*onecard.TopUp{}
	for rows.Next() {
		t, err := scanTopUp(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to list top-ups: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CreditTopUp implements onecard.PaymentStore. The payment is judged in
// this order: a wrong amount moves nothing (the channel's report or the
// order is wrong, and people must look); an order already decided is a
// duplicate report; a payer other than the one the order names, or a
// cardholder whose account has been closed meanwhile, makes the money owed
// back rather than credited. A closed order is credited like a pending one:
// the money was received.
func (db *DB) CreditTopUp(ctx context.Context, no string, paid onecard.PaidTrade) (*onecard.TopUp, error) {
	var out *onecard.TopUp
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		t, err := findTopUp(ctx, tx, tx.forUpdate(), no)
		if err != nil {
			return err
		}
		if paid.Amount != t.Total {
			return onecard.Errorf(onecard.EINVALID, "The channel reports %s paid for order %s of %s; nothing was credited.",
				onecard.Yuan(paid.Amount), no, onecard.Yuan(t.Total))
		}
		if t.State != onecard.TopUpPending && t.State != onecard.TopUpClosed {
			out = t
			return nil
		}
		h, err := findCardholder(ctx, tx, "", t.CardholderID)
		if err != nil {
			return err
		}
		clearing, err := tx.systemAccount(ctx, t.SchoolID, clearingKind(t.Channel))
		if err != nil {
			return err
		}
		wasClosed := t.State == onecard.TopUpClosed
		at := paid.At
		if at.IsZero() {
			at = tx.now
		}
		at = at.Truncate(time.Microsecond).UTC()
		t.PaidAt, t.PaidBy, t.GatewayNo = &at, truncate(paid.Payer, 128), truncate(strings.TrimSpace(paid.GatewayNo), 64)
		reason := ""
		switch {
		case t.Payer != "" && paid.Payer != t.Payer:
			reason = "paid by an account the order did not name"
		case h.Status == onecard.CardholderClosed:
			reason = "the cardholder's account is closed"
		}
		if reason != "" {
			out = t
			return tx.rejectTopUp(ctx, t, clearing, reason)
		}
		fees, err := tx.systemAccount(ctx, t.SchoolID, KindFeeIncome)
		if err != nil {
			return err
		}
		memo := fmt.Sprintf("%s top-up %s", paymentChannelTitle(t.Channel), t.No)
		ts := []ledger.Transfer{{Key: "topup:" + t.No, Debit: clearing, Credit: h.TransitionAccount, Amount: t.Amount,
			Code: codeTopUp, Memo: memo}}
		if t.Fee > 0 {
			ts[0].Flags = ledger.Linked
			ts = append(ts, ledger.Transfer{Key: "topup-fee:" + t.No, Debit: clearing, Credit: fees, Amount: t.Fee,
				Code: codeTopUpFee, Memo: "fee on " + memo})
		}
		res, err := ledger.Apply(ctx, tx, ts)
		if err != nil {
			return err
		}
		if err := tx.outcomesError(ctx, res, h, t.Amount, "credit the "+onecard.Yuan(t.Amount)+" top-up"); err != nil {
			return err
		}
		t.State, t.TransferID = onecard.TopUpCredited, res[0].Transfer.ID
		if _, err := tx.exec(ctx, `UPDATE top_ups SET state = ?, paid_at = ?, paid_by = ?, gateway_no = ?, transfer_id = ?
			WHERE order_no = ?`, string(t.State), micro(at), t.PaidBy, t.GatewayNo, t.TransferID, t.No); err != nil {
			return fmt.Errorf("store: unable to credit top-up: %w", err)
		}
		if t.Kind == onecard.TopUpAuto {
			if _, err := tx.exec(ctx, `UPDATE auto_top_ups SET last_at = ? WHERE cardholder_id = ?`, micro(at), t.CardholderID); err != nil {
				return fmt.Errorf("store: unable to note automatic top-up: %w", err)
			}
		}
		out = t
		detail := fmt.Sprintf("%s: %s to the card, fee %s, transfer %d", t.No, onecard.Yuan(t.Amount), onecard.Yuan(t.Fee), t.TransferID)
		if wasClosed {
			detail += ", paid after it was closed"
		}
		return tx.audit(ctx, auditEvent{Action: "topup.credit", SchoolID: t.SchoolID, TargetType: "cardholder", TargetID: t.CardholderID,
			Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// rejectTopUp books a payment the card must not get: the whole total moves
// from the clearing account to refunds payable, owed to the payer until the
// channel's refund (ReturnRejected).
func (tx *Tx) rejectTopUp(ctx context.Context, t *onecard.TopUp, clearing int64, reason string) error {
	refunds, err := tx.systemAccount(ctx, t.SchoolID, KindRefundsPayable)
	if err != nil {
		return err
	}
	res, err := ledger.Apply(ctx, tx, []ledger.Transfer{{Key: "topup-reject:" + t.No, Debit: clearing, Credit: refunds, Amount: t.Total,
		Code: codeTopUpRejected, Memo: truncate(fmt.Sprintf("%s top-up %s %s", paymentChannelTitle(t.Channel), t.No, reason), ledger.MaxMemoLen)}})
	if err != nil {
		return err
	}
	if r := res[0].Result; !r.Done() {
		return fmt.Errorf("store: the ledger refused to book rejected top-up %s: %s", t.No, r)
	}
	t.State = onecard.TopUpRejected
	if _, err := tx.exec(ctx, `UPDATE top_ups SET state = ?, paid_at = ?, paid_by = ?, gateway_no = ? WHERE order_no = ?`,
		string(t.State), micro(*t.PaidAt), t.PaidBy, t.GatewayNo, t.No); err != nil {
		return fmt.Errorf("store: unable to reject top-up: %w", err)
	}
	return tx.audit(ctx, auditEvent{Action: "topup.reject", SchoolID: t.SchoolID, TargetType: "cardholder", TargetID: t.CardholderID,
		Detail: fmt.Sprintf("%s: %s %s; owed back to the payer", t.No, onecard.Yuan(t.Total), reason)})
}

// outcomesError turns the first failure of a linked chain into a domain
// error; the other transfers of the chain only report LinkedFailed.
func (tx *Tx) outcomesError(ctx context.Context, res []ledger.Outcome, h *onecard.Cardholder, amount int64, what string) error {
	for _, o := range res {
		if !o.Result.Done() && o.Result != ledger.LinkedFailed {
			return tx.transferError(ctx, o.Result, h, amount, what)
		}
	}
	for _, o := range res {
		if !o.Result.Done() {
			return tx.transferError(ctx, o.Result, h, amount, what)
		}
	}
	return nil
}

// CloseTopUp implements onecard.PaymentStore.
func (db *DB) CloseTopUp(ctx context.Context, no string) (*onecard.TopUp, error) {
	var out *onecard.TopUp
	err := db.Write(ctx, func(tx *Tx) error {
		t, err := findTopUp(ctx, tx, tx.forUpdate(), no)
		if err != nil {
			return err
		}
		out = t
		switch t.State {
		case onecard.TopUpClosed:
			return nil
		case onecard.TopUpPending:
		default:
			return onecard.Errorf(onecard.ECONFLICT, "Top-up %s is %s; only a pending order can be closed.", no, t.State)
		}
		t.State = onecard.TopUpClosed
		if _, err := tx.exec(ctx, `UPDATE top_ups SET state = ?, closed_at = ? WHERE order_no = ?`, string(t.State), micro(tx.now), no); err != nil {
			return fmt.Errorf("store: unable to close top-up: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "topup.close", SchoolID: t.SchoolID, TargetType: "cardholder", TargetID: t.CardholderID,
			Detail: t.No})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const topUpColumns = `order_no, school_id, cardholder_id, channel, kind, amount, fee, total, state, payer, paid_by, gateway_no,
	phone, pay_url, transfer_id, created_at, expires_at, paid_at`

// findTopUp loads an order by number; lock is tx.forUpdate() or "".
func findTopUp(ctx context.Context, q querier, lock, no string) (*onecard.TopUp, error) {
	t, err := scanTopUp(q.queryRow(ctx, `SELECT `+topUpColumns+` FROM top_ups WHERE order_no = ?`+lock, no))
	if err != nil {
		return nil, notFound(err, "unable to load top-up", "Top-up order %s does not exist.", no)
	}
	return t, nil
}

func scanTopUp(r scanner) (*onecard.TopUp, error) {
	t := &onecard.TopUp{}
	var kind, state string
	var created, expires, paid int64
	if err := r.Scan(&t.No, &t.SchoolID, &t.CardholderID, &t.Channel, &kind, &t.Amount, &t.Fee, &t.Total, &state, &t.Payer,
		&t.PaidBy, &t.GatewayNo, &t.Phone, &t.PayURL, &t.TransferID, &created, &expires, &paid); err != nil {
		return nil, err
	}
	t.Kind, t.State = onecard.TopUpKind(kind), onecard.TopUpState(state)
	t.CreatedAt, t.ExpiresAt, t.PaidAt = fromMicro(created), fromMicro(expires), fromMicroPtr(paid)
	return t, nil
}
