package device_test

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
	"github.com/onecard-campus/onecard/store"
)

func TestTapClaimsTheTransitionBalanceThenCharges(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		h := w.newHolder()
		w.deposit(h, 100_00)
		d, _ := w.buy(h, 12_50, "")
		if d.Claim != 100_00 {
			t.Errorf("claim offered: %s, want the whole transition balance", onecard.Yuan(d.Claim))
		}
		w.wantBooks(h, books{Card: 87_50, Purse: 87_50, Transition: 0, Merchant: 12_50})
		if d := w.tap(h, 1_00, ""); d.Decision != device.Approve || d.Claim != 0 {
			t.Errorf("tap with nothing to claim: %+v", d)
		}

		// The same init twice: the same MAC2 and time, the money moved once.
		w.deposit(h, 20_00)
		init, err := h.image.InitLoad(20_00, purse.TerminalID(w.posID))
		if err != nil {
			t.Fatal(err)
		}
		req := &device.LoadRequest{Kind: device.LoadClaim, UID: h.image.UID, Amount: 20_00, Init: *init}
		first, err := w.pos.AuthorizeLoad(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(3 * time.Second)
		again, err := w.pos.AuthorizeLoad(ctx, req)
		if err != nil || again.MAC2 != first.MAC2 || !again.Time.Equal(first.Time) {
			t.Fatalf("retried load: %+v %v, want %+v", again, err, first)
		}
		w.wantBooks(h, books{Card: 87_50, Purse: 107_50, Transition: 0, Merchant: 12_50})
		tac, err := h.image.Load(first.MAC2, first.Time)
		if err != nil {
			t.Fatal(err)
		}
		bad := tac
		bad[3] ^= 0x40
		wantCode(t, w.pos.ConfirmLoad(ctx, &device.ConfirmLoadRequest{UID: h.image.UID, Counter: h.image.OnlineCounter, TAC: bad}), onecard.EINVALID)
		for range 2 {
			wantCode(t, w.pos.ConfirmLoad(ctx, &device.ConfirmLoadRequest{UID: h.image.UID, Counter: h.image.OnlineCounter, TAC: tac}), "")
		}
		wantCode(t, w.pos.ConfirmLoad(ctx, &device.ConfirmLoadRequest{UID: h.image.UID, Counter: 9, TAC: tac}), onecard.ENOTFOUND)
		w.wantBooks(h, books{Card: 107_50, Purse: 107_50, Transition: 0, Merchant: 12_50})
		// A bad MAC1 moves nothing.
		init2, _ := h.image.InitLoad(5_00, purse.TerminalID(w.posID))
		init2.MAC1[0] ^= 1
		_, err = w.pos.AuthorizeLoad(ctx, &device.LoadRequest{Kind: device.LoadClaim, UID: h.image.UID, Amount: 5_00, Init: *init2})
		wantCode(t, err, onecard.EINVALID)
	})
}

func TestTapRefuses(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		s := w.school.Settings
		s.SingleLimit, s.DailyLimit, s.MealPINThreshold = 30_00, 40_00, 100_00
		if _, err := w.db.UpdateSettings(ctx, w.school.ID, s); err != nil {
			t.Fatal(err)
		}
		h := w.newHolder()
		wantDecision(t, w.tap(h, 5_00, ""), device.Refuse, onecard.EINSUFFICIENT)
		w.deposit(h, 100_00)
		wantDecision(t, w.tap(h, 30_01, ""), device.Refuse, onecard.ELIMIT)
		w.buy(h, 30_00, "")
		// A payment in the app counts towards the same daily limit.
		w.deposit(h, 10_00)
		if _, err := w.db.Pay(ctx, &onecard.Payment{Key: "app-1", CardholderID: h.ID, MerchantID: w.canteen.ID, Amount: 5_00}); err != nil {
			t.Fatal(err)
		}
		d := w.tap(h, 5_01, "")
		wantDecision(t, d, device.Refuse, onecard.ELIMIT)
		if !strings.Contains(d.Message, "daily limit") || d.Claim != 5_00 {
			t.Errorf("daily limit refusal: %+v", d)
		}
		wantDecision(t, w.tap(h, 5_00, ""), device.Approve, "")

		stranger := w.issuer.Personalize(purse.UID{1, 2, 3, 4, 5, 6, 7, 8}, "20250099", 1000_00)
		wantDecision(t, mustTap(t, w.pos, stranger, 1_00), device.Refuse, onecard.ENOTFOUND)
		forged := *h.image
		forged.Number = "20259999"
		wantDecision(t, mustTap(t, w.pos, &forged, 1_00), device.Refuse, onecard.EINVALID)
	})
}

func mustTap(t *testing.T, c *device.Client, card *purse.Card, amount int64) *device.TapDecision {
	t.Helper()
	d, err := c.Tap(ctx, &device.TapRequest{Card: device.StateOf(card), Amount: amount})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRecordUploadedTwiceCountsOnce(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		h := w.newHolder()
		w.deposit(h, 100_00)
		if err := w.load(w.pos, device.LoadClaim, h, 100_00); err != nil {
			t.Fatal(err)
		}
		r1, r2 := w.offline(h, 5_00), w.offline(h, 7_00)
		first := w.upload(&r1, &r2).want(device.RecordAccepted)
		again := w.upload(&r1, &r2).want(device.RecordDuplicate)
		for i := range first.rs {
			if first.rs[i].TransferID == 0 || again.rs[i].TransferID != first.rs[i].TransferID {
				t.Errorf("record %d: transfer %d, then %d", i, first.rs[i].TransferID, again.rs[i].TransferID)
			}
		}
		r3 := w.offline(h, 3_00)
		w.upload(&r3, &r3).want(device.RecordAccepted, device.RecordDuplicate)
		w.wantBooks(h, books{Card: 85_00, Purse: 85_00, Transition: 0, Merchant: 15_00})
		gaps, err := w.db.CounterGaps(ctx, h.card.ID)
		if err != nil || len(gaps) != 0 {
			t.Errorf("gaps: %v %v", gaps, err)
		}
		// A record held back by an offline POS is a gap until it arrives.
		late := w.offline(h, 1_00)
		r5 := w.offline(h, 2_00)
		w.upload(&r5).want(device.RecordAccepted)
		if gaps, _ := w.db.CounterGaps(ctx, h.card.ID); len(gaps) != 1 || gaps[0] != late.Counter {
			t.Errorf("gaps with purchase %d missing: %v", late.Counter, gaps)
		}
		w.upload(&late).want(device.RecordAccepted)
		if gaps, _ := w.db.CounterGaps(ctx, h.card.ID); len(gaps) != 0 {
			t.Errorf("gaps after the late record: %v", gaps)
		}
		w.wantBooks(h, books{Card: 82_00, Purse: 82_00, Transition: 0, Merchant: 18_00})
	})
}

func TestForgedRecordsAreRefusedAndMoveNothing(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		h := w.newHolder()
		w.deposit(h, 100_00)
		if err := w.load(w.pos, device.LoadClaim, h, 100_00); err != nil {
			t.Fatal(err)
		}
		other := &onecard.School{Code: "tju", Name: "天津大学"}
		if err := w.db.CreateSchool(ctx, other); err != nil {
			t.Fatal(err)
		}
		otherIssuer, err := w.db.PurseIssuer(ctx, other.ID)
		if err != nil {
			t.Fatal(err)
		}
		// A card made with another school's keys under this card's UID,
		// "debited" at a terminal whose SAM holds the other school's key.
		clone := otherIssuer.Personalize(h.image.UID, h.Number, 1000_00)
		clone.Balance = 50_00
		cloneTerminal := &purse.Terminal{SAM: otherIssuer.SAM(purse.TerminalID(w.posID))}
		// A genuine card of this school's issuer that was never issued.
		var uid purse.UID
		rand.Read(uid[:])
		unissued := w.issuer.Personalize(uid, "20259998", 1000_00)
		unissued.Balance = 50_00
		otherPOS := &purse.Terminal{SAM: w.issuer.SAM(purse.TerminalID(w.posID + 1000))}

		for _, c := range []struct {
			name   string
			record func() purse.Record
			code   string
		}{
			{"a flipped TAC byte", func() purse.Record {
				r := w.offline(h, 3_00)
				r.TAC[7] ^= 0x01
				return r
			}, onecard.EINVALID},
			{"a card of another school's keys", func() purse.Record {
				res, err := cloneTerminal.Tap(clone, 3_00, w.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				return *res.Record
			}, onecard.EINVALID},
			{"a changed amount", func() purse.Record {
				r := w.offline(h, 3_00)
				r.Amount, r.BalanceAfter = 30, r.BalanceBefore-30
				return r
			}, onecard.EINVALID},
			{"balances that do not add up", func() purse.Record {
				r := w.offline(h, 3_00)
				r.BalanceAfter--
				return r
			}, onecard.EINVALID},
			{"another terminal's record", func() purse.Record {
				res, err := otherPOS.Tap(h.image, 3_00, w.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				return *res.Record
			}, onecard.EINVALID},
			{"another card number", func() purse.Record {
				r := w.offline(h, 3_00)
				r.Number = "20259999"
				return r
			}, onecard.EINVALID},
			{"a card this school never issued", func() purse.Record {
				res, err := w.terminal.Tap(unissued, 3_00, w.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				return *res.Record
			}, onecard.ENOTFOUND},
			{"not a purchase", func() purse.Record {
				r := w.offline(h, 3_00)
				r.Type = purse.TypeLoad
				return r
			}, onecard.EINVALID},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := w.books(h)
				r := c.record()
				res := w.upload(&r).want(device.RecordRejected)
				if res.rs[0].Code != c.code || res.rs[0].TransferID != 0 {
					t.Errorf("result %+v, want code %s", res.rs[0], c.code)
				}
				after := w.books(h)
				if after.Purse != before.Purse || after.Merchant != before.Merchant || after.Transition != before.Transition {
					t.Errorf("books moved: %+v, then %+v", before, after)
				}
			})
		}
		entries, err := w.db.AuditLog(ctx, w.school.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		rejected := 0
		for _, e := range entries {
			if e.Action == "device.record_rejected" {
				rejected++
			}
		}
		if rejected != 8 {
			t.Errorf("%d rejections audited, want 8", rejected)
		}
	})
}

func TestLostCardIsRefusedButItsRecordsAreAccepted(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		h := w.newHolder()
		w.deposit(h, 100_00)
		if err := w.load(w.pos, device.LoadClaim, h, 100_00); err != nil {
			t.Fatal(err)
		}
		before := w.offline(h, 8_00) // an offline POS keeps it for later
		w.clock.Advance(time.Minute)
		if _, err := w.db.ReportLost(ctx, h.card.ID); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Minute)
		bl, err := w.pos.Blacklist(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(bl.Entries); n == 0 || !bl.Entries[n-1].Blocked || !strings.EqualFold(bl.Entries[n-1].UID, h.image.UID.String()) {
			t.Errorf("blacklist: %+v", bl.Entries)
		}
		d := w.tap(h, 5_00, "")
		if d.Decision != device.Refuse || d.Code != onecard.ECARDBLOCKED || !d.LockCard {
			t.Errorf("tap of a lost card: %+v, want refuse card_blocked with lock_card", d)
		}
		w.upload(&before).want(device.RecordAccepted)
		// A POS that has not pulled the blacklist yet still takes the card:
		// the card paid, so the record is accepted too, and audited.
		after := w.offline(h, 2_00)
		w.upload(&after).want(device.RecordAccepted)
		w.wantBooks(h, books{Card: 90_00, Purse: 90_00, Transition: 0, Merchant: 10_00})
		entries, _ := w.db.AuditLog(ctx, w.school.ID, 100)
		found := false
		for _, e := range entries {
			found = found || (e.Action == "device.records_after_loss" && e.TargetID == h.card.ID)
		}
		if !found {
			t.Error("no audit entry for the purchase after the loss report")
		}
		err = w.load(w.cash, device.LoadCash, h, 10_00)
		wantCode(t, err, onecard.ECARDBLOCKED)
	})
}

func TestMismatchFreezesTheCardAndACorrectionFixesIt(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		t.Run("at a tap", func(t *testing.T) {
			h := w.newHolder()
			w.deposit(h, 100_00)
			if err := w.load(w.pos, device.LoadClaim, h, 100_00); err != nil {
				t.Fatal(err)
			}
			h.image.Balance += 10_00 // within the threshold: no freeze
			wantDecision(t, w.tap(h, 1_00, ""), device.Approve, "")
			h.image.Balance += 20_00 // a faulty write: the card holds ¥30 more than the books
			d := w.tap(h, 1_00, "")
			if d.Decision != device.Refuse || d.Code != onecard.ECARDBLOCKED || !d.LockCard {
				t.Fatalf("tap of a mismatched card: %+v", d)
			}
			c := w.cardState(h)
			if c.FreezeReason != onecard.FreezeMismatch || !strings.Contains(c.FreezeNote, "card ¥130.00, account ¥100.00") {
				t.Errorf("card after a mismatch: %s %q", c.FreezeReason, c.FreezeNote)
			}
			overShort := w.system(store.KindOverShort)
			c, err := w.db.CorrectMismatch(ctx, h.card.ID, 130_00, "chip read at the hall")
			if err != nil || c.FreezeReason != "" {
				t.Fatalf("correct: %+v %v", c, err)
			}
			w.wantBooks(h, books{Card: 130_00, Purse: 130_00, Merchant: 0})
			if got := w.system(store.KindOverShort); got != overShort-30_00 {
				t.Errorf("over/short %s, want %s", onecard.Yuan(got), onecard.Yuan(overShort-30_00))
			}
			wantDecision(t, w.tap(h, 1_00, ""), device.Approve, "")
		})
		t.Run("after an upload", func(t *testing.T) {
			h := w.newHolder()
			w.deposit(h, 100_00)
			if err := w.load(w.pos, device.LoadClaim, h, 100_00); err != nil {
				t.Fatal(err)
			}
			w.clock.Advance(10 * time.Minute)
			h.image.Balance -= 20_00 // the card lost ¥20 the books still have
			r := w.offline(h, 5_00)
			w.upload(&r).want(device.RecordAccepted)
			if c := w.cardState(h); c.FreezeReason != onecard.FreezeMismatch {
				t.Fatalf("card after the upload: %+v", c)
			}
			overShort := w.system(store.KindOverShort)
			if _, err := w.db.CorrectMismatch(ctx, h.card.ID, 75_00, ""); err != nil {
				t.Fatal(err)
			}
			if got := w.system(store.KindOverShort); got != overShort+20_00 {
				t.Errorf("over/short %s, want %s", onecard.Yuan(got), onecard.Yuan(overShort+20_00))
			}
			if b := w.books(h); b.Purse != 75_00 || b.Card != 75_00 || w.cardState(h).State() != "active" {
				t.Errorf("after the correction: %+v, card %s", b, w.cardState(h).State())
			}
			_, err := w.db.CorrectMismatch(ctx, h.card.ID, -1, "")
			wantCode(t, err, onecard.EINVALID)
		})
	})
}

func TestThirdLunchPurchaseOverTheMealThresholdAsksForThePIN(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		h := w.newHolder()
		w.deposit(h, 200_00)
		for _, c := range []struct {
			name     string
			advance  time.Duration
			amount   int64
			pin      string
			decision string
			code     string
		}{
			{"first lunch purchase", 0, 20_00, "", device.Approve, ""},
			{"second, ¥40 in all", 5 * time.Minute, 20_00, "", device.Approve, ""},
			{"third would make ¥55", 5 * time.Minute, 15_00, "", device.PINRequired, ""},
			{"with a wrong PIN", 0, 15_00, "000000", device.Refuse, onecard.EWRONGPIN},
			{"with the right PIN", 0, 15_00, h.pin, device.Approve, ""},
			{"dinner starts a new meal", 5 * time.Hour, 15_00, "", device.Approve, ""},
		} {
			w.clock.Advance(c.advance)
			d, _ := w.buy(h, c.amount, c.pin)
			t.Run(c.name, func(t *testing.T) { wantDecision(t, d, c.decision, c.code) })
		}
		w.wantBooks(h, books{Card: 130_00, Purse: 130_00, Transition: 0, Merchant: 70_00})
	})
}

func TestTornPurchaseIsChargedOnce(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		h := w.newHolder()
		w.deposit(h, 100_00)
		if err := w.load(w.pos, device.LoadClaim, h, 100_00); err != nil {
			t.Fatal(err)
		}
		p, err := w.terminal.Begin(h.image, 12_00, w.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.image.Purchase(p.MAC1, p.Seq, p.Time); err != nil { // the card debits; the answer is lost
			t.Fatal(err)
		}
		wantDecision(t, w.tap(h, 12_00, ""), device.Approve, "")
		res, err := w.terminal.Tap(h.image, 12_00, w.clock.Now())
		if err != nil || !res.Recovered {
			t.Fatalf("retry of the torn purchase: %+v %v", res, err)
		}
		w.upload(res.Record).want(device.RecordAccepted)
		w.wantBooks(h, books{Card: 88_00, Purse: 88_00, Transition: 0, Merchant: 12_00})
		wantDecision(t, w.tap(h, 1_00, ""), device.Approve, "")
	})
}

func TestUnconfirmedClaimIsSettledAtTheNextTap(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		authorize := func(h *holder, amount int64) (*device.LoadAuthorization, error) {
			init, err := h.image.InitLoad(amount, purse.TerminalID(w.posID))
			if err != nil {
				t.Fatal(err)
			}
			return w.pos.AuthorizeLoad(ctx, &device.LoadRequest{Kind: device.LoadClaim, UID: h.image.UID, Amount: amount, Init: *init})
		}
		t.Run("never reached the card", func(t *testing.T) {
			h := w.newHolder()
			w.deposit(h, 50_00)
			if d := w.tap(h, 10_00, ""); d.Claim != 50_00 {
				t.Fatalf("tap: %+v", d)
			}
			if _, err := authorize(h, 50_00); err != nil {
				t.Fatal(err)
			}
			w.wantBooks(h, books{Card: 0, Purse: 50_00, Transition: 0})
			// Another init for the same counter while the first awaits its
			// confirmation: refused until a tap settles it.
			_, err := authorize(h, 50_00)
			wantCode(t, err, onecard.ECONFLICT)
			// The card was pulled away before CREDIT FOR LOAD: the next tap
			// shows its online counter unchanged, and the claim goes back.
			d := w.tap(h, 10_00, "")
			if d.Decision != device.Approve || d.Claim != 50_00 {
				t.Errorf("tap after the torn load: %+v, want the claim offered again", d)
			}
			w.wantBooks(h, books{Card: 0, Purse: 0, Transition: 50_00})
			w.buy(h, 10_00, "")
			w.wantBooks(h, books{Card: 40_00, Purse: 40_00, Transition: 0, Merchant: 10_00})
		})
		t.Run("reached the card, confirmation lost", func(t *testing.T) {
			h := w.newHolder()
			w.deposit(h, 50_00)
			auth, err := authorize(h, 50_00)
			if err != nil {
				t.Fatal(err)
			}
			tac, err := h.image.Load(auth.MAC2, auth.Time)
			if err != nil {
				t.Fatal(err)
			}
			if d := w.tap(h, 10_00, ""); d.Decision != device.Approve || d.Claim != 0 {
				t.Errorf("tap after the unconfirmed load: %+v", d)
			}
			if b := w.books(h); b.Card != 50_00 || b.Purse != 50_00 || b.Transition != 0 {
				t.Errorf("books: %+v, want the load kept", b)
			}
			wantCode(t, w.pos.ConfirmLoad(ctx, &device.ConfirmLoadRequest{UID: h.image.UID, Counter: 1, TAC: tac}), "")
		})
	})
}

func TestCashAndBankLoads(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		h := w.newHolder()
		for _, c := range []struct {
			name   string
			client *device.Client
			kind   string
			amount int64
			code   string
		}{
			{"¥100 in notes", w.cash, device.LoadCash, 100_00, ""},
			{"¥170 in notes", w.cash, device.LoadCash, 170_00, ""},
			{"¥15 is no sum of notes", w.cash, device.LoadCash, 15_00, onecard.EINVALID},
			{"cash at a POS", w.pos, device.LoadCash, 10_00, onecard.EFORBIDDEN},
			{"a claim at a cash machine", w.cash, device.LoadClaim, 10_00, onecard.EFORBIDDEN},
			{"a bank load at a cash machine", w.cash, device.LoadBank, 10_00, onecard.EFORBIDDEN},
			{"a bank load with no bank card bound", w.kiosk, device.LoadBank, 10_00, onecard.ECONFLICT},
			{"¥300 from the bank", w.kiosk, device.LoadBank, 300_00, ""},
			{"¥250 more is over ¥500 a day", w.kiosk, device.LoadBank, 250_00, onecard.ELIMIT},
			{"¥200 more is exactly ¥500", w.kiosk, device.LoadBank, 200_00, ""},
			{"over the purse ceiling", w.cash, device.LoadCash, 300_00, onecard.ELIMIT},
			{"an unknown kind", w.kiosk, "gift", 10_00, onecard.EINVALID},
		} {
			if c.name == "¥300 from the bank" {
				if _, err := w.db.BindBankCard(ctx, h.ID, &onecard.NewBankBinding{Bank: "交通银行", HolderName: h.Name, IDNumber: h.id,
					CardNumber: "6222020000000000018", Via: "kiosk"}); err != nil {
					t.Fatal(err)
				}
			}
			t.Run(c.name, func(t *testing.T) { wantCode(t, w.load(c.client, c.kind, h, c.amount), c.code) })
		}
		w.wantBooks(h, books{Card: 770_00, Purse: 770_00})
		if cash, bank := w.system(store.KindCash), w.system(store.KindClearingBank); cash != -270_00 || bank != -500_00 {
			t.Errorf("cash %s, bank clearing %s", onecard.Yuan(cash), onecard.Yuan(bank))
		}
		w.clock.Advance(24 * time.Hour)
		wantCode(t, w.load(w.kiosk, device.LoadBank, h, 100_00), "")

		// A card frozen for arrears takes cash, which pays the arrears off.
		debtor := w.newHolder()
		if _, err := w.db.Pay(ctx, &onecard.Payment{Key: "arrears", CardholderID: debtor.ID, MerchantID: w.canteen.ID, Amount: 30_00}); err != nil {
			t.Fatal(err)
		}
		if c := w.cardState(debtor); c.FreezeReason != onecard.FreezeArrears {
			t.Fatalf("debtor's card: %+v", c)
		}
		d := w.tap(debtor, 1_00, "")
		if d.Decision != device.Refuse || d.Code != onecard.ECARDBLOCKED || d.LockCard {
			t.Errorf("tap of a card frozen for arrears: %+v, want refused without locking the chip", d)
		}
		wantCode(t, w.load(w.cash, device.LoadCash, debtor, 50_00), "")
		if c := w.cardState(debtor); c.FreezeReason != "" {
			t.Errorf("after the cash load: frozen %s", c.FreezeReason)
		}
	})
}

func TestUploadOf500RecordsWithAForgedOne(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		var hs []*holder
		for range 50 {
			h := w.newHolder()
			w.deposit(h, 100_00)
			if err := w.load(w.pos, device.LoadClaim, h, 100_00); err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		var recs []*purse.Record
		for i := range device.MaxRecords {
			r := w.offline(hs[i%len(hs)], 1_50)
			recs = append(recs, &r)
		}
		recs[250].TAC[0] ^= 0xff
		res := w.upload(recs...)
		accepted := 0
		for i, r := range res.rs {
			switch {
			case i == 250 && (r.Status != device.RecordRejected || r.Code != onecard.EINVALID):
				t.Errorf("forged record: %+v", r)
			case i != 250 && r.Status != device.RecordAccepted:
				t.Errorf("record %d: %+v", i, r)
			case r.Status == device.RecordAccepted:
				accepted++
			}
		}
		if accepted != 499 {
			t.Errorf("%d accepted, want 499", accepted)
		}
		if m := w.books(hs[0]).Merchant; m != 499*1_50 {
			t.Errorf("merchant got %s, want %s", onecard.Yuan(m), onecard.Yuan(499*1_50))
		}
		forged := hs[250%len(hs)]
		if b := w.books(forged); b.Purse != b.Card+1_50 {
			t.Errorf("the forged record's card: %+v, want the books ¥1.50 above the card", b)
		}
		if b := w.books(hs[1]); b.Purse != b.Card || b.Card != 100_00-10*1_50 {
			t.Errorf("a card of genuine records: %+v", b)
		}
	})
}

func TestTerminalKindsPerCall(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		h := w.newHolder()
		w.deposit(h, 10_00)
		_, err := w.cash.SAM(ctx)
		wantCode(t, err, onecard.EFORBIDDEN)
		blank := purse.Record{Type: purse.TypePurchase}
		_, err = w.kiosk.UploadRecords(ctx, []purse.Record{blank})
		wantCode(t, err, onecard.EFORBIDDEN)
		_, err = w.cash.Tap(ctx, &device.TapRequest{Card: device.StateOf(h.image)})
		wantCode(t, err, onecard.EFORBIDDEN)
		_, err = w.kiosk.Tap(ctx, &device.TapRequest{Card: device.StateOf(h.image), Amount: 1_00})
		wantCode(t, err, onecard.EINVALID)
		d, err := w.kiosk.Tap(ctx, &device.TapRequest{Card: device.StateOf(h.image)})
		if err != nil || d.Decision != device.Approve || d.Claim != 10_00 {
			t.Errorf("a kiosk's tap: %+v %v", d, err)
		}
		_, err = w.pos.Tap(ctx, &device.TapRequest{Card: device.StateOf(h.image), Amount: -1})
		wantCode(t, err, onecard.EINVALID)
		_, err = w.pos.UploadRecords(ctx, nil)
		wantCode(t, err, onecard.EINVALID)
		many := make([]purse.Record, device.MaxRecords+1)
		for i := range many {
			many[i] = blank
		}
		_, err = w.pos.UploadRecords(ctx, many)
		wantCode(t, err, onecard.EINVALID)
		wantCode(t, w.load(w.kiosk, device.LoadClaim, h, 10_00), "")
	})
}

func TestBathRecordIsBookedLikeAPurchase(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		bath := &onecard.Merchant{SchoolID: w.school.ID, Code: "bath-1", Name: "浴园", Kind: "bath"}
		if err := w.db.CreateMerchant(ctx, bath); err != nil {
			t.Fatal(err)
		}
		client, _ := w.register(onecard.TerminalBath, "bath-1", bath.ID)
		k, err := client.SAM(ctx)
		if err != nil {
			t.Fatal(err)
		}
		controller := &purse.BathController{SAM: purse.NewSAM(k.PurchaseMasterKey, k.TerminalID), Price: 3, Unit: "litre"}
		h := w.newHolder()
		w.deposit(h, 20_00)
		d, err := client.Tap(ctx, &device.TapRequest{Card: device.StateOf(h.image)})
		if err != nil || d.Decision != device.Approve || d.Claim != 0 {
			t.Errorf("a water controller's tap: %+v %v, want approve with no claim", d, err)
		}
		if err := w.load(w.pos, device.LoadClaim, h, 20_00); err != nil {
			t.Fatal(err)
		}
		if _, err := controller.Debit(h.image, w.clock.Now()); err != nil {
			t.Fatal(err)
		}
		rec, err := controller.Settle(h.image, controller.Cost(20), w.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		rs, err := client.UploadRecords(ctx, []purse.Record{*rec, *rec})
		if err != nil || rs[0].Status != device.RecordAccepted || rs[1].Status != device.RecordDuplicate {
			t.Fatalf("bath upload: %+v %v", rs, err)
		}
		b, _ := w.db.Balance(ctx, h.ID)
		if b.Purse != h.image.Balance || b.Purse != 20_00-60 {
			t.Errorf("after the bath: books %s, card %s, want ¥19.40 both", onecard.Yuan(b.Purse), onecard.Yuan(h.image.Balance))
		}
		if a, _ := w.db.Account(ctx, bath.Account); a.Balance != 60 {
			t.Errorf("bath merchant got %s", onecard.Yuan(a.Balance))
		}
		// A purchase after the bath shares the card's offline counter: no gap.
		r := w.offline(h, 1_00)
		w.upload(&r).want(device.RecordAccepted)
		if gaps, _ := w.db.CounterGaps(ctx, h.card.ID); len(gaps) != 0 {
			t.Errorf("gaps: %v", gaps)
		}
	})
}

func TestConcurrentUploadsOfOneBatchChargeOnce(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		var hs []*holder
		for range 5 {
			h := w.newHolder()
			w.deposit(h, 50_00)
			if err := w.load(w.pos, device.LoadClaim, h, 50_00); err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		var batch []purse.Record
		for i := range 40 {
			batch = append(batch, w.offline(hs[i%len(hs)], 1_00))
		}
		const uploaders = 4
		errs := make(chan error, uploaders)
		accepted := make(chan int, uploaders)
		for range uploaders {
			go func() {
				rs, err := w.pos.UploadRecords(ctx, batch)
				n := 0
				for _, r := range rs {
					if r.Status == device.RecordAccepted {
						n++
					} else if r.Status != device.RecordDuplicate {
						err = fmt.Errorf("record: %+v", r)
					}
				}
				errs <- err
				accepted <- n
			}()
		}
		total := 0
		for range uploaders {
			if err := <-errs; err != nil {
				t.Error(err)
			}
			total += <-accepted
		}
		if total != len(batch) {
			t.Errorf("%d acceptances over %d uploads of %d records", total, uploaders, len(batch))
		}
		for _, h := range hs {
			if b := w.books(h); b.Purse != b.Card || b.Card != 42_00 {
				t.Errorf("books: %+v, want ¥42.00 on the card and in the purse", b)
			}
		}
	})
}

// A card frozen after it paid offline: its records are still booked (the
// ledger settles what already moved), while the freeze refuses new taps.
func TestRecordsOfAFrozenCardAreBooked(t *testing.T) {
	eachPurse(t, func(t *testing.T, w *purseWorld) {
		h := w.newHolder()
		w.deposit(h, 50_00)
		if err := w.load(w.pos, device.LoadClaim, h, 50_00); err != nil {
			t.Fatal(err)
		}
		rec := w.offline(h, 12_00)
		if _, err := w.db.Freeze(ctx, h.card.ID, onecard.FreezeOperator, "under review"); err != nil {
			t.Fatal(err)
		}
		w.upload(&rec).want(device.RecordAccepted)
		w.wantBooks(h, books{Card: 38_00, Purse: 38_00, Merchant: 12_00})
		if d := w.tap(h, 1_00, ""); d.Decision != device.Refuse || d.Code != onecard.ECARDBLOCKED {
			t.Errorf("tap of a frozen card: %+v, want refused", d)
		}
		if c := w.cardState(h); c.FreezeReason != onecard.FreezeOperator {
			t.Errorf("the freeze was lost while booking: %+v", c)
		}
		w.checkLedger()
	})
}
