package sim

import (
	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
)

// tapOffline is an offline POS's tap after any retry: no server, so the
// blacklist it last pulled stands in for the check, and the card alone
// decides whether it can pay. The record waits in the queue.
func (p *POS) tapOffline(c *Card, amount int64, r *TapResult) error {
	if p.blocked[c.Purse.UID] {
		r.refuse(ByTerminal, onecard.Errorf(onecard.ECARDBLOCKED, "This card is on the blacklist. Please go to the card center."))
		if !c.Purse.Blacklisted {
			c.Purse.Blacklisted, r.LockedCard = true, true
			return c.save()
		}
		return nil
	}
	rec, err := p.charge(c, amount)
	if cardRefusal(err) {
		r.refuse(ByCard, err)
		return nil
	} else if err != nil {
		return err
	}
	r.Decision, r.Record = device.Approve, rec
	return nil
}
