package device_test

import (
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/purse"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

const (
	kioskID  = "11010519900307123X"
	kioskPIN = "307123" // the digit part's last six: the X shifts the window
)

// kioskWorld adds a kiosk and a replacement machine, served with the
// cardholder services, and one cardholder with a card.
func kioskWorld(t *testing.T, db *store.DB) (*world, *device.Client, *device.Client, *onecard.Cardholder, *onecard.Card) {
	t.Helper()
	w := newWorld(t, db)
	srv := device.New(device.Config{Terminals: db, Cards: db})
	srv.HandleServices(device.Services{Schools: db, Cardholders: db, Cards: db, PINs: db, Auth: db, Banks: db, Issuer: db})
	w.srv.Config.Handler = srv
	clients := map[onecard.TerminalKind]*device.Client{}
	for _, kind := range []onecard.TerminalKind{onecard.TerminalKiosk, onecard.TerminalReplacement} {
		term := &onecard.Terminal{SchoolID: w.school.ID, Kind: kind, Code: string(kind) + "-1", Name: string(kind)}
		key, err := db.CreateTerminal(ctx, term)
		if err != nil {
			t.Fatal(err)
		}
		clients[kind] = &device.Client{BaseURL: w.srv.URL, School: "nankai", Terminal: term.Code, Key: key}
	}
	h, err := db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: w.school.ID, Number: "2025010001", Name: "王小明",
		Kind: onecard.Student, IDNumber: kioskID})
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.IssueCard(ctx, h.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	return w, clients[onecard.TerminalKiosk], clients[onecard.TerminalReplacement], h, c
}

func TestKioskServices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, kiosk, _, h, c := kioskWorld(t, db)
		uid, _ := purse.ParseUID(c.UID)

		if _, err := kiosk.ReportLost(ctx, &device.ReportLostRequest{Number: h.Number, PIN: "000000"}); onecard.ErrorCode(err) != onecard.EWRONGPIN {
			t.Errorf("report lost with a wrong PIN: %v", err)
		}
		if _, err := w.client.ReportLost(ctx, &device.ReportLostRequest{Number: h.Number, PIN: kioskPIN}); onecard.ErrorCode(err) != onecard.EFORBIDDEN {
			t.Errorf("a POS reporting a loss: %v, want forbidden", err)
		}
		a, err := kiosk.ReportLost(ctx, &device.ReportLostRequest{Number: h.Number, PIN: kioskPIN})
		if err != nil || !a.Card.Lost {
			t.Fatalf("report lost: %+v %v", a, err)
		}
		if a, err = kiosk.Unlock(ctx, &device.CardRequest{UID: uid, PIN: kioskPIN}); err != nil || a.Card.Lost {
			t.Fatalf("unlock: %+v %v", a, err)
		}
		if _, err := kiosk.ChangePIN(ctx, &device.ChangePINRequest{UID: uid, Kind: onecard.ConsumptionPIN, Old: kioskPIN, New: "246810"}); err != nil {
			t.Fatal(err)
		}
		if err := db.VerifyPIN(ctx, h.ID, onecard.ConsumptionPIN, "246810"); err != nil {
			t.Errorf("the new consumption PIN: %v", err)
		}
		b, err := kiosk.BindBank(ctx, &device.BankBindingRequest{UID: uid, PIN: kioskPIN, Bank: "交通银行", HolderName: h.Name,
			IDNumber: kioskID, CardNumber: "6222020000000000018"})
		if err != nil || b.BoundVia != "kiosk" {
			t.Fatalf("bind bank card: %+v %v", b, err)
		}
		if _, err := kiosk.BindBank(ctx, &device.BankBindingRequest{UID: uid, PIN: kioskPIN, Bank: "交通银行", HolderName: "李四",
			IDNumber: kioskID, CardNumber: "6222020000000000018"}); onecard.ErrorCode(err) != onecard.EINVALID {
			t.Errorf("binding someone else's bank card: %v", err)
		}
	})
}

func TestSelfServiceReplacement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, _, machine, h, c := kioskWorld(t, db)
		req := &device.ReplacementRequest{Number: h.Number, IDNumber: "110105199003071230", Key: "r1"}
		if _, err := machine.Replace(ctx, req); onecard.ErrorCode(err) != onecard.EINVALID {
			t.Errorf("another person's ID: %v, want invalid", err)
		}
		req.IDNumber = kioskID
		if _, err := machine.Replace(ctx, req); onecard.ErrorCode(err) != onecard.EINSUFFICIENT {
			t.Errorf("balance below the fee: %v, want insufficient_funds", err)
		}
		if _, err := db.Deposit(ctx, &onecard.Deposit{Key: "d1", CardholderID: h.ID, Amount: 40_00}); err != nil {
			t.Fatal(err)
		}
		a, err := machine.Replace(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := machine.Replace(ctx, req)
		if err != nil || again.Card.ID != a.Card.ID {
			t.Fatalf("retry with the same key: %+v %v, want card %d", again, err, a.Card.ID)
		}
		if a.Card.ID == c.ID || a.Image.UID.String() != a.Card.UID || a.Image.Number != h.Number || a.Image.Balance != a.Balance.Purse {
			t.Errorf("new card %+v, image %+v", a.Card, a.Image)
		}
		if bal, _ := db.Balance(ctx, h.ID); bal.Total != 40_00-15_00 {
			t.Errorf("balance after the fee: %+v, want ¥25.00 (the fee charged once)", bal)
		}
		if old, _ := db.Card(ctx, c.ID); old.Status != onecard.CardCancelled {
			t.Errorf("old card %+v, want cancelled", old)
		}
		var rep *ledger.Report
		if err := db.Audit(ctx, func(a ledger.Auditor) error { var err error; rep, err = ledger.Check(ctx, a); return err }); err != nil || !rep.OK() {
			t.Errorf("check: %v %+v", err, rep)
		}
	})
}
