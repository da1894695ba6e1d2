package sim

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync/atomic"

	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/purse"
)

// Card is a virtual card of the kit and its holder: the purse image as it
// evolves, saved after every change, and the consumption PIN the holder
// types when a POS asks for it. Like a chip, a Card serves one terminal at
// a time.
type Card struct {
	Purse *purse.Card
	PIN   string

	path string
	busy atomic.Bool // at a POS now (Lunch)
	skip atomic.Bool // refused by the server; Lunch taps it no more
}

// Number is the card number printed on the card.
func (c *Card) Number() string { return c.Purse.Number }

// save writes the card's image to its file.
func (c *Card) save() error {
	if err := writeJSON(c.path, c.Purse); err != nil {
		return fmt.Errorf("unable to save card %s: %w", c.Purse.Number, err)
	}
	return nil
}

// openCard returns the kit's card as the simulator last saved it, or as
// issued if it never was. A saved image of another card under the same UID
// (another server's demo, whose keys differ) is set aside: reset reports it.
func openCard(dir string, kc demo.KitCard) (c *Card, reset bool, err error) {
	issued := *kc.Card
	c = &Card{Purse: &issued, PIN: kc.PIN, path: filepath.Join(dir, kc.Card.UID.String()+".json")}
	var saved purse.Card
	err = readJSON(c.path, &saved)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, false, nil
	case err != nil:
		return c, true, nil // unreadable: start from the issued image again
	case saved.UID != issued.UID || saved.Keys != issued.Keys || saved.Number != issued.Number:
		return c, true, nil
	}
	c.Purse = &saved
	return c, false, nil
}
