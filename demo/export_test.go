package demo

import (
	"context"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
)

// People exposes the generated roster to the external tests.
func People() []onecard.NewCardholder {
	var out []onecard.NewCardholder
	for _, p := range people() {
		out = append(out, p.NewCardholder)
	}
	return out
}

// partOfRoster is the roster's first students and staff and all its
// visitors: every kind of card number, the sample cardholder first and the
// marker deposit last, as in the whole roster.
func partOfRoster() []person {
	ps := people()
	part := append([]person{}, ps[:40]...)
	part = append(part, ps[students:students+10]...)
	return append(part, ps[students+staff:]...)
}

// PartCardholders is how many cardholders LoadPart creates.
var PartCardholders = len(partOfRoster())

// LoadPart is Load of part of the roster, for tests.
func LoadPart(ctx context.Context, db *store.DB, led ledger.Submitter) (*Info, error) {
	return load(ctx, db, led, partOfRoster())
}
