package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestBadInputIsInvalidAndMovesNothing(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		s := e.school()
		p := e.cardholder(s)
		e.deposit(p, 10_00)
		path := fmt.Sprintf("/api/v1/cardholders/%d/deposits", p.ID)
		for _, tc := range []struct {
			name     string
			body     string
			contains string // in the message
		}{
			{"truncated JSON", `{"key":"a","amount":100`, "not valid JSON"},
			{"not JSON", `key=a&amount=100`, "not valid JSON"},
			{"empty body", ``, "body"},
			{"array", `[]`, "expected object"},
			{"amount as string", `{"key":"a","amount":"100"}`, "body.amount"},
			{"amount as float", `{"key":"a","amount":1.5}`, "expected integer"},
			{"unknown field", `{"key":"a","amount":100,"cardholder_id":2}`, "unknown field"},
			{"zero amount", `{"key":"a","amount":0}`, "body.amount"},
			{"negative amount", `{"key":"a","amount":-100}`, "body.amount"},
			{"amount above the maximum", `{"key":"a","amount":1000000001}`, "body.amount"},
			{"empty key", `{"key":"","amount":100}`, "body.key"},
			{"long key", `{"key":"` + strings.Repeat("k", 129) + `","amount":100}`, "body.key"},
			{"missing key", `{"amount":100}`, "key"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				er := e.do("POST", path, e.admin, tc.body).wantError(t, 400, onecard.EINVALID)
				if !strings.Contains(er.Message, tc.contains) {
					t.Errorf("message %q does not mention %q", er.Message, tc.contains)
				}
			})
		}
		if got := e.balance(p).Total; got != 10_00 {
			t.Errorf("balance %d after refused deposits", got)
		}
		for _, tc := range []struct{ name, method, path string }{
			{"id not a number", "GET", "/api/v1/cardholders/abc"},
			{"id zero", "GET", "/api/v1/cardholders/0"},
			{"bad PIN kind", "POST", fmt.Sprintf("/api/v1/cardholders/%d/pins/bank/reset", p.ID)},
			{"limit too large", "GET", fmt.Sprintf("/api/v1/schools/%d/cardholders?limit=100000", s.ID)},
			{"bad status filter", "GET", fmt.Sprintf("/api/v1/schools/%d/cardholders?status=gone", s.ID)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.do(tc.method, tc.path, e.admin, nil).wantError(t, 400, onecard.EINVALID)
			})
		}
		// A PIN, even a malformed one, is never echoed back.
		r := e.do("POST", "/api/v1/auth/cardholder/login", "", `{"school":"x","number":"1","pin":"12345X","extra":true}`)
		r.wantError(t, 400, onecard.EINVALID)
		if strings.Contains(string(r.body), "12345X") {
			t.Errorf("error echoes the PIN: %s", r.body)
		}
		r = e.do("POST", path, e.admin, strings.Repeat(" ", 2<<20))
		r.wantError(t, 413, onecard.EINVALID)
	})
}
