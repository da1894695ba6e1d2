package sim

import (
	"context"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
)

// BankCard is the bank card a cardholder binds at a kiosk, with the name
// and ID number the bank knows them by: the server checks both against
// the cardholder's.
type BankCard struct {
	Bank       string // e.g. 交通银行
	Number     string
	HolderName string
	IDNumber   string
}

// BindBank binds (or rebinds) the bank card 圈存 draws on to the card's
// holder, with the query PIN.
func (k *Kiosk) BindBank(ctx context.Context, c *Card, pin string, bc BankCard) (*onecard.BankBinding, error) {
	return k.Client.BindBank(ctx, &device.BankBindingRequest{UID: c.Purse.UID, PIN: pin, Bank: bc.Bank,
		HolderName: bc.HolderName, IDNumber: bc.IDNumber, CardNumber: bc.Number})
}

// ReportLost reports the card lost by its number and the query PIN: at a
// kiosk the card is not there.
func (k *Kiosk) ReportLost(ctx context.Context, c *Card, pin string) (*device.CardAnswer, error) {
	return k.Client.ReportLost(ctx, &device.ReportLostRequest{Number: c.Number(), PIN: pin})
}

// Unlock lifts the loss report of the inserted card with the query PIN.
// A card a terminal locked (its blacklist flag) stays locked: only the
// card center clears the chip.
func (k *Kiosk) Unlock(ctx context.Context, c *Card, pin string) (*device.CardAnswer, error) {
	return k.Client.Unlock(ctx, &device.CardRequest{UID: c.Purse.UID, PIN: pin})
}

// ChangePIN changes the inserted card's query or consumption PIN. The kit
// keeps the initial consumption PIN: after a change, give the new one to
// `sim pos --pin`.
func (k *Kiosk) ChangePIN(ctx context.Context, c *Card, kind onecard.PINKind, old, new string) (*device.CardAnswer, error) {
	return k.Client.ChangePIN(ctx, &device.ChangePINRequest{UID: c.Purse.UID, Kind: kind, Old: old, New: new})
}
