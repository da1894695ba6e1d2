package sim

import (
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// TestClaimAtFirstTap: the first online tap of a card whose holder
// deposited money claims the deposit onto the card, then charges it; the
// server's purse shadow follows the card. An offline POS's record of the
// same card is accepted at its upload, and counts once when sent again.
func TestClaimAtFirstTap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		st := w.open(t)
		c, err := st.Card(w.info.SampleNumber)
		if err != nil {
			t.Fatal(err)
		}
		h, err := db.CardholderByNumber(ctx, w.info.SchoolID, c.Number())
		if err != nil {
			t.Fatal(err)
		}
		before, err := db.Balance(ctx, h.ID)
		if err != nil || before.Transition <= 0 || before.Purse != 0 {
			t.Fatalf("the sample's balance before: %+v, %v", before, err)
		}
		claim := min(before.Transition, c.Purse.Ceiling)

		p, err := st.POS(ctx, "canteen1-pos-01")
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.Tap(ctx, c, 12_50, c.PIN)
		if err != nil || r.Decision != device.Approve || r.Claim != claim || r.Before != 0 || r.After != claim-12_50 {
			t.Fatalf("first tap: %+v, %v", r, err)
		}
		if r.Upload == nil || r.Upload.Status != device.RecordAccepted || r.Latency <= 0 || p.Queued() != 0 {
			t.Fatalf("first tap's record: %+v, %v, %d queued", r.Upload, r.UploadErr, p.Queued())
		}
		after, err := db.Balance(ctx, h.ID)
		if err != nil || after.Purse != c.Purse.Balance || after.Transition != before.Transition-claim || after.Total != before.Total-12_50 {
			t.Fatalf("balance after the first tap: %+v (card %d), before %+v, %v", after, c.Purse.Balance, before, err)
		}

		// The second tap has nothing to claim.
		r, err = p.Tap(ctx, c, 8_00, c.PIN)
		if err != nil || r.Decision != device.Approve || r.Claim != 0 || r.After != claim-20_50 || r.Upload == nil ||
			r.Upload.Status != device.RecordAccepted {
			t.Fatalf("second tap: %+v, %v", r, err)
		}

		// Offline, then uploaded twice: it counts once.
		off, err := st.POS(ctx, "canteen2-pos-01")
		if err != nil {
			t.Fatal(err)
		}
		off.Offline = true
		r, err = off.Tap(ctx, c, 6_00, "")
		if err != nil || r.Decision != device.Approve || r.Record == nil || r.Upload != nil {
			t.Fatalf("offline tap: %+v, %v", r, err)
		}
		ups, err := off.Upload(ctx)
		if err != nil || len(ups) != 1 || ups[0].Result.Status != device.RecordAccepted {
			t.Fatalf("offline upload: %+v, %v", ups, err)
		}
		res, err := off.Client.UploadRecords(ctx, []purse.Record{ups[0].Record})
		if err != nil || res[0].Status != device.RecordDuplicate {
			t.Fatalf("the same record again: %+v, %v", res, err)
		}
		if after, err = db.Balance(ctx, h.ID); err != nil || after.Purse != c.Purse.Balance || after.Total != before.Total-26_50 {
			t.Fatalf("balance after the offline purchase: %+v (card %d), %v", after, c.Purse.Balance, err)
		}
		w.checkLedger(t)

		// Closed, the online POS's file no longer holds the records it sent.
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		var saved terminalFile
		if err := readJSON(p.path, &saved); err != nil || len(saved.Outbox) != 0 || saved.Terminal.Seq != 2 {
			t.Errorf("%s after Close: seq %d, %d queued, %v", p.Code, saved.Terminal.Seq, len(saved.Outbox), err)
		}
	})
}

// TestLunch runs a short lunch rush: nothing fails, every record is
// accepted, the ledger check passes, and what the simulator spent is what
// the merchants received.
func TestLunch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		st := w.open(t)
		received := w.merchantsReceived(t)
		res, err := Lunch(ctx, st, LunchOptions{Duration: 2 * time.Second, POS: 12, Offline: 0.25,
			UploadEvery: 500 * time.Millisecond, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("lunch: %+v", *res)
		if res.Failed != 0 || res.Rejected != 0 || res.Outstanding != 0 || res.UploadErrors != 0 {
			t.Fatalf("%d failed (first: %s), %d rejected %v, %d outstanding, %d upload errors",
				res.Failed, res.FirstError, res.Rejected, res.Rejections, res.Outstanding, res.UploadErrors)
		}
		if res.POS != 12 || res.OfflinePOS != 3 || res.OnlinePurchases == 0 || res.Claims == 0 || res.Spent <= 0 ||
			res.Accepted != res.Purchases || res.Duplicate != 0 {
			t.Errorf("result: %+v", *res)
		}
		if got := w.merchantsReceived(t) - received; got != res.Spent {
			t.Errorf("the merchants received %s, the simulator spent %s", onecard.Yuan(got), onecard.Yuan(res.Spent))
		}
		w.checkLedger(t)
	})
}
