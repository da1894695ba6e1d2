package demo

import (
	"context"
	"fmt"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
)

// LoadSample is Load of a small part of the roster, for other packages'
// tests: the first n students (the sample cardholder first) and the eight
// visitors (whose deposits Load's completion marker needs), with all the
// merchants and terminals. Hashing a thousand PINs takes most of a minute
// under the race detector; a sample takes a second or two.
func LoadSample(ctx context.Context, db *store.DB, led ledger.Submitter, n int) (*Info, error) {
	if n < 1 || n > students {
		return nil, fmt.Errorf("demo: a sample has 1 to %d students, not %d", students, n)
	}
	ps := people()
	sample := append([]person{}, ps[:n]...)
	return load(ctx, db, led, append(sample, ps[students+staff:]...))
}
