package sim

import (
	"errors"
	"slices"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
)

// openFake opens a fresh state on the fake server and its offline pos-1.
func openFake(t *testing.T, f *fakeServer, dir string) (*State, *POS) {
	t.Helper()
	st, err := Open(ctx, f.srv.URL, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := st.POS(ctx, "pos-1")
	if err != nil {
		t.Fatal(err)
	}
	p.Offline = true
	return st, p
}

// TestOfflineUploadBatches: an offline POS keeps its records and uploads
// them in batches of at most 500, each TAC verified; the same record
// again is a duplicate.
func TestOfflineUploadBatches(t *testing.T) {
	f := newFakeServer(t)
	st, p := openFake(t, f, t.TempDir())
	c, _ := st.Card("2021010002")
	const taps = 2*device.MaxRecords + 1
	if r, err := p.Tap(ctx, c, 1, ""); err != nil || r.Decision != device.Approve {
		t.Fatalf("tap: %+v, %v", r, err)
	}
	// The rest as Tap makes them, without its three file writes each.
	for i := 1; i < taps; i++ {
		res, err := p.file.Terminal.Tap(c.Purse, 1, now())
		if err != nil {
			t.Fatalf("tap %d: %v", i, err)
		}
		p.file.Outbox = append(p.file.Outbox, *res.Record)
	}
	if err := p.save(); err != nil {
		t.Fatal(err)
	}
	if p.Queued() != taps || c.Purse.Balance != fakeBalance-taps {
		t.Fatalf("%d queued, balance %d", p.Queued(), c.Purse.Balance)
	}
	ups, err := p.Upload(ctx)
	if err != nil || len(ups) != taps || p.Queued() != 0 {
		t.Fatalf("upload: %d results, %d queued, %v", len(ups), p.Queued(), err)
	}
	if !slices.Equal(f.batches, []int{500, 500, 1}) {
		t.Errorf("batches %v", f.batches)
	}
	for _, u := range ups {
		if u.Result.Status != device.RecordAccepted {
			t.Fatalf("record seq %d: %+v", u.Record.TerminalSeq, u.Result)
		}
	}
	res, err := p.Client.UploadRecords(ctx, []purse.Record{ups[0].Record})
	if err != nil || res[0].Status != device.RecordDuplicate {
		t.Errorf("the same record again: %+v, %v", res, err)
	}
}

// TestOfflineBlacklist: an offline POS refuses a card on the blacklist it
// pulled and locks it; the lock stays on the card after the card leaves
// the blacklist, until the card centre clears it.
func TestOfflineBlacklist(t *testing.T) {
	f := newFakeServer(t)
	blocked := f.kit.Cards[2].Card.UID
	f.blocked = []onecard.BlacklistEntry{{Version: 1, UID: blocked.String(), Blocked: true, Reason: "lost"}}
	st, p := openFake(t, f, t.TempDir())
	c, _ := st.Card(blocked.String())
	r, err := p.Tap(ctx, c, 5_00, "")
	if err != nil || r.Decision != device.Refuse || r.RefusedBy != ByTerminal || r.Code != onecard.ECARDBLOCKED || !r.LockedCard ||
		!c.Purse.Blacklisted || r.After != r.Before {
		t.Fatalf("tap of a blacklisted card: %+v, %v", r, err)
	}
	f.blocked = append(f.blocked, onecard.BlacklistEntry{Version: 2, UID: blocked.String(), Blocked: false})
	if _, err := p.Upload(ctx); err != nil {
		t.Fatal(err)
	}
	r, err = p.Tap(ctx, c, 5_00, "")
	if err != nil || r.Decision != device.Refuse || r.RefusedBy != ByCard || r.Code != onecard.ECARDBLOCKED || r.LockedCard {
		t.Fatalf("tap of the locked card after it left the blacklist: %+v, %v", r, err)
	}
	other, _ := st.Card("2021010001")
	if r, err := p.Tap(ctx, other, 5_00, ""); err != nil || r.Decision != device.Approve {
		t.Fatalf("tap of another card: %+v, %v", r, err)
	}
}

// TestTornPurchase: a simulator stopped after the card debited but before
// the POS saw the answer completes that purchase at the card's next tap,
// charging nothing more; one stopped before the card saw the debit charges
// afresh. Meanwhile the POS serves no other card.
func TestTornPurchase(t *testing.T) {
	f := newFakeServer(t)
	dir := t.TempDir()
	st, p := openFake(t, f, dir)
	c, _ := st.Card("2021010001")

	// The POS saves the pending purchase, the card debits, the answer is lost.
	pend, err := p.file.Terminal.Begin(c.Purse, 3_00, now())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.save(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Purse.Purchase(pend.MAC1, pend.Seq, pend.Time); err != nil {
		t.Fatal(err)
	}
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, p = openFake(t, f, dir)
	c, _ = st.Card("2021010001")
	other, _ := st.Card("2021010002")
	if p.Pending() == nil {
		t.Fatal("the pending purchase was not saved")
	}
	var perr *PendingError
	if _, err := p.Tap(ctx, other, 1_00, ""); !errors.As(err, &perr) || perr.Card != c.Number() || perr.Amount != 3_00 {
		t.Fatalf("another card at the POS: %v", err)
	}
	r, err := p.Tap(ctx, c, 7_00, "")
	if err != nil || !r.Recovered || r.Record.Amount != 3_00 || r.Before != fakeBalance-3_00 || r.After != r.Before || p.Pending() != nil {
		t.Fatalf("the card back: %+v, %v", r, err)
	}

	// Stopped before the card saw the debit: the next tap is a new purchase.
	if _, err := p.file.Terminal.Begin(c.Purse, 4_00, now()); err != nil {
		t.Fatal(err)
	}
	if err := p.save(); err != nil {
		t.Fatal(err)
	}
	r, err = p.Tap(ctx, c, 2_00, "")
	if err != nil || r.Recovered || r.Record == nil || r.Record.Amount != 2_00 || r.After != r.Before-2_00 {
		t.Fatalf("tap after a purchase the card never saw: %+v, %v", r, err)
	}
	ups, err := p.Upload(ctx)
	if err != nil || len(ups) != 2 || ups[0].Result.Status != device.RecordAccepted || ups[1].Result.Status != device.RecordAccepted {
		t.Fatalf("upload: %+v, %v", ups, err)
	}
}
