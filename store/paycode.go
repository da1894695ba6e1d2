package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

// One-card payment codes (seed 001: 付款码).
const (
	// PayCodePrefix starts every one-card payment code, so that a POS tells
	// it from Alipay's (25–30) and WeChat's (10–15) codes.
	PayCodePrefix = "66"
	// PayCodeTTL is how long a code is accepted; the app shows a new one
	// every minute.
	PayCodeTTL = time.Minute
	// payCodeRandom is the number of random digits after the prefix.
	payCodeRandom = 16
)

// ChannelOneCard is the channel of a payment by the one-card code.
const ChannelOneCard = "onecard"

// errPayCodeInvalid is the one answer for a code that is malformed,
// unknown, expired or used: a POS (or someone guessing) learns nothing
// about which.
func errPayCodeInvalid() error {
	return onecard.Errorf(onecard.EINVALID, "Payment code expired or used, refresh it.")
}

// IssuePayCode implements onecard.PaymentStore. Older codes that have not
// expired stay valid: the app refreshes every minute while the previous
// picture may still be on the screen or already scanned by a POS whose
// request is on its way, and refusing it then would fail a purchase the
// cardholder just presented. Each code is still single-use and lives one
// minute, so keeping it adds no charge the cardholder did not show a code
// for. The write need not wait for the disk (writeEphemeral): a code lost
// in a crash is only a code the POS refuses and the app refreshes.
func (db *DB) IssuePayCode(ctx context.Context, cardholderID int64) (*onecard.PayCode, error) {
	var out *onecard.PayCode
	err := db.writeEphemeral(ctx, func(tx *Tx) error {
		h, err := findCardholder(ctx, tx, "", cardholderID)
		if err != nil {
			return err
		}
		s, err := tx.school(ctx, h.SchoolID)
		if err != nil {
			return err
		}
		if err := tx.payable(ctx, h, s.Settings); err != nil {
			return err
		}
		// Expired codes can never pay again; forgetting them here keeps
		// the table at about one row per cardholder showing a code.
		if _, err := tx.exec(ctx, `DELETE FROM pay_codes WHERE cardholder_id = ? AND expires_at <= ?`, h.ID, micro(tx.now)); err != nil {
			return fmt.Errorf("store: unable to forget old payment codes: %w", err)
		}
		if tx.now.UnixMicro()%100 == 0 {
			if _, err := tx.exec(ctx, `DELETE FROM pay_codes WHERE expires_at <= ?`, micro(tx.now)); err != nil {
				return fmt.Errorf("store: unable to forget old payment codes: %w", err)
			}
		}
		expires := tx.now.Add(PayCodeTTL)
		// 10^16 codes: a clash with a live one is next to impossible, but
		// the primary key would refuse it, so draw again rather than fail.
		for range 3 {
			code, err := newPayCode()
			if err != nil {
				return err
			}
			res, err := tx.exec(ctx, `INSERT INTO pay_codes (hash, cardholder_id, expires_at, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (hash) DO NOTHING`, db.payCodeHash(code), h.ID, micro(expires), micro(tx.now))
			if err != nil {
				return fmt.Errorf("store: unable to issue payment code: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("store: unable to issue payment code: %w", err)
			} else if n == 1 {
				out = &onecard.PayCode{Code: code, ExpiresAt: expires}
				return nil
			}
		}
		return fmt.Errorf("store: unable to issue payment code: no free code after 3 draws")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newPayCode draws 16 uniformly random digits after the prefix.
func newPayCode() (string, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Exp(big.NewInt(10), big.NewInt(payCodeRandom), nil))
	if err != nil {
		return "", fmt.Errorf("store: payment code: %w", err)
	}
	return fmt.Sprintf("%s%0*d", PayCodePrefix, payCodeRandom, n), nil
}

// validPayCode reports whether code has the shape of a one-card code.
func validPayCode(code string) bool {
	if len(code) != len(PayCodePrefix)+payCodeRandom || code[:len(PayCodePrefix)] != PayCodePrefix {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// payCodeHash is the keyed hash kept instead of the code: without the
// store secret the 10^16 codes cannot be tried against a stolen table.
func (db *DB) payCodeHash(code string) []byte {
	m := hmac.New(sha256.New, derive(db.secret, "onecard pay code v1"))
	m.Write([]byte(code))
	return m.Sum(nil)
}

// PayWithCode implements onecard.PaymentStore. Everything runs in one
// transaction under the ledger head lock: the code is consumed by a
// conditional UPDATE together with the payment, so of two POS racing with
// one code exactly one pays, and a payment refused by the checks leaves the
// code usable. A retry of the same number returns the stored payment
// without the checks (the first payment may itself have frozen the card
// for arrears), provided it is the same code, merchant and amount.
func (db *DB) PayWithCode(ctx context.Context, no, code string, merchantID, terminalID, amount int64) (*onecard.CodePayment, error) {
	if err := validCodePayNo(no, "payment number"); err != nil {
		return nil, err
	}
	if err := onecard.ValidateAmount(amount); err != nil {
		return nil, err
	}
	hash := db.payCodeHash(code)
	var out *onecard.CodePayment
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		prev, prevHash, err := findCodePayment(ctx, tx, no)
		if err == nil {
			if prev.Channel != ChannelOneCard || prev.MerchantID != merchantID || prev.Amount != amount || !bytes.Equal(prevHash, hash) {
				return onecard.Errorf(onecard.ECONFLICT, "Payment number %s was already used for a different payment.", no)
			}
			out = prev
			return nil
		} else if onecard.ErrorCode(err) != onecard.ENOTFOUND {
			return err
		}
		if !validPayCode(code) {
			return errPayCodeInvalid()
		}
		var holderID int64
		err = tx.queryRow(ctx, `UPDATE pay_codes SET used_at = ? WHERE hash = ? AND used_at = 0 AND expires_at > ? RETURNING cardholder_id`,
			micro(tx.now), hash, micro(tx.now)).Scan(&holderID)
		if errors.Is(err, sql.ErrNoRows) {
			return errPayCodeInvalid()
		} else if err != nil {
			return fmt.Errorf("store: unable to use payment code: %w", err)
		}
		h, err := findCardholder(ctx, tx, "", holderID)
		if err != nil {
			return err
		}
		m, err := findMerchant(ctx, tx, merchantID)
		if err != nil {
			return err
		}
		if m.SchoolID != h.SchoolID {
			return onecard.Errorf(onecard.EINVALID, "Merchant %s is not a merchant of this cardholder's school.", m.Name)
		}
		s, err := tx.school(ctx, h.SchoolID)
		if err != nil {
			return err
		}
		if err := tx.payable(ctx, h, s.Settings); err != nil {
			return err
		}
		if err := tx.checkLimits(ctx, h, s.Settings, amount); err != nil {
			return err
		}
		// The transition account's floor is minus the arrears limit, so the
		// ledger itself lets the payment into arrears and no further; the
		// batch freezes the card when the total falls below zero.
		t := ledger.Transfer{Key: codePayKey + no, Debit: h.TransitionAccount, Credit: m.Account, Amount: amount, Code: codePurchase,
			Memo: truncate(m.Name, ledger.MaxMemoLen)}
		res, err := ledger.Apply(ctx, tx, []ledger.Transfer{t})
		if err != nil {
			return err
		}
		if err := tx.transferError(ctx, res[0].Result, h, amount, "pay "+onecard.Yuan(amount)); err != nil {
			return err
		}
		p := &onecard.CodePayment{No: no, SchoolID: h.SchoolID, MerchantID: m.ID, TerminalID: terminalID, Channel: ChannelOneCard,
			Amount: amount, State: onecard.CodePaid, CardholderID: h.ID, TransferID: res[0].Transfer.ID, CreatedAt: tx.now}
		p.PaidAt = &p.CreatedAt
		if _, err := tx.exec(ctx, `INSERT INTO code_payments (no, school_id, merchant_id, terminal_id, channel, amount, state,
			cardholder_id, code_hash, transfer_id, created_at, paid_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.No, p.SchoolID, p.MerchantID, p.TerminalID, p.Channel, p.Amount, p.State, p.CardholderID, hash, p.TransferID,
			micro(tx.now), micro(tx.now)); err != nil {
			return fmt.Errorf("store: unable to record code payment: %w", err)
		}
		out = p
		return tx.audit(ctx, auditEvent{Action: "money.codepay", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: h.ID,
			Detail: fmt.Sprintf("%s to merchant %d by payment code, %s, transfer %d", onecard.Yuan(amount), m.ID, no, p.TransferID)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
