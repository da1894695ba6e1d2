package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// TestRandomConcurrentOperationsKeepInvariants drives random top-ups,
// payments, holds, posts, voids, linked pairs, duplicate keys and freezes
// from many goroutines, then checks that every acknowledged transfer is in
// the balances and that Check finds nothing wrong.
func TestRandomConcurrentOperationsKeepInvariants(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", dialect, seed), func(t *testing.T) {
				runRandomOperations(t, storetest.Open(t, dialect, store.Options{}), seed)
			})
		}
	}
}

func runRandomOperations(t *testing.T, db *store.DB, seed uint64) {
	ctx := context.Background()
	var bank int64
	var purses, merchants []int64
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if bank, err = tx.CreateAccount(ctx, store.AccountSpec{Kind: "bank", Floor: ledger.NoFloor, Ceiling: ledger.NoCeiling}); err != nil {
			return err
		}
		for i := 0; i < 8; i++ {
			ceiling := ledger.NoCeiling
			if i%3 == 0 {
				ceiling = 500_00
			}
			id, err := tx.CreateAccount(ctx, store.AccountSpec{Kind: store.KindPurse, Floor: 0, Ceiling: ceiling})
			if err != nil {
				return err
			}
			purses = append(purses, id)
		}
		for i := 0; i < 2; i++ {
			id, err := tx.CreateAccount(ctx, store.AccountSpec{Kind: store.KindMerchant, Floor: 0, Ceiling: ledger.NoCeiling})
			if err != nil {
				return err
			}
			merchants = append(merchants, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	led := ledger.New(db, ledger.Options{SweepEvery: 2 * time.Millisecond})
	defer led.Close()

	var mu sync.Mutex
	committed := map[string]*ledger.Transfer{} // key -> record, from OK outcomes
	var failures []string
	record := func(sent []ledger.Transfer, out []ledger.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		for i, o := range out {
			switch o.Result {
			case ledger.OK:
				if committed[o.Transfer.Key] != nil {
					failures = append(failures, "key committed twice: "+o.Transfer.Key)
				}
				committed[o.Transfer.Key] = o.Transfer
			case ledger.Exists:
				if first := committed[sent[i].Key]; first != nil && first.ID != o.Transfer.ID {
					failures = append(failures, fmt.Sprintf("retry of %s returned transfer %d, first was %d", sent[i].Key, o.Transfer.ID, first.ID))
				}
			}
		}
	}

	const workers, ops = 8, 120
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var holds, sent []ledger.Transfer
			n := 0
			key := func() string { n++; return fmt.Sprintf("w%d-%d", w, n) }
			pick := func(s []int64) int64 { return s[rng.IntN(len(s))] }
			for op := 0; op < ops; op++ {
				var req []ledger.Transfer
				switch k := rng.IntN(10); {
				case k < 3:
					req = []ledger.Transfer{{Key: key(), Debit: bank, Credit: pick(purses), Amount: rng.Int64N(200_00) + 1, Code: "topup"}}
				case k < 5:
					req = []ledger.Transfer{{Key: key(), Debit: pick(purses), Credit: pick(merchants), Amount: rng.Int64N(30_00) + 1, Code: "purchase"}}
				case k < 6:
					h := ledger.Transfer{Key: key(), Debit: pick(purses), Credit: pick(merchants), Amount: rng.Int64N(5_00) + 1,
						Flags: ledger.Pending, Code: "bath", Timeout: time.Duration(rng.IntN(3)) * 5 * time.Millisecond}
					holds = append(holds, h)
					req = []ledger.Transfer{h}
				case k < 7 && len(holds) > 0:
					h := holds[rng.IntN(len(holds))]
					if rng.IntN(2) == 0 {
						req = []ledger.Transfer{{Key: key(), PendingKey: h.Key, Amount: rng.Int64N(h.Amount + 1), Flags: ledger.PostPending}}
					} else {
						req = []ledger.Transfer{{Key: key(), PendingKey: h.Key, Flags: ledger.VoidPending}}
					}
				case k < 8:
					p := pick(purses)
					req = []ledger.Transfer{
						{Key: key(), Debit: p, Credit: pick(merchants), Amount: rng.Int64N(50_00) + 1, Flags: ledger.Linked, Code: "purchase"},
						{Key: key(), Debit: bank, Credit: p, Amount: rng.Int64N(50_00) + 1, Code: "topup"},
					}
				case k < 9 && len(sent) > 0:
					req = []ledger.Transfer{sent[rng.IntN(len(sent))]} // a retry with the same key
				default:
					p := pick(purses)
					if err := db.ExecRaw(ctx, `UPDATE accounts SET frozen = ? WHERE id = ?`, rng.IntN(2) == 0, p); err != nil {
						t.Error(err)
					}
					continue
				}
				out, err := led.Submit(ctx, req)
				if err != nil {
					t.Error(err)
					return
				}
				record(req, out)
				sent = append(sent, req...)
			}
		}(w)
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}

	// Every acknowledged transfer is in the balances, and nothing else is.
	want := map[int64]int64{}
	for _, tr := range committed {
		if tr.Flags&(ledger.Pending|ledger.VoidPending) == 0 {
			want[tr.Debit] -= tr.Amount
			want[tr.Credit] += tr.Amount
		}
	}
	for _, id := range append(append([]int64{bank}, purses...), merchants...) {
		a, err := db.Account(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Balance != want[id] {
			t.Errorf("account %d: balance %d, acknowledged transfers say %d", id, a.Balance, want[id])
		}
	}
	if v := violations(t, db); len(v) != 0 {
		t.Errorf("check after the run: %v", v)
	}
	if len(committed) < workers*ops/4 {
		t.Errorf("only %d transfers committed: the run exercised too little", len(committed))
	}
}
