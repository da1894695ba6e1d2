package sim

import (
	"slices"
	"testing"

	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// TestBath: a card claimed at a kiosk bathes in both modes of seed 001.
// Insert mode keeps only what the water cost and writes the rest of the
// 1-yuan pre-debit back; asked for more than the pre-debit buys, the water
// stops when it is used up. Key mode takes a second pre-debit and settles
// the whole bath in one record. Every record is accepted, the purse shadow
// follows the card, the merchant receives what the water cost, and a card
// with nothing on it begins no bath.
func TestBath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		st := w.open(t)
		c, err := st.Card(w.info.SampleNumber)
		if err != nil {
			t.Fatal(err)
		}
		k, err := st.Kiosk(ctx, "kiosk-01")
		if err != nil {
			t.Fatal(err)
		}
		if lr, err := k.Claim(ctx, c); err != nil || lr.Amount <= 0 {
			t.Fatalf("claim: %+v, %v", lr, err)
		}
		received := w.merchantsReceived(t)
		b, err := st.Bath(ctx, "bath-01", 3, UnitLitre)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			mode                    string
			litres, ran, used, back int64
			preDebits               []int64
			stopped                 bool
		}{
			{ModeInsert, 20, 20, 60, 40, []int64{100}, false},
			{ModeInsert, 50, 33, 99, 1, []int64{100}, true},
			{ModeKey, 50, 50, 150, 50, []int64{100, 100}, false},
		} {
			r, err := b.Session(ctx, c, tc.mode, tc.litres)
			if err != nil || r.Refused != "" || r.Units != tc.ran || r.Used != tc.used || r.WrittenBack != tc.back ||
				!slices.Equal(r.PreDebits, tc.preDebits) || (r.Stopped != "") != tc.stopped || r.After != r.Before-tc.used {
				t.Fatalf("%s bath of %d litres: %+v, %v", tc.mode, tc.litres, r, err)
			}
			if r.Record == nil || r.Record.Amount != tc.used || r.Upload == nil || r.Upload.Status != device.RecordAccepted {
				t.Fatalf("%s bath's record %+v: %+v, %v", tc.mode, r.Record, r.Upload, r.UploadErr)
			}
		}
		if c.Purse.Bath != nil || b.Queued() != 0 || b.Controller().Seq != 3 {
			t.Errorf("after the baths: card bath %+v, %d queued, seq %d", c.Purse.Bath, b.Queued(), b.Controller().Seq)
		}
		h, err := db.CardholderByNumber(ctx, w.info.SchoolID, c.Number())
		if err != nil {
			t.Fatal(err)
		}
		if bal, err := db.Balance(ctx, h.ID); err != nil || bal.Purse != c.Purse.Balance {
			t.Errorf("purse shadow %+v, card %d, %v", bal, c.Purse.Balance, err)
		}
		if got := w.merchantsReceived(t) - received; got != 60+99+150 {
			t.Errorf("the bath merchant received %d fen, want %d", got, 60+99+150)
		}

		// A card never claimed holds nothing: no bath.
		empty := st.Cards()[len(st.Cards())-1]
		if r, err := b.Session(ctx, empty, ModeInsert, 10); err != nil || r.Refused == "" || r.Record != nil || empty.Purse.Balance != 0 {
			t.Errorf("bath on an empty card: %+v, %v", r, err)
		}
		w.checkLedger(t)
	})
}
