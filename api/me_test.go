package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestCardholderSessionActsOnlyOnItself(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		s := e.school()
		x, y := e.cardholder(s), e.cardholder(s)
		m := e.merchant(s)
		e.deposit(x, 100_00)
		e.deposit(y, 100_00)
		tx := e.login(x)

		var me struct {
			Cardholder onecard.Cardholder
			Balance    onecard.Balance
			Card       struct {
				ID    int64
				State string
			}
		}
		e.ok(200, "GET", "/api/v1/me", tx, nil, &me)
		if me.Cardholder.ID != x.ID || me.Balance.Total != 100_00 || me.Card.ID != x.CardID || me.Card.State != "active" {
			t.Fatalf("GET /me = %+v", me)
		}

		for _, tc := range []struct{ name, method, path string }{
			{"another's cardholder record", "GET", fmt.Sprintf("/api/v1/cardholders/%d", y.ID)},
			{"another's card", "GET", fmt.Sprintf("/api/v1/cards/%d", y.CardID)},
			{"another's cards", "GET", fmt.Sprintf("/api/v1/cardholders/%d/cards", y.ID)},
			{"another's transactions", "GET", fmt.Sprintf("/api/v1/cardholders/%d/transactions", y.ID)},
			{"report another's card lost", "POST", fmt.Sprintf("/api/v1/cards/%d/report-lost", y.CardID)},
			{"even its own card, outside /me", "GET", fmt.Sprintf("/api/v1/cards/%d", x.CardID)},
			{"schools", "GET", "/api/v1/schools"},
			{"ledger", "GET", fmt.Sprintf("/api/v1/accounts/%d", y.Trans)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.do(tc.method, tc.path, tx, nil).wantError(t, 403, onecard.EFORBIDDEN)
			})
		}
		if e.cardState(y.CardID) != "active" {
			t.Error("another cardholder's card changed")
		}

		// The payer comes from the session; a body naming another is refused.
		e.do("POST", "/api/v1/me/payments", tx, map[string]any{"key": "p1", "merchant_id": m.ID, "amount": 5_00, "cardholder_id": y.ID}).
			wantError(t, 400, onecard.EINVALID)
		var item onecard.HistoryItem
		e.ok(200, "POST", "/api/v1/me/payments", tx, map[string]any{"key": "p2", "merchant_id": m.ID, "amount": 5_00, "memo": "午餐"}, &item)
		if item.Amount != -5_00 {
			t.Errorf("payment item amount %d", item.Amount)
		}
		e.ok(200, "POST", "/api/v1/me/payments", tx, map[string]any{"key": "p2", "merchant_id": m.ID, "amount": 5_00, "memo": "午餐"}, nil)
		if got := e.balance(x).Total; got != 95_00 {
			t.Errorf("payer's balance %d, want 9500 (retry charged once)", got)
		}
		if got := e.balance(y).Total; got != 100_00 {
			t.Errorf("other cardholder's balance %d", got)
		}

		// Another school's merchant is as good as absent.
		other := e.merchant(e.school())
		e.do("POST", "/api/v1/me/payments", tx, map[string]any{"key": "p3", "merchant_id": other.ID, "amount": 1_00}).
			wantError(t, 404, onecard.ENOTFOUND)

		// Operators do not use /me.
		e.do("GET", "/api/v1/me", e.admin, nil).wantError(t, 403, onecard.EFORBIDDEN)

		var hist struct{ Items []onecard.HistoryItem }
		e.ok(200, "GET", "/api/v1/me/transactions", tx, nil, &hist)
		if len(hist.Items) != 2 {
			t.Errorf("history has %d items, want deposit and payment", len(hist.Items))
		}
	})
}

func TestLossReportEndsSessions(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		s := e.school()
		p := e.cardholder(s)
		m := e.merchant(s)
		e.deposit(p, 20_00)
		token := e.login(p)
		other := e.login(p) // the phone that went missing with the card

		er := e.do("POST", "/api/v1/me/card/report-lost", token, map[string]string{"pin": "000001"}).wantError(t, 401, onecard.EWRONGPIN)
		if !strings.Contains(er.Message, "left") {
			t.Errorf("wrong PIN message does not give the attempts left: %q", er.Message)
		}
		if e.cardState(p.CardID) != "active" {
			t.Fatal("a wrong PIN reported the card lost")
		}
		var card struct{ State, Message string }
		e.ok(200, "POST", "/api/v1/me/card/report-lost", token, map[string]string{"pin": p.PIN}, &card)
		if card.State != "lost" || card.Message == "" {
			t.Errorf("after report: %+v", card)
		}
		e.do("GET", "/api/v1/me", token, nil).wantError(t, 401, onecard.EUNAUTHORIZED)
		e.do("GET", "/api/v1/me", other, nil).wantError(t, 401, onecard.EUNAUTHORIZED)

		token = e.login(p)
		er = e.do("POST", "/api/v1/me/payments", token, map[string]any{"key": "lost-pay", "merchant_id": m.ID, "amount": 1_00}).
			wantError(t, 409, onecard.ECARDBLOCKED)
		if !strings.Contains(er.Message, "lost") {
			t.Errorf("blocked message: %q", er.Message)
		}
		e.do("POST", "/api/v1/me/card/report-lost", token, map[string]string{"pin": p.PIN}).wantError(t, 409, onecard.ECONFLICT)
		e.ok(200, "POST", "/api/v1/me/card/unlock", token, map[string]string{"pin": p.PIN}, &card)
		if card.State != "active" {
			t.Errorf("after unlock: %+v", card)
		}
		if got := e.balance(p).Total; got != 20_00 {
			t.Errorf("balance %d", got)
		}
	})
}

func TestPINChangeAndReset(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		s := e.school()
		p := e.cardholder(s)
		token := e.login(p)
		e.do("PUT", "/api/v1/me/pins/query", token, map[string]string{"old": p.PIN, "new": "12345"}).wantError(t, 400, onecard.EINVALID)
		e.do("PUT", "/api/v1/me/pins/bank", token, map[string]string{"old": p.PIN, "new": "123456"}).wantError(t, 400, onecard.EINVALID)
		e.ok(204, "PUT", "/api/v1/me/pins/query", token, map[string]string{"old": p.PIN, "new": "246810"}, nil)
		e.do("GET", "/api/v1/me", token, nil).wantError(t, 401, onecard.EUNAUTHORIZED)
		initial := p.PIN
		p.PIN = "246810"
		token = e.login(p)

		// Locked out, then reset at the service hall back to the initial PIN.
		var locked bool
		for range 20 {
			r := e.do("POST", "/api/v1/me/card/unlock", token, map[string]string{"pin": "999999"})
			if r.err(t).Code == onecard.ELOCKED {
				if r.status != 423 {
					t.Fatalf("pin_locked with status %d", r.status)
				}
				locked = true
				break
			}
			r.wantError(t, 401, onecard.EWRONGPIN)
		}
		if !locked {
			t.Fatal("never locked out")
		}
		e.ok(204, "POST", fmt.Sprintf("/api/v1/cardholders/%d/pins/query/reset", p.ID), e.admin, nil, nil)
		p.PIN = initial
		e.login(p)
	})
}
