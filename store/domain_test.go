package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// fixture is a store with one school (Nankai's default settings), one
// canteen and a settable clock starting at noon in Shanghai.
type fixture struct {
	db       *store.DB
	clock    *storetest.Clock
	school   *onecard.School
	canteen  *onecard.Merchant
	sequence int
}

var ctx = context.Background()

// start is 12:00 on 1 September 2025 in Asia/Shanghai.
var start = time.Date(2025, 9, 1, 4, 0, 0, 0, time.UTC)

// each runs fn on every dialect with a fresh fixture.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	var clock *storetest.Clock
	storetest.EachWith(t, store.Options{Now: func() time.Time { return clock.Now() }}, func(t *testing.T, db *store.DB) {
		clock = storetest.NewClock(start)
		f := &fixture{db: db, clock: clock}
		f.school = f.newSchool(t, "nankai", onecard.Settings{})
		f.canteen = f.newMerchant(t, f.school.ID, "canteen-1")
		fn(t, f)
	})
}

func (f *fixture) newSchool(t *testing.T, code string, s onecard.Settings) *onecard.School {
	t.Helper()
	sc := &onecard.School{Code: code, Name: "School " + code, Settings: s, Campuses: []onecard.Campus{{Name: "Balitai"}}}
	if err := f.db.CreateSchool(ctx, sc); err != nil {
		t.Fatalf("CreateSchool(%s): %v", code, err)
	}
	return sc
}

func (f *fixture) newMerchant(t *testing.T, schoolID int64, code string) *onecard.Merchant {
	t.Helper()
	m := &onecard.Merchant{SchoolID: schoolID, Code: code, Name: "Canteen " + code, Kind: "canteen"}
	if err := f.db.CreateMerchant(ctx, m); err != nil {
		t.Fatalf("CreateMerchant: %v", err)
	}
	return m
}

// idNumber returns a distinct valid resident ID number ending in X.
func (f *fixture) idNumber() string {
	f.sequence++
	return fmt.Sprintf("1101051990%07dX", f.sequence)
}

// cardholder registers a student with a card in the fixture's school; the
// initial PIN is onecard.InitialPIN(last6_digits, id).
func (f *fixture) cardholder(t *testing.T) (*onecard.Cardholder, *onecard.Card, string) {
	t.Helper()
	return f.cardholderAt(t, f.school.ID)
}

func (f *fixture) cardholderAt(t *testing.T, schoolID int64) (*onecard.Cardholder, *onecard.Card, string) {
	t.Helper()
	id := f.idNumber()
	h, err := f.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: schoolID, Number: fmt.Sprintf("2025%04d", f.sequence),
		Name: "张三", Kind: onecard.Student, IDNumber: id})
	if err != nil {
		t.Fatalf("CreateCardholder: %v", err)
	}
	c, err := f.db.IssueCard(ctx, h.ID, "")
	if err != nil {
		t.Fatalf("IssueCard: %v", err)
	}
	return h, c, onecard.InitialPIN(onecard.PINLastSixDigits, id)
}

func (f *fixture) deposit(t *testing.T, h *onecard.Cardholder, amount int64) {
	t.Helper()
	f.sequence++
	if _, err := f.db.Deposit(ctx, &onecard.Deposit{Key: fmt.Sprint("d", f.sequence), CardholderID: h.ID, Amount: amount}); err != nil {
		t.Fatalf("Deposit(%s): %v", onecard.Yuan(amount), err)
	}
}

func (f *fixture) pay(h *onecard.Cardholder, m *onecard.Merchant, amount int64) error {
	f.sequence++
	_, err := f.db.Pay(ctx, &onecard.Payment{Key: fmt.Sprint("p", f.sequence), CardholderID: h.ID, MerchantID: m.ID, Amount: amount})
	return err
}

// claim moves money from the transition balance onto the card, as a POS
// tap would.
func (f *fixture) claim(t *testing.T, h *onecard.Cardholder, amount int64) {
	t.Helper()
	f.sequence++
	err := f.db.Update(ctx, func(tx ledger.Tx) error {
		out, err := ledger.Apply(ctx, tx, []ledger.Transfer{{Key: fmt.Sprint("claim", f.sequence), Debit: h.TransitionAccount,
			Credit: h.PurseAccount, Amount: amount, Code: "claim"}})
		if err == nil && out[0].Result != ledger.OK {
			err = fmt.Errorf("claim: %s", out[0].Result)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) balance(t *testing.T, h *onecard.Cardholder) onecard.Balance {
	t.Helper()
	b, err := f.db.Balance(ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) card(t *testing.T, id int64) *onecard.Card {
	t.Helper()
	c, err := f.db.Card(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantCode fails unless err has the code ("" for nil) and, if given, a
// message containing msg.
func wantCode(t *testing.T, err error, code string, msg ...string) {
	t.Helper()
	if got := onecard.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
	for _, m := range msg {
		if !strings.Contains(onecard.ErrorMessage(err), m) {
			t.Fatalf("message %q does not contain %q", onecard.ErrorMessage(err), m)
		}
	}
}

// asOperator returns a context carrying an operator, as the API would.
func asOperator(id int64) context.Context {
	return onecard.NewContextWithPrincipal(ctx, &onecard.Principal{Operator: &onecard.Operator{ID: id, Role: onecard.RoleOperator}})
}
