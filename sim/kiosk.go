package sim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
)

// Kiosk is a kiosk (圈存机) of the kit as the simulator plays it: it loads
// cards (the transition balance, or 圈存 from the bound bank card), binds
// bank cards, reports cards lost, unlocks them and changes PINs, all
// online through a device.Client signing as the terminal. Its purse
// terminal id, which loads are bound to, is learnt from the server on
// first use and saved.
type Kiosk struct {
	Code   string
	Client *device.Client

	path string
	file kioskFile
}

// kioskFile is what a kiosk keeps between runs.
type kioskFile struct {
	KeyID      string           `json:"key_id"`
	TerminalID purse.TerminalID `json:"terminal_id"`
}

// Kiosk returns the kit's kiosk with the given code.
func (s *State) Kiosk(ctx context.Context, code string) (*Kiosk, error) {
	_, client, keyID, err := s.signer(code, onecard.TerminalKiosk)
	if err != nil {
		return nil, err
	}
	k := &Kiosk{Code: code, Client: client, path: filepath.Join(s.Dir, "terminals", code+".json")}
	err = readJSON(k.path, &k.file)
	if (err != nil && !errors.Is(err, fs.ErrNotExist)) || (err == nil && k.file.KeyID != keyID) {
		k.file = kioskFile{}
	}
	if k.file.TerminalID != 0 {
		return k, nil
	}
	who, err := client.Whoami(ctx)
	if err != nil {
		return nil, fmt.Errorf("kiosk %s could not reach the server: %w", code, err)
	}
	k.file = kioskFile{KeyID: keyID, TerminalID: purse.TerminalID(who.Terminal.ID)}
	if err := writeJSON(k.path, &k.file); err != nil {
		return nil, fmt.Errorf("unable to save terminal %s: %w", code, err)
	}
	return k, nil
}

// LoadResult is what a load at a kiosk came to.
type LoadResult struct {
	Kind          string // device.LoadClaim or device.LoadBank
	Amount        int64  // fen loaded onto the card; 0 if nothing was
	Before, After int64  // the card's balance
	Counter       uint16 // the card's online counter after the load
	TAC           purse.TAC
	// Refused is the server's refusal of the card at the tap that opens
	// every kiosk session (lost, frozen); nothing was loaded.
	Refused *onecard.Error
}

// check taps the card with amount 0, as a kiosk does when a card is
// inserted: the server settles the card's unconfirmed loads, checks its
// state and says what transition balance it may claim.
func (k *Kiosk) check(ctx context.Context, c *Card, r *LoadResult) (*device.TapDecision, error) {
	d, err := k.Client.Tap(ctx, &device.TapRequest{Card: device.StateOf(c.Purse)})
	if err != nil {
		return nil, err
	}
	if d.Decision == device.Refuse {
		r.Refused = &onecard.Error{Code: d.Code, Message: d.Message}
		if d.LockCard && !c.Purse.Blacklisted {
			c.Purse.Blacklisted = true
			return d, c.save()
		}
	}
	return d, nil
}

// Claim loads the cardholder's transition balance onto the card, as much
// as the server offers (up to the card's ceiling). Nothing to claim is
// Amount 0, not an error.
func (k *Kiosk) Claim(ctx context.Context, c *Card) (*LoadResult, error) {
	r := &LoadResult{Kind: device.LoadClaim, Before: c.Purse.Balance, After: c.Purse.Balance}
	d, err := k.check(ctx, c, r)
	if err != nil || r.Refused != nil || d.Claim <= 0 {
		return r, err
	}
	return r, k.load(ctx, c, device.LoadClaim, d.Claim, r)
}

// BankLoad is 圈存: amount fen from the cardholder's bound bank card onto
// the card, within the daily limit. The server's refusals (no bank card
// bound, the limit) come back as *onecard.Error.
func (k *Kiosk) BankLoad(ctx context.Context, c *Card, amount int64) (*LoadResult, error) {
	r := &LoadResult{Kind: device.LoadBank, Before: c.Purse.Balance, After: c.Purse.Balance}
	if _, err := k.check(ctx, c, r); err != nil || r.Refused != nil {
		return r, err
	}
	return r, k.load(ctx, c, device.LoadBank, amount, r)
}

// load runs a load with the card: its MAC1, the issuer's MAC2, its TAC
// confirmed. The card is saved before the confirmation: a load the card
// made and the server never heard confirmed is settled at its next tap.
func (k *Kiosk) load(ctx context.Context, c *Card, kind string, amount int64, r *LoadResult) error {
	init, err := c.Purse.InitLoad(amount, k.file.TerminalID)
	if err != nil {
		return fmt.Errorf("the card refused a load of %s: %w", onecard.Yuan(amount), err)
	}
	a, err := k.Client.AuthorizeLoad(ctx, &device.LoadRequest{Kind: kind, UID: c.Purse.UID, Amount: amount, Init: *init})
	if err != nil {
		return err
	}
	tac, err := c.Purse.Load(a.MAC2, a.Time)
	if err != nil {
		return fmt.Errorf("the card refused the server's MAC2: %w", err)
	}
	if err := c.save(); err != nil {
		return err
	}
	r.Amount, r.After, r.Counter, r.TAC = amount, c.Purse.Balance, c.Purse.OnlineCounter, tac
	if err := k.Client.ConfirmLoad(ctx, &device.ConfirmLoadRequest{UID: c.Purse.UID, Counter: c.Purse.OnlineCounter, TAC: tac}); err != nil {
		return fmt.Errorf("the load is on the card but its confirmation failed (the card's next tap settles it): %w", err)
	}
	return nil
}
