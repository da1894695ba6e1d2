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

// Bath water controller settings: seed 001 prices water by the litre or by
// the second; the demo's controllers charge 3 fen a litre.
const (
	UnitLitre    = "litre"
	UnitSecond   = "second"
	DefaultPrice = 3 // fen per litre
	ModeInsert   = "insert"
	ModeKey      = "key"
	maxBathPrice = 100_00 // fen per unit: a sanity bound, not a rule
)

// Bath is a bath water controller (控水器) of the kit as the simulator
// plays it: a device.Client signing as the terminal, its SAM, and the
// purse.BathController with its sequence, saved after every step with its
// meter and the records it has not uploaded yet. It works offline, like
// the real one: it talks to the server only to be provisioned and to
// upload its records. A Bath is not safe for concurrent use.
type Bath struct {
	Code     string
	Merchant string // the merchant's code
	Client   *device.Client

	path string
	file bathFile
}

// bathFile is what a water controller keeps between runs.
type bathFile struct {
	KeyID      string               `json:"key_id"`
	SAM        *device.SAMKey       `json:"sam,omitempty"`
	Controller purse.BathController `json:"controller"`
	// Meter is the bath in progress: what the water cost so far, so that
	// a simulator stopped mid-bath writes the rest back at the next run.
	Meter  *bathMeter     `json:"meter,omitempty"`
	Outbox []purse.Record `json:"outbox,omitempty"`
}

// bathMeter is the controller's meter during a bath.
type bathMeter struct {
	UID   purse.UID `json:"uid"`
	Units int64     `json:"units"`
	Used  int64     `json:"used"` // fen
}

// Bath returns the kit's water controller with the given code as it was
// left, charging price fen per unit (UnitLitre or UnitSecond) from now on.
// On first use its SAM is provisioned from client.SAM.
func (s *State) Bath(ctx context.Context, code string, price int64, unit string) (*Bath, error) {
	if unit != UnitLitre && unit != UnitSecond {
		return nil, fmt.Errorf("a water controller charges by the %s or the %s, not the %q", UnitLitre, UnitSecond, unit)
	} else if price <= 0 || price > maxBathPrice {
		return nil, fmt.Errorf("a water controller's price is 1 to %d fen per %s, not %d", maxBathPrice, unit, price)
	}
	kt, client, keyID, err := s.signer(code, onecard.TerminalBath)
	if err != nil {
		return nil, err
	}
	b := &Bath{Code: code, Merchant: kt.Merchant, Client: client, path: filepath.Join(s.Dir, "terminals", code+".json")}
	err = readJSON(b.path, &b.file)
	if (err != nil && !errors.Is(err, fs.ErrNotExist)) || (err == nil && b.file.KeyID != keyID) {
		if n := len(b.file.Outbox); n > 0 {
			s.note("Terminal %s's saved state was another server's; its %d queued record(s) are dropped.", code, n)
		}
		b.file = bathFile{}
	}
	b.file.KeyID = keyID
	if b.file.SAM == nil {
		if b.file.SAM, err = client.SAM(ctx); err != nil {
			return nil, fmt.Errorf("unable to provision terminal %s's SAM: %w", code, err)
		}
	}
	ctl := &b.file.Controller
	ctl.SAM = purse.NewSAM(b.file.SAM.PurchaseMasterKey, b.file.SAM.TerminalID)
	ctl.Price, ctl.Unit = price, unit
	if ctl.PreDebit <= 0 {
		ctl.PreDebit = purse.DefaultPreDebit
	}
	return b, b.save()
}

// save writes the controller's state to its file.
func (b *Bath) save() error {
	if err := writeJSON(b.path, &b.file); err != nil {
		return fmt.Errorf("unable to save terminal %s: %w", b.Code, err)
	}
	return nil
}

// Controller is the controller's purse side: its sequence, pre-debit and price.
func (b *Bath) Controller() *purse.BathController { return &b.file.Controller }

// Queued is how many records wait for the next upload.
func (b *Bath) Queued() int { return len(b.file.Outbox) }

// Upload sends the controller's queued records, oldest first, and forgets
// each one the server answered for; a failed upload leaves them queued.
func (b *Bath) Upload(ctx context.Context) ([]Upload, error) {
	var out []Upload
	for len(b.file.Outbox) > 0 {
		batch := b.file.Outbox[:min(len(b.file.Outbox), device.MaxRecords)]
		results, err := b.Client.UploadRecords(ctx, batch)
		if err != nil {
			return out, fmt.Errorf("terminal %s could not upload %d record(s): %w", b.Code, len(batch), err)
		}
		if len(results) != len(batch) {
			return out, fmt.Errorf("terminal %s uploaded %d record(s) and got %d results", b.Code, len(batch), len(results))
		}
		for i := range batch {
			out = append(out, Upload{Record: batch[i], Result: results[i]})
		}
		b.file.Outbox = append([]purse.Record(nil), b.file.Outbox[len(batch):]...)
		if err := b.save(); err != nil {
			return out, err
		}
	}
	return out, nil
}
