package onecard

import (
	"context"
	"strings"
	"time"
)

// BankBinding is the bank card bound to a cardholder for loads (圈存) at a
// kiosk and bank top-ups in the app (seeds 001 and 003). The card number
// itself is not kept: a masked form to show and a keyed hash to match.
type BankBinding struct {
	CardholderID int64     `json:"cardholder_id"`
	Bank         string    `json:"bank"`
	CardMasked   string    `json:"card_masked"` // 6222 **** **** 1234
	BoundVia     string    `json:"bound_via"`   // kiosk, app, operator
	BoundAt      time.Time `json:"bound_at"`
}

// NewBankBinding is what a cardholder enters to bind a bank card: the bank
// checks that the card is theirs by name and ID number (seed 003, 建行卡快速绑定).
type NewBankBinding struct {
	Bank       string `json:"bank"`
	HolderName string `json:"holder_name"`
	IDNumber   string `json:"id_number"`
	CardNumber string `json:"card_number"`
	Via        string `json:"via"`
}

// BankBindingService binds bank cards to cardholders.
type BankBindingService interface {
	// BindBankCard binds a bank card, replacing any bound before, after
	// checking the holder's name and ID number against the cardholder's.
	// EINVALID (bad card number, or a name or ID that does not match),
	// ENOTFOUND.
	BindBankCard(ctx context.Context, cardholderID int64, b *NewBankBinding) (*BankBinding, error)
	// BankBinding returns the bound bank card. ENOTFOUND when none.
	BankBinding(ctx context.Context, cardholderID int64) (*BankBinding, error)
	// UnbindBankCard removes the binding. ENOTFOUND when none.
	UnbindBankCard(ctx context.Context, cardholderID int64) error
}

// NormalizeBankCard checks a bank card number (16 to 19 digits with a valid
// Luhn check digit, spaces allowed) and returns its digits.
func NormalizeBankCard(s string) (string, error) {
	d := strings.Join(strings.Fields(s), "")
	if len(d) < 16 || len(d) > 19 || !digits(d) {
		return "", Errorf(EINVALID, "A bank card number has 16 to 19 digits.")
	}
	sum := 0
	for i := range len(d) {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	if sum%10 != 0 {
		return "", Errorf(EINVALID, "This bank card number is mistyped (its check digit does not match).")
	}
	return d, nil
}

// MaskBankCard keeps the first four and last four digits.
func MaskBankCard(d string) string {
	if len(d) < 8 {
		return strings.Repeat("*", len(d))
	}
	return d[:4] + " **** **** " + d[len(d)-4:]
}
