package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/onecard-campus/onecard"
)

var _ onecard.BankBindingService = (*DB)(nil)

var bindingChannels = []string{"kiosk", "app", "operator"}

// BindBankCard implements onecard.BankBindingService. The bank's own check
// that the card is the cardholder's is stood in for by matching the name
// and ID number the cardholder enters against the registered ones.
func (db *DB) BindBankCard(ctx context.Context, cardholderID int64, b *onecard.NewBankBinding) (*onecard.BankBinding, error) {
	num, err := onecard.NormalizeBankCard(b.CardNumber)
	if err != nil {
		return nil, err
	}
	bank := strings.TrimSpace(b.Bank)
	if bank == "" || len([]rune(bank)) > 32 {
		return nil, onecard.Errorf(onecard.EINVALID, "Name the bank (1 to 32 characters).")
	}
	if !slices.Contains(bindingChannels, b.Via) {
		return nil, onecard.Errorf(onecard.EINVALID, "A binding is made at a kiosk, in the app or by an operator.")
	}
	h, err := db.Cardholder(ctx, cardholderID)
	if err != nil {
		return nil, err
	}
	ok, err := db.MatchIDNumber(ctx, cardholderID, b.IDNumber)
	if err != nil {
		return nil, err
	}
	// One message for both, so that a guesser learns nothing about which was wrong.
	if !ok || strings.TrimSpace(b.HolderName) != h.Name {
		return nil, onecard.Errorf(onecard.EINVALID, "The name and ID number do not match the cardholder's. Only your own bank card can be bound.")
	}
	out := &onecard.BankBinding{CardholderID: cardholderID, Bank: bank, CardMasked: onecard.MaskBankCard(num), BoundVia: b.Via}
	err = db.Write(ctx, func(tx *Tx) error {
		out.BoundAt = tx.now
		if _, err := tx.exec(ctx, `DELETE FROM bank_bindings WHERE cardholder_id = ?`, cardholderID); err != nil {
			return fmt.Errorf("store: unable to bind bank card: %w", err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO bank_bindings (cardholder_id, bank, card_masked, card_hash, bound_via, bound_at)
			VALUES (?, ?, ?, ?, ?, ?)`, cardholderID, bank, out.CardMasked, db.bankCardHash(num), b.Via, micro(tx.now)); err != nil {
			return fmt.Errorf("store: unable to bind bank card: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "bank.bind", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: cardholderID,
			Detail: bank + " " + out.CardMasked + " via " + b.Via})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// BankBinding implements onecard.BankBindingService.
func (db *DB) BankBinding(ctx context.Context, cardholderID int64) (*onecard.BankBinding, error) {
	b := &onecard.BankBinding{CardholderID: cardholderID}
	var at int64
	err := db.queryRow(ctx, `SELECT bank, card_masked, bound_via, bound_at FROM bank_bindings WHERE cardholder_id = ?`, cardholderID).
		Scan(&b.Bank, &b.CardMasked, &b.BoundVia, &at)
	if err != nil {
		return nil, notFound(err, "unable to load bank binding", "No bank card is bound to this card.")
	}
	b.BoundAt = fromMicro(at)
	return b, nil
}

// UnbindBankCard implements onecard.BankBindingService.
func (db *DB) UnbindBankCard(ctx context.Context, cardholderID int64) error {
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM bank_bindings WHERE cardholder_id = ?`, cardholderID)
		if err != nil {
			return fmt.Errorf("store: unable to unbind bank card: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return onecard.Errorf(onecard.ENOTFOUND, "No bank card is bound to this card.")
		}
		return tx.audit(ctx, auditEvent{Action: "bank.unbind", TargetType: "cardholder", TargetID: cardholderID})
	})
}

// bankCardHash is a keyed hash of a bank card number, to recognise the
// same card again without keeping its number.
func (db *DB) bankCardHash(num string) []byte {
	m := hmac.New(sha256.New, derive(db.secret, "onecard bank card hash v1"))
	m.Write([]byte(num))
	return m.Sum(nil)
}
