package device_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// benchWorld is a purse world on one dialect with cards carrying ¥1000
// each, loaded through the device API.
func benchWorld(b *testing.B, dialect string, cards int) (*purseWorld, []*holder) {
	b.Helper()
	clock := storetest.NewClock(lunch)
	db := storetest.Open(b, dialect, store.Options{Now: clock.Now})
	w := newPurseWorld(b, db, clock)
	hs := make([]*holder, cards)
	for i := range hs {
		hs[i] = w.newHolder()
		w.deposit(hs[i], 1000_00)
		if err := w.load(w.pos, device.LoadClaim, hs[i], 1000_00); err != nil {
			b.Fatal(err)
		}
	}
	return w, hs
}

// BenchmarkUploadRecords uploads batches of 500 offline purchase records
// (100 cards, 5 records each) through the device API; one op is a batch.
func BenchmarkUploadRecords(b *testing.B) {
	for _, dialect := range storetest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			w, hs := benchWorld(b, dialect, 100)
			batch := make([]purse.Record, device.MaxRecords)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for k := range batch {
					res, err := w.terminal.Tap(hs[k%len(hs)].image, 1, lunch)
					if err != nil {
						b.Fatal(err)
					}
					batch[k] = *res.Record
				}
				b.StartTimer()
				rs, err := w.pos.UploadRecords(ctx, batch)
				if err != nil {
					b.Fatal(err)
				}
				if rs[len(rs)-1].Status != device.RecordAccepted {
					b.Fatalf("last record: %+v", rs[len(rs)-1])
				}
			}
			b.ReportMetric(float64(b.N*device.MaxRecords)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkTap asks for online purchase authorisations through the device
// API from 16 POS at once (each its own terminal, as in a canteen); one op
// is a tap.
func BenchmarkTap(b *testing.B) {
	for _, dialect := range storetest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			w, hs := benchWorld(b, dialect, 100)
			states := make([]device.CardState, len(hs))
			for i, h := range hs {
				states[i] = device.StateOf(h.image)
			}
			const terminals = 16
			clients := make(chan *device.Client, terminals)
			for i := range terminals {
				c, _ := w.register(onecard.TerminalPOS, fmt.Sprintf("bench-pos-%d", i), w.canteen.ID)
				clients <- c
			}
			b.SetParallelism(terminals)
			b.ResetTimer()
			start := time.Now()
			var next int64
			b.RunParallel(func(pb *testing.PB) {
				pos := <-clients
				defer func() { clients <- pos }()
				for pb.Next() {
					i := int(nextIndex(&next)) % len(states)
					d, err := pos.Tap(ctx, &device.TapRequest{Card: states[i], Amount: 1_00})
					if err != nil {
						b.Error(err)
						return
					}
					if d.Decision != device.Approve {
						b.Errorf("tap: %+v", d)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "taps/s")
		})
	}
}

func nextIndex(n *int64) int64 { return atomic.AddInt64(n, 1) }
