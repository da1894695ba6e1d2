package store_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/store"
)

// codePayLedgerOK runs ledger.Check over the whole store.
func codePayLedgerOK(t *testing.T, f *fixture) {
	t.Helper()
	checkLedger(t, f.db)
}

// codePayBalance returns an account's posted balance.
func codePayBalance(t *testing.T, f *fixture, id int64) int64 {
	t.Helper()
	a, err := f.db.Account(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

func (f *fixture) payCode(t *testing.T, h *onecard.Cardholder) string {
	t.Helper()
	c, err := f.db.IssuePayCode(ctx, h.ID)
	if err != nil {
		t.Fatalf("IssuePayCode: %v", err)
	}
	return c.Code
}

func TestIssuePayCode(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		a, err := f.db.IssuePayCode(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Code) != 18 || !strings.HasPrefix(a.Code, "66") || strings.Trim(a.Code, "0123456789") != "" {
			t.Errorf("code %q is not 18 digits starting with 66", a.Code)
		}
		if want := start.Add(store.PayCodeTTL); !a.ExpiresAt.Equal(want) {
			t.Errorf("expires at %v, want %v", a.ExpiresAt, want)
		}
		b, err := f.db.IssuePayCode(ctx, h.ID)
		if err != nil || b.Code == a.Code {
			t.Fatalf("second code %v, %v; want a new one", b, err)
		}
		_, err = f.db.IssuePayCode(ctx, 999999)
		wantCode(t, err, onecard.ENOTFOUND)

		for _, tc := range []struct {
			name   string
			before func(c *onecard.Card)
			msg    string
		}{
			{"a lost card", func(c *onecard.Card) { f.db.ReportLost(ctx, c.ID) }, "reported lost"},
			{"a frozen card", func(c *onecard.Card) { f.db.Freeze(ctx, c.ID, onecard.FreezeOperator, "") }, "frozen (operator)"},
			{"no card", func(c *onecard.Card) { f.db.Cancel(ctx, c.ID) }, "no active card"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h, c, _ := f.cardholder(t)
				tc.before(c)
				_, err := f.db.IssuePayCode(ctx, h.ID)
				wantCode(t, err, onecard.ECARDBLOCKED, tc.msg)
			})
		}
	})
}

func TestPayWithCode(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		other := f.newSchool(t, "bjtu", onecard.Settings{})
		foreign := f.newMerchant(t, other.ID, "canteen-1")
		for i, tc := range []struct {
			name    string
			deposit int64
			before  func(c *onecard.Card)
			advance time.Duration
			code    func(code string) string
			m       *onecard.Merchant
			amount  int64
			err     string
			msg     string
			frozen  bool // for arrears afterwards
		}{
			{name: "pays from the transition balance", deposit: 100_00, amount: 12_50},
			{name: "just before expiry", deposit: 100_00, advance: store.PayCodeTTL - time.Microsecond, amount: 1_00},
			{name: "expired", deposit: 100_00, advance: store.PayCodeTTL, amount: 1_00, err: onecard.EINVALID, msg: "expired or used, refresh it"},
			{name: "unknown code", deposit: 100_00, code: func(string) string { return "660000000000000000" }, amount: 1_00,
				err: onecard.EINVALID, msg: "expired or used"},
			{name: "an Alipay code", deposit: 100_00, code: func(string) string { return "280000000000000000" }, amount: 1_00,
				err: onecard.EINVALID, msg: "expired or used"},
			{name: "lost after the code was shown", deposit: 100_00, before: func(c *onecard.Card) { f.db.ReportLost(ctx, c.ID) },
				amount: 1_00, err: onecard.ECARDBLOCKED, msg: "reported lost"},
			{name: "frozen after the code was shown", deposit: 100_00,
				before: func(c *onecard.Card) { f.db.Freeze(ctx, c.ID, onecard.FreezeOperator, "") },
				amount: 1_00, err: onecard.ECARDBLOCKED, msg: "frozen (operator)"},
			{name: "over the single limit", deposit: 100_00, amount: 500_01, err: onecard.ELIMIT, msg: "single payment limit"},
			{name: "another school's merchant", deposit: 100_00, m: foreign, amount: 1_00, err: onecard.EINVALID, msg: "not a merchant of this"},
			{name: "down to minus the arrears limit freezes", deposit: 10_00, amount: 60_00, frozen: true},
			{name: "beyond the arrears limit", deposit: 10_00, amount: 60_01, err: onecard.EINSUFFICIENT, msg: "not enough"},
			{name: "zero", deposit: 10_00, amount: 0, err: onecard.EINVALID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h, c, _ := f.cardholder(t)
				f.deposit(t, h, tc.deposit)
				code := f.payCode(t, h)
				if tc.before != nil {
					tc.before(c)
				}
				if tc.code != nil {
					code = tc.code(code)
				}
				f.clock.Advance(tc.advance)
				m := f.canteen
				if tc.m != nil {
					m = tc.m
				}
				merchantBefore := codePayBalance(t, f, m.Account)
				no := fmt.Sprintf("OC%d", i)
				p, err := f.db.PayWithCode(ctx, no, code, m.ID, 7, tc.amount)
				wantCode(t, err, tc.err, tc.msg)
				moved := int64(0)
				if tc.err == "" {
					moved = tc.amount
					if p.No != no || p.Channel != store.ChannelOneCard || p.State != onecard.CodePaid || p.CardholderID != h.ID ||
						p.MerchantID != m.ID || p.TerminalID != 7 || p.SchoolID != h.SchoolID || p.Amount != tc.amount ||
						p.TransferID == 0 || p.PaidAt == nil {
						t.Errorf("payment = %+v", p)
					}
					if got, err := f.db.CodePayment(ctx, no); err != nil || *got.PaidAt != *p.PaidAt || got.TransferID != p.TransferID ||
						got.State != onecard.CodePaid || got.CardholderID != h.ID {
						t.Errorf("stored payment = %+v, %v", got, err)
					}
				} else if _, err := f.db.CodePayment(ctx, no); onecard.ErrorCode(err) != onecard.ENOTFOUND {
					t.Errorf("a refused payment was recorded: %v", err)
				}
				if got := codePayBalance(t, f, h.TransitionAccount); got != tc.deposit-moved {
					t.Errorf("transition balance %s, want %s", onecard.Yuan(got), onecard.Yuan(tc.deposit-moved))
				}
				if got := codePayBalance(t, f, m.Account) - merchantBefore; got != moved {
					t.Errorf("merchant received %s, want %s", onecard.Yuan(got), onecard.Yuan(moved))
				}
				if got := f.card(t, c.ID); (got.FreezeReason == onecard.FreezeArrears) != tc.frozen {
					t.Errorf("card %s (%s), frozen for arrears want %v", got.State(), got.FreezeReason, tc.frozen)
				}
			})
			f.clock.Advance(time.Second)
		}
		codePayLedgerOK(t, f)
	})
}

func TestPayCodeOnce(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		f.deposit(t, h, 100_00)
		old := f.payCode(t, h)
		f.clock.Advance(30 * time.Second)
		code := f.payCode(t, h)

		// A payment the checks refuse leaves the code usable.
		_, err := f.db.PayWithCode(ctx, "A0", code, f.canteen.ID, 0, 500_01)
		wantCode(t, err, onecard.ELIMIT)
		first, err := f.db.PayWithCode(ctx, "A1", code, f.canteen.ID, 0, 10_00)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, no, code string
			amount         int64
			err            string
		}{
			{"used again", "A2", code, 10_00, onecard.EINVALID},
			{"retry returns the first", "A1", code, 10_00, ""},
			{"same number, other amount", "A1", code, 11_00, onecard.ECONFLICT},
			{"same number, other code", "A1", old, 10_00, onecard.ECONFLICT},
			{"the older code still valid", "A3", old, 5_00, ""},
			{"the older code used", "A4", old, 5_00, onecard.EINVALID},
		} {
			p, err := f.db.PayWithCode(ctx, tc.no, tc.code, f.canteen.ID, 0, tc.amount)
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, err, tc.err)
				if tc.no == "A1" && err == nil && p.TransferID != first.TransferID {
					t.Errorf("retry = %+v, want transfer %d", p, first.TransferID)
				}
			})
		}
		// The older code expires 60 s after it was issued, with the newer
		// one still showing.
		f.clock.Advance(31 * time.Second)
		fresh := f.payCode(t, h)
		_, err = f.db.PayWithCode(ctx, "A5", old, f.canteen.ID, 0, 1_00)
		wantCode(t, err, onecard.EINVALID)
		if _, err := f.db.PayWithCode(ctx, "A6", fresh, f.canteen.ID, 0, 1_00); err != nil {
			t.Fatal(err)
		}
		if b := f.balance(t, h); b.Total != 100_00-16_00 {
			t.Errorf("balance %s, want ¥84.00", onecard.Yuan(b.Total))
		}
		// The retry of a payment that froze the card still returns it.
		f.clock.Advance(time.Minute)
		code = f.payCode(t, h)
		big, err := f.db.PayWithCode(ctx, "A7", code, f.canteen.ID, 0, 100_00)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := f.db.PayWithCode(ctx, "A7", code, f.canteen.ID, 0, 100_00); err != nil || again.TransferID != big.TransferID {
			t.Errorf("retry after the arrears freeze = %+v, %v", again, err)
		}
		_, err = f.db.IssuePayCode(ctx, h.ID)
		wantCode(t, err, onecard.ECARDBLOCKED, "arrears")
		codePayLedgerOK(t, f)
	})
}

func TestPayCodeRace(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		f.deposit(t, h, 100_00)
		code := f.payCode(t, h)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = f.db.PayWithCode(ctx, fmt.Sprintf("POS%d", i), code, f.canteen.ID, int64(i), 3_00)
			})
		}
		wg.Wait()
		var ok int
		for i, err := range errs {
			switch onecard.ErrorCode(err) {
			case "":
				ok++
			case onecard.EINVALID:
			default:
				t.Errorf("POS %d: %v", i, err)
			}
		}
		if ok != 1 {
			t.Errorf("%d payments with one code succeeded, want 1", ok)
		}
		if got := codePayBalance(t, f, h.TransitionAccount); got != 97_00 {
			t.Errorf("transition balance %s, want ¥97.00", onecard.Yuan(got))
		}
		if got := codePayBalance(t, f, f.canteen.Account); got != 3_00 {
			t.Errorf("canteen balance %s, want ¥3.00", onecard.Yuan(got))
		}
		codePayLedgerOK(t, f)
	})
}
