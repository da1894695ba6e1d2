package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestTransferBatch(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		s := e.school()
		p := e.cardholder(s)
		m := e.merchant(s)
		e.deposit(p, 10_00)
		finance := e.operator(onecard.RoleFinance, 0)

		var out struct {
			Results []struct {
				Result   string
				Transfer *struct {
					ID     int64
					Key    string
					Amount int64
					Flags  []string
				}
			}
		}
		batch := map[string]any{"transfers": []map[string]any{
			{"key": "b1", "debit": p.Trans, "credit": m.Account, "amount": 3_00, "code": "fee", "memo": "network"},
			{"key": "b2", "debit": p.Trans, "credit": m.Account, "amount": 900_00, "code": "fee"},
			{"key": "b3", "debit": p.Trans, "credit": 987654, "amount": 1_00, "code": "fee"},
		}}
		e.ok(200, "POST", "/api/v1/transfers", finance, batch, &out)
		want := []string{"ok", "insufficient_funds", "credit_account_not_found"}
		for i, r := range out.Results {
			if r.Result != want[i] {
				t.Errorf("result %d: %s, want %s", i, r.Result, want[i])
			}
		}
		if out.Results[0].Transfer == nil || out.Results[0].Transfer.Amount != 3_00 || out.Results[1].Transfer != nil {
			t.Errorf("transfers in results: %+v", out.Results)
		}
		e.ok(200, "POST", "/api/v1/transfers", finance, map[string]any{"transfers": batch["transfers"].([]map[string]any)[:1]}, &out)
		if out.Results[0].Result != "exists" {
			t.Errorf("retry: %s", out.Results[0].Result)
		}
		if got := e.balance(p).Total; got != 7_00 {
			t.Errorf("balance %d, want 700", got)
		}
		var tr struct {
			Key   string
			Flags []string
		}
		e.ok(200, "GET", "/api/v1/transfers/b1", finance, nil, &tr)
		if tr.Key != "b1" || tr.Flags == nil {
			t.Errorf("transfer %+v", tr)
		}
		e.do("GET", "/api/v1/transfers/b2", finance, nil).wantError(t, 404, onecard.ENOTFOUND)

		var acct struct {
			Balance int64
			Floor   *int64
		}
		e.ok(200, "GET", fmt.Sprintf("/api/v1/accounts/%d", p.Trans), e.admin, nil, &acct)
		if acct.Balance != 7_00 || acct.Floor == nil {
			t.Errorf("account %+v", acct)
		}
		var hist struct{ Items []struct{ Key string } }
		e.ok(200, "GET", fmt.Sprintf("/api/v1/accounts/%d/transfers?limit=1", p.Trans), e.admin, nil, &hist)
		if len(hist.Items) != 1 || hist.Items[0].Key != "b1" {
			t.Errorf("account transfers %+v", hist.Items)
		}
		e.do("GET", "/api/v1/accounts/987654/transfers", e.admin, nil).wantError(t, 404, onecard.ENOTFOUND)

		// A batch with any malformed transfer is refused whole.
		good := map[string]any{"key": "c1", "debit": p.Trans, "credit": m.Account, "amount": 1_00}
		for _, tc := range []struct {
			name string
			bad  map[string]any
		}{
			{"unknown flag", map[string]any{"key": "c2", "debit": p.Trans, "credit": m.Account, "amount": 1_00, "flags": []string{"urgent"}}},
			{"flags as a number", map[string]any{"key": "c2", "debit": p.Trans, "credit": m.Account, "amount": 1_00, "flags": 2}},
			{"zero amount", map[string]any{"key": "c2", "debit": p.Trans, "credit": m.Account, "amount": 0}},
			{"post without pending_key", map[string]any{"key": "c2", "amount": 0, "flags": []string{"post_pending"}}},
			{"no accounts", map[string]any{"key": "c2", "amount": 1}},
			{"long memo", map[string]any{"key": "c2", "debit": p.Trans, "credit": m.Account, "amount": 1, "memo": strings.Repeat("m", 257)}},
			{"memo too many bytes", map[string]any{"key": "c2", "debit": p.Trans, "credit": m.Account, "amount": 1, "memo": strings.Repeat("饭", 100)}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				er := e.do("POST", "/api/v1/transfers", finance, map[string]any{"transfers": []map[string]any{good, tc.bad}}).
					wantError(t, 400, onecard.EINVALID)
				if !strings.Contains(er.Message, "transfers[1]") {
					t.Errorf("message does not point at the transfer: %q", er.Message)
				}
				e.do("GET", "/api/v1/transfers/c1", finance, nil).wantError(t, 404, onecard.ENOTFOUND)
			})
		}
		e.do("POST", "/api/v1/transfers", finance, `{"transfers":[]}`).wantError(t, 400, onecard.EINVALID)
		big := make([]map[string]any, 8191)
		for i := range big {
			big[i] = map[string]any{"key": fmt.Sprint("x", i), "debit": p.Trans, "credit": m.Account, "amount": 1}
		}
		e.do("POST", "/api/v1/transfers", finance, map[string]any{"transfers": big}).wantError(t, 400, onecard.EINVALID)
		if got := e.balance(p).Total; got != 7_00 {
			t.Errorf("balance %d after refused batches", got)
		}
	})
}
