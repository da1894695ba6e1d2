package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/onecard-campus/onecard"
)

// BindChannel implements onecard.PaymentStore. Binding the account a card
// already has is not an error: the channel's OAuth may be run twice.
func (db *DB) BindChannel(ctx context.Context, cardholderID int64, channel, account string) (*onecard.ChannelBinding, error) {
	if channel != onecard.ChannelAlipay && channel != onecard.ChannelWechat {
		return nil, onecard.Errorf(onecard.EINVALID, "Only Alipay and WeChat accounts are bound to a card, not %q.", channel)
	}
	account, err := validChannelAccount(account)
	if err != nil {
		return nil, err
	}
	var out *onecard.ChannelBinding
	err = db.Write(ctx, func(tx *Tx) error {
		h, err := findCardholder(ctx, tx, "", cardholderID)
		if err != nil {
			return err
		}
		if h.Status == onecard.CardholderClosed {
			return onecard.Errorf(onecard.ECONFLICT, "The account of %s is closed.", h.Number)
		}
		if b, err := findChannelBinding(ctx, tx, `channel = ? AND account = ?`, channel, account); err == nil {
			if b.CardholderID != cardholderID {
				return onecard.Errorf(onecard.ECONFLICT, "This %s account is bound to another card. Unbind it there first.", paymentChannelTitle(channel))
			}
			out = b
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: unable to load channel binding: %w", err)
		}
		if _, err := findChannelBinding(ctx, tx, `cardholder_id = ? AND channel = ?`, cardholderID, channel); err == nil {
			return onecard.Errorf(onecard.ECONFLICT, "This card already has a %s account bound. Unbind it first.", paymentChannelTitle(channel))
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: unable to load channel binding: %w", err)
		}
		out = &onecard.ChannelBinding{CardholderID: cardholderID, Channel: channel, Account: account,
			AccountMasked: maskChannelAccount(account), BoundAt: tx.now}
		_, err = tx.exec(ctx, `INSERT INTO channel_bindings (cardholder_id, channel, account, account_masked, bound_at)
			VALUES (?, ?, ?, ?, ?)`, cardholderID, channel, account, out.AccountMasked, micro(tx.now))
		if isUniqueViolation(err) { // a concurrent bind won the race past the checks
			return onecard.Errorf(onecard.ECONFLICT, "This card or this %s account was bound meanwhile.", paymentChannelTitle(channel))
		} else if err != nil {
			return fmt.Errorf("store: unable to bind channel account: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "channel.bind", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: h.ID,
			Detail: channel + " " + out.AccountMasked})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ChannelBindings implements onecard.PaymentStore.
func (db *DB) ChannelBindings(ctx context.Context, cardholderID int64) ([]*onecard.ChannelBinding, error) {
	if _, err := db.Cardholder(ctx, cardholderID); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, `SELECT `+channelBindingColumns+` FROM channel_bindings WHERE cardholder_id = ? ORDER BY channel`, cardholderID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list channel bindings: %w", err)
	}
	defer rows.Close()
	out := []*onecard.ChannelBinding{}
	for rows.Next() {
		b, err := scanChannelBinding(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to list channel bindings: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// ChannelBindingByAccount implements onecard.PaymentStore.
func (db *DB) ChannelBindingByAccount(ctx context.Context, channel, account string) (*onecard.ChannelBinding, error) {
	b, err := findChannelBinding(ctx, db, `channel = ? AND account = ?`, channel, strings.TrimSpace(account))
	if err != nil {
		return nil, notFound(err, "unable to load channel binding", "This account is not bound to any card.")
	}
	return b, nil
}

// UnbindChannel implements onecard.PaymentStore.
func (db *DB) UnbindChannel(ctx context.Context, cardholderID int64, channel string) error {
	return db.Write(ctx, func(tx *Tx) error {
		b, err := findChannelBinding(ctx, tx, `cardholder_id = ? AND channel = ?`, cardholderID, channel)
		if err != nil {
			return notFound(err, "unable to load channel binding", "No %s account is bound to this card.", paymentChannelTitle(channel))
		}
		if _, err := tx.exec(ctx, `DELETE FROM channel_bindings WHERE cardholder_id = ? AND channel = ?`, cardholderID, channel); err != nil {
			return fmt.Errorf("store: unable to unbind channel account: %w", err)
		}
		h, err := findCardholder(ctx, tx, "", cardholderID)
		if err != nil {
			return err
		}
		return tx.audit(ctx, auditEvent{Action: "channel.unbind", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: cardholderID,
			Detail: channel + " " + b.AccountMasked})
	})
}

// SetBankAgreement implements onecard.PaymentStore. The agreement lives on
// the bank binding's row, so unbinding or rebinding the card drops it.
func (db *DB) SetBankAgreement(ctx context.Context, cardholderID int64, agreement string) error {
	agreement = strings.TrimSpace(agreement)
	if len(agreement) > 128 || strings.IndexFunc(agreement, unicode.IsControl) >= 0 {
		return onecard.Errorf(onecard.EINVALID, "A bank agreement number has at most 128 printable characters.")
	}
	var value any = agreement
	if agreement == "" {
		value = nil
	}
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE bank_bindings SET agreement = ? WHERE cardholder_id = ?`, value, cardholderID)
		if err != nil {
			return fmt.Errorf("store: unable to set bank agreement: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return onecard.Errorf(onecard.ENOTFOUND, "No bank card is bound to this card.")
		}
		action := "bank.agreement_signed"
		if agreement == "" {
			action = "bank.agreement_cleared"
		}
		h, err := findCardholder(ctx, tx, "", cardholderID)
		if err != nil {
			return err
		}
		return tx.audit(ctx, auditEvent{Action: action, SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: cardholderID})
	})
}

// BankAgreement implements onecard.PaymentStore.
func (db *DB) BankAgreement(ctx context.Context, cardholderID int64) (string, error) {
	return bankAgreement(ctx, db, cardholderID)
}

func bankAgreement(ctx context.Context, q querier, cardholderID int64) (string, error) {
	var a sql.NullString
	err := q.queryRow(ctx, `SELECT agreement FROM bank_bindings WHERE cardholder_id = ?`, cardholderID).Scan(&a)
	if err != nil {
		return "", notFound(err, "unable to load bank agreement", "No bank card is bound to this card.")
	}
	if !a.Valid || a.String == "" {
		return "", onecard.Errorf(onecard.ENOTFOUND, "The bound bank card has no agreement for top-ups yet.")
	}
	return a.String, nil
}

const channelBindingColumns = `cardholder_id, channel, account, account_masked, bound_at`

func findChannelBinding(ctx context.Context, q querier, where string, args ...any) (*onecard.ChannelBinding, error) {
	return scanChannelBinding(q.queryRow(ctx, `SELECT `+channelBindingColumns+` FROM channel_bindings WHERE `+where, args...))
}

func scanChannelBinding(r scanner) (*onecard.ChannelBinding, error) {
	b := &onecard.ChannelBinding{}
	var at int64
	if err := r.Scan(&b.CardholderID, &b.Channel, &b.Account, &b.AccountMasked, &at); err != nil {
		return nil, err
	}
	b.BoundAt = fromMicro(at)
	return b, nil
}

// validChannelAccount checks a channel's payer ID: Alipay's buyer_id is 16
// digits, WeChat's openid 28 characters; anything printable up to 128.
func validChannelAccount(account string) (string, error) {
	account = strings.TrimSpace(account)
	if account == "" || len(account) > 128 || strings.IndexFunc(account, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", onecard.Errorf(onecard.EINVALID, "A channel account ID has 1 to 128 characters and no spaces.")
	}
	return account, nil
}

// maskChannelAccount keeps the first and last four characters of an account ID,
// enough for a person to recognise it: 2088********0001. Short IDs are
// masked whole, since four and four would show all of them.
func maskChannelAccount(account string) string {
	r := []rune(account)
	if len(r) <= 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// paymentChannelTitle names a channel for people.
func paymentChannelTitle(channel string) string {
	switch channel {
	case onecard.ChannelAlipay:
		return "Alipay"
	case onecard.ChannelWechat:
		return "WeChat"
	case onecard.ChannelBank:
		return "bank"
	}
	return channel
}
