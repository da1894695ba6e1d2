package ledger_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/onecard-campus/onecard/bench"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// BenchmarkSubmit measures acknowledged single-transfer requests from 64
// concurrent callers through the group committer, on each store. Each op
// is one durable transfer; see `onecard bench ledger` for the full run.
func BenchmarkSubmit(b *testing.B) {
	for _, dialect := range storetest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, dialect, store.Options{})
			const n = 1000
			led := ledger.New(db, ledger.Options{})
			defer led.Close()
			ids, err := bench.FundedAccounts(ctx, db, led, n)
			if err != nil {
				b.Fatal(err)
			}
			var seq atomic.Int64
			b.SetParallelism(64 / max(1, runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					dr, cr := ids[i%n], ids[(i*7+1)%n]
					if dr == cr {
						cr = ids[(i+1)%n]
					}
					out, err := led.Submit(ctx, []ledger.Transfer{{Key: fmt.Sprint("b", i), Debit: dr, Credit: cr, Amount: 1, Code: "bench"}})
					if err != nil || out[0].Result != ledger.OK {
						b.Errorf("submit: %v %v", out, err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkChainHash measures hashing one journal row.
func BenchmarkChainHash(b *testing.B) {
	t := &ledger.Transfer{ID: 1, Key: "pos-0001-000042", Debit: 10, Credit: 20, Amount: 1250, Code: "purchase", Memo: "第一食堂"}
	var h [32]byte
	for b.Loop() {
		h = ledger.ChainHash(h, t)
	}
}
