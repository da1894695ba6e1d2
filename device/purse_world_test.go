package device_test

import (
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/purse"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// lunch is when the purse tests start: 12:00 in Tianjin, inside the lunch
// meal period of the default settings.
var lunch = time.Date(2026, 9, 1, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))

// purseWorld is a school with a canteen POS, a kiosk and a cash machine
// served by the device API with the store as its Backend. The store runs
// on a settable clock (the meal periods and daily limits follow it); the
// terminals sign with the real clock.
type purseWorld struct {
	t        testing.TB
	db       *store.DB
	clock    *storetest.Clock
	school   *onecard.School
	canteen  *onecard.Merchant
	issuer   *purse.Issuer
	srv      *httptest.Server
	pos      *device.Client
	kiosk    *device.Client
	cash     *device.Client
	posID    int64
	terminal *purse.Terminal // the POS's purse side, its SAM from GET /device/v1/sam
	seq      int
}

// eachPurse runs fn on a fresh purse world per store dialect.
func eachPurse(t *testing.T, fn func(t *testing.T, w *purseWorld)) {
	var clock *storetest.Clock
	storetest.EachWith(t, store.Options{Now: func() time.Time { return clock.Now() }}, func(t *testing.T, db *store.DB) {
		clock = storetest.NewClock(lunch)
		w := newPurseWorld(t, db, clock)
		fn(t, w)
		w.checkLedger()
	})
}

func newPurseWorld(t testing.TB, db *store.DB, clock *storetest.Clock) *purseWorld {
	t.Helper()
	w := &purseWorld{t: t, db: db, clock: clock, school: &onecard.School{Code: "nankai", Name: "南开大学"}}
	if err := db.CreateSchool(ctx, w.school); err != nil {
		t.Fatal(err)
	}
	w.canteen = &onecard.Merchant{SchoolID: w.school.ID, Code: "canteen-1", Name: "第一食堂", Kind: "canteen"}
	if err := db.CreateMerchant(ctx, w.canteen); err != nil {
		t.Fatal(err)
	}
	var err error
	if w.issuer, err = db.PurseIssuer(ctx, w.school.ID); err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(device.New(device.Config{Terminals: db, Cards: db, Backend: db}))
	t.Cleanup(w.srv.Close)
	var pos *onecard.Terminal
	w.pos, pos = w.register(onecard.TerminalPOS, "pos-1", w.canteen.ID)
	w.posID = pos.ID
	w.kiosk, _ = w.register(onecard.TerminalKiosk, "kiosk-1", 0)
	w.cash, _ = w.register(onecard.TerminalCash, "cash-1", 0)
	w.terminal = w.purseTerminal(w.pos)
	return w
}

// register adds a terminal and returns a client signing as it.
func (w *purseWorld) register(kind onecard.TerminalKind, code string, merchant int64) (*device.Client, *onecard.Terminal) {
	w.t.Helper()
	term := &onecard.Terminal{SchoolID: w.school.ID, MerchantID: merchant, Kind: kind, Code: code, Name: code}
	key, err := w.db.CreateTerminal(ctx, term)
	if err != nil {
		w.t.Fatal(err)
	}
	return &device.Client{BaseURL: w.srv.URL, School: w.school.Code, Terminal: code, Key: key}, term
}

// purseTerminal provisions a POS's SAM through the device API.
func (w *purseWorld) purseTerminal(c *device.Client) *purse.Terminal {
	w.t.Helper()
	k, err := c.SAM(ctx)
	if err != nil {
		w.t.Fatalf("GET /device/v1/sam: %v", err)
	}
	return &purse.Terminal{SAM: purse.NewSAM(k.PurchaseMasterKey, k.TerminalID)}
}

// holder is a cardholder with an issued card and its personalized image.
type holder struct {
	*onecard.Cardholder
	card  *onecard.Card
	image *purse.Card
	pin   string
	id    string // the ID number, for binding a bank card
}

// newHolder registers a student, issues a card with a fresh UID and
// personalizes its purse with the school's issuer.
func (w *purseWorld) newHolder() *holder {
	w.t.Helper()
	w.seq++
	id := fmt.Sprintf("1101051990%07dX", w.seq)
	h, err := w.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: w.school.ID, Number: fmt.Sprintf("2025%04d", w.seq),
		Name: "张三", Kind: onecard.Student, IDNumber: id})
	if err != nil {
		w.t.Fatal(err)
	}
	var uid purse.UID
	rand.Read(uid[:])
	c, err := w.db.IssueCard(ctx, h.ID, uid.String())
	if err != nil {
		w.t.Fatal(err)
	}
	return &holder{Cardholder: h, card: c, image: w.issuer.Personalize(uid, h.Number, w.school.Settings.PurseCeiling),
		pin: onecard.InitialPIN(onecard.PINLastSixDigits, id), id: id}
}

// deposit puts cash on a cardholder's transition balance at the counter.
func (w *purseWorld) deposit(h *holder, amount int64) {
	w.t.Helper()
	w.seq++
	if _, err := w.db.Deposit(ctx, &onecard.Deposit{Key: fmt.Sprint("d", w.seq), CardholderID: h.ID, Amount: amount}); err != nil {
		w.t.Fatal(err)
	}
}

// load runs a whole load at a terminal: INITIALIZE FOR LOAD, the
// issuer's MAC2, CREDIT FOR LOAD and the confirmation.
func (w *purseWorld) load(c *device.Client, kind string, h *holder, amount int64) error {
	w.t.Helper()
	who, err := c.Whoami(ctx)
	if err != nil {
		return err
	}
	init, err := h.image.InitLoad(amount, purse.TerminalID(who.Terminal.ID))
	if err != nil {
		return err
	}
	auth, err := c.AuthorizeLoad(ctx, &device.LoadRequest{Kind: kind, UID: h.image.UID, Amount: amount, Init: *init})
	if err != nil {
		return err
	}
	tac, err := h.image.Load(auth.MAC2, auth.Time)
	if err != nil {
		return err
	}
	return c.ConfirmLoad(ctx, &device.ConfirmLoadRequest{UID: h.image.UID, Counter: h.image.OnlineCounter, TAC: tac})
}

// tap asks the server about a purchase of amount at the POS.
func (w *purseWorld) tap(h *holder, amount int64, pin string) *device.TapDecision {
	w.t.Helper()
	d, err := w.pos.Tap(ctx, &device.TapRequest{Card: device.StateOf(h.image), Amount: amount, PIN: pin})
	if err != nil {
		w.t.Fatalf("tap: %v", err)
	}
	return d
}

// buy runs an online purchase at the POS: the tap, the claim it offers,
// the debit and the record's upload. It returns the tap's decision and,
// when approved, the accepted record.
func (w *purseWorld) buy(h *holder, amount int64, pin string) (*device.TapDecision, *purse.Record) {
	w.t.Helper()
	d := w.tap(h, amount, pin)
	if d.Decision != device.Approve {
		return d, nil
	}
	if d.Claim > 0 {
		if err := w.load(w.pos, device.LoadClaim, h, d.Claim); err != nil {
			w.t.Fatalf("claim %s: %v", onecard.Yuan(d.Claim), err)
		}
	}
	res, err := w.terminal.Tap(h.image, amount, w.clock.Now())
	if err != nil {
		w.t.Fatalf("purchase on the card: %v", err)
	}
	w.upload(res.Record).want(device.RecordAccepted)
	return d, res.Record
}

// offline debits the card at the POS without asking the server.
func (w *purseWorld) offline(h *holder, amount int64) purse.Record {
	w.t.Helper()
	res, err := w.terminal.Tap(h.image, amount, w.clock.Now())
	if err != nil {
		w.t.Fatalf("offline purchase: %v", err)
	}
	return *res.Record
}

// results are an upload's answers.
type results struct {
	t  testing.TB
	rs []device.RecordResult
}

func (w *purseWorld) upload(recs ...*purse.Record) results {
	w.t.Helper()
	in := make([]purse.Record, len(recs))
	for i, r := range recs {
		in[i] = *r
	}
	rs, err := w.pos.UploadRecords(ctx, in)
	if err != nil {
		w.t.Fatalf("upload: %v", err)
	}
	if len(rs) != len(recs) {
		w.t.Fatalf("upload of %d records: %d results", len(recs), len(rs))
	}
	return results{w.t, rs}
}

// want checks every result's status.
func (r results) want(statuses ...string) results {
	r.t.Helper()
	for i, res := range r.rs {
		want := statuses[min(i, len(statuses)-1)]
		if res.Status != want {
			r.t.Errorf("record %d: %s (%s: %s), want %s", i, res.Status, res.Code, res.Message, want)
		}
	}
	return r
}

// books are the balances that must agree.
type books struct {
	Card, Purse, Transition, Merchant int64
}

func (w *purseWorld) books(h *holder) books {
	w.t.Helper()
	b, err := w.db.Balance(ctx, h.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	m, err := w.db.Account(ctx, w.canteen.Account)
	if err != nil {
		w.t.Fatal(err)
	}
	return books{Card: h.image.Balance, Purse: b.Purse, Transition: b.Transition, Merchant: m.Balance}
}

func (w *purseWorld) wantBooks(h *holder, want books) {
	w.t.Helper()
	if got := w.books(h); got != want {
		w.t.Errorf("books: %+v, want %+v", got, want)
	}
}

// system returns the balance of one of the school's system accounts.
func (w *purseWorld) system(kind string) int64 {
	w.t.Helper()
	id, err := w.db.SystemAccount(ctx, w.school.ID, kind)
	if err != nil {
		w.t.Fatal(err)
	}
	a, err := w.db.Account(ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return a.Balance
}

func (w *purseWorld) cardState(h *holder) *onecard.Card {
	w.t.Helper()
	c, err := w.db.Card(ctx, h.card.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// checkLedger runs the ledger's full check: hash chain, balances, sums.
func (w *purseWorld) checkLedger() {
	w.t.Helper()
	err := w.db.Audit(ctx, func(a ledger.Auditor) error {
		r, err := ledger.Check(ctx, a)
		if err != nil {
			return err
		}
		if !r.OK() {
			return fmt.Errorf("ledger check: %v", r.Violations)
		}
		return nil
	})
	if err != nil {
		w.t.Error(err)
	}
}

// wantDecision checks a tap's decision and, for a refusal, its code.
func wantDecision(t testing.TB, d *device.TapDecision, decision, code string) {
	t.Helper()
	if d.Decision != decision || d.Code != code {
		t.Errorf("tap: %+v, want %s %s", d, decision, code)
	}
}

// wantCode fails unless err has the code ("" for nil).
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := onecard.ErrorCode(err); got != code {
		t.Errorf("error %v, want code %q", err, code)
	}
}
