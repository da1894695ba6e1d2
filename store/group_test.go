package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// Concurrent grouped writes share transactions, but a call that fails
// leaves nothing behind and fails no neighbour.
func TestWriteGroupedIsolatesEachCall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const n = 60
		ctx := context.Background()
		errBoom := errors.New("boom")
		ids := make([]int64, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = db.WriteGrouped(ctx, func(tx *store.Tx) error {
					// The ceiling marks whose account it is: a failed call's ID may be reused.
					id, err := tx.CreateAccount(ctx, store.AccountSpec{SchoolID: 7, Kind: store.KindBench, OwnerID: int64(i),
						Floor: ledger.NoFloor, Ceiling: int64(1000 + i)})
					if err != nil {
						return err
					}
					ids[i] = id
					if i%3 == 0 {
						return fmt.Errorf("call %d: %w", i, errBoom) // after writing: the write must vanish
					}
					return nil
				})
			}()
		}
		wg.Wait()
		for i := range n {
			a, err := db.Account(ctx, ids[i])
			switch {
			case i%3 == 0 && !errors.Is(errs[i], errBoom):
				t.Errorf("call %d: err %v, want its own error", i, errs[i])
			case i%3 == 0 && err == nil && a.Ceiling == int64(1000+i):
				t.Errorf("call %d failed but its account %d exists", i, ids[i])
			case i%3 == 0:
			case errs[i] != nil || err != nil || a.Ceiling != int64(1000+i):
				t.Errorf("call %d: err %v, account %d: %+v %v", i, errs[i], ids[i], a, err)
			}
		}
	})
}
