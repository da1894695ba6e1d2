package sim

import (
	"context"
	"errors"
	"fmt"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
)

// BathResult is what one bath at a water controller came to.
type BathResult struct {
	Terminal string
	Card     string // the card number
	Mode     string // ModeInsert or ModeKey
	Price    int64  // fen per Unit
	Unit     string
	Asked    int64 // units of water asked for
	Units    int64 // units that ran
	// Stopped says why the water stopped before Asked; "" if it did not.
	Stopped string
	// Refused is why the controller began no bath (an empty or locked
	// card, a bath open at another controller); nothing else happened.
	Refused string
	// Before and After are the card's balance before the first pre-debit
	// and after the write-back.
	Before, After int64
	PreDebits     []int64 // each pre-debit, fen
	Held          int64   // pre-debited in all
	Used          int64   // what the water cost, kept
	WrittenBack   int64   // Held - Used, back onto the card
	// Earlier is what the controller wrote back of a bath an earlier run
	// left open on this card here (stopped mid-bath): settled first, with
	// the meter as it was saved. Its record, if any, is uploaded with this one.
	Earlier *EarlierBath
	// Record is the compound record of the bath, nil if no water ran.
	Record *purse.Record
	// Upload is the server's verdict on Record; nil if it stays queued
	// (UploadErr). Uploaded is every record the upload carried.
	Upload    *device.RecordResult
	Uploaded  []Upload
	UploadErr error
}

// EarlierBath is a bath left open by an earlier run, settled first.
type EarlierBath struct {
	Used, WrittenBack int64
	Record            *purse.Record
}

// Session runs one bath of card c in mode (ModeInsert or ModeKey) for up
// to units of water. Insert mode pre-debits once (1 yuan) and the water
// stops when that is used up; key mode takes another pre-debit each time
// it is used up, while the card has money. Both end by writing the unused
// part back onto the card, which signs one compound record for what the
// water cost; the controller uploads it at once. A card that cannot begin
// a bath is BathResult.Refused, not an error; errors are failures (the
// network, the server, a state file) and leave card and controller
// consistent: a bath interrupted between pre-debit and write-back is
// settled from the saved meter when the card comes back here.
func (b *Bath) Session(ctx context.Context, c *Card, mode string, units int64) (*BathResult, error) {
	if mode != ModeInsert && mode != ModeKey {
		return nil, fmt.Errorf("a bath is in %s or %s mode, not %q", ModeInsert, ModeKey, mode)
	} else if units <= 0 {
		return nil, fmt.Errorf("a bath needs some water, not %d %ss", units, b.file.Controller.Unit)
	}
	ctl := &b.file.Controller
	r := &BathResult{Terminal: b.Code, Card: c.Number(), Mode: mode, Price: ctl.Price, Unit: ctl.Unit, Asked: units}
	if ctl.Open(c.Purse) != nil {
		e, err := b.settleEarlier(c)
		if err != nil {
			return r, err
		}
		r.Earlier = e
	}
	r.Before = c.Purse.Balance
	defer func() { r.After = c.Purse.Balance }()

	if err := b.debit(c, r); err != nil {
		if bathRefusal(err) {
			r.Refused = onecard.ErrorMessage(err)
			if b.Queued() > 0 {
				b.upload(ctx, r)
			}
			return r, nil
		}
		return r, err
	}
	for r.Units < units {
		if r.Used+ctl.Price <= r.Held {
			r.Units++
			r.Used += ctl.Price
			continue
		}
		if mode == ModeInsert {
			r.Stopped = "the pre-debit was used up"
			break
		}
		if err := b.debit(c, r); bathRefusal(err) {
			r.Stopped = "the card has nothing more to pre-debit"
			break
		} else if err != nil {
			return r, err
		}
	}
	b.file.Meter.Units, b.file.Meter.Used = r.Units, r.Used
	if err := b.save(); err != nil {
		return r, err
	}
	rec, err := b.settle(c, r.Used)
	if err != nil {
		return r, err
	}
	r.Record, r.WrittenBack = rec, r.Held-r.Used
	b.upload(ctx, r)
	return r, nil
}

// bathRefusal reports whether err is the card declining a pre-debit: empty,
// locked, or in a bath at another controller.
func bathRefusal(err error) bool {
	return cardRefusal(err) || errors.Is(err, purse.ErrBathElsewhere)
}

// debit takes one pre-debit. The controller is saved first, with its
// sequence and the meter: a card saved with a bath the controller forgot
// could never be settled for what it used.
func (b *Bath) debit(c *Card, r *BathResult) error {
	ctl := &b.file.Controller
	step, err := ctl.Debit(c.Purse, now())
	if err != nil {
		return err
	}
	if b.file.Meter == nil || b.file.Meter.UID != c.Purse.UID {
		b.file.Meter = &bathMeter{UID: c.Purse.UID}
	}
	b.file.Meter.Units, b.file.Meter.Used = r.Units, r.Used
	if err := b.save(); err != nil {
		return err
	}
	if err := c.save(); err != nil {
		return err
	}
	r.PreDebits = append(r.PreDebits, step.Held-r.Held)
	r.Held = step.Held
	return nil
}

// settle writes back all but used fen of the bath open on the card here
// and queues its record: the card is saved first, so that a record never
// exists for a bath the card does not show settled.
func (b *Bath) settle(c *Card, used int64) (*purse.Record, error) {
	rec, err := b.file.Controller.Settle(c.Purse, used, now())
	if err != nil {
		return nil, fmt.Errorf("the card refused the write-back at %s: %w", b.Code, err)
	}
	if err := c.save(); err != nil {
		return nil, err
	}
	b.file.Meter = nil
	if rec != nil {
		b.file.Outbox = append(b.file.Outbox, *rec)
	}
	return rec, b.save()
}

// settleEarlier settles the bath an earlier run left open on c here, for
// what the saved meter says it used (nothing, if the meter is another
// card's: the controller serves one bath at a time).
func (b *Bath) settleEarlier(c *Card) (*EarlierBath, error) {
	held := b.file.Controller.Open(c.Purse).Held
	used := int64(0)
	if m := b.file.Meter; m != nil && m.UID == c.Purse.UID {
		used = min(m.Used, held)
	}
	rec, err := b.settle(c, used)
	if err != nil {
		return nil, err
	}
	return &EarlierBath{Used: used, WrittenBack: held - used, Record: rec}, nil
}

// upload sends the queue with r's record in it and notes the server's
// verdict on that record.
func (b *Bath) upload(ctx context.Context, r *BathResult) {
	ups, err := b.Upload(ctx)
	r.Uploaded, r.UploadErr = ups, err
	for i := range ups {
		if r.Record != nil && ups[i].Record.TerminalSeq == r.Record.TerminalSeq {
			r.Upload = &ups[i].Result
		}
	}
}
