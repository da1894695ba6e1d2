package api_test

import (
	"fmt"
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestOperatorOfSchoolACannotTouchSchoolB(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		a, b := e.school(), e.school()
		pb := e.cardholder(b)
		e.deposit(pb, 10_00)
		opA := e.operator(onecard.RoleOperator, a.ID)
		var adminA onecard.Session
		{
			u := e.name("adminA")
			e.ok(201, "POST", "/api/v1/operators", e.admin, map[string]any{"username": u, "name": "A", "role": "admin", "school_id": a.ID, "password": "initial-password-1"}, nil)
			adminA.Token = e.loginOperator(u, "initial-password-1")
		}

		for _, tc := range []struct {
			name, method, path string
			body               any
			token              string
		}{
			{"read school B", "GET", fmt.Sprintf("/api/v1/schools/%d", b.ID), nil, opA},
			{"list B's cardholders", "GET", fmt.Sprintf("/api/v1/schools/%d/cardholders", b.ID), nil, opA},
			{"register in B", "POST", fmt.Sprintf("/api/v1/schools/%d/cardholders", b.ID), map[string]any{"number": "X1", "name": "王五", "kind": "student", "id_number": "110105200001019999"}, opA},
			{"read B's cardholder", "GET", fmt.Sprintf("/api/v1/cardholders/%d", pb.ID), nil, opA},
			{"B's transactions", "GET", fmt.Sprintf("/api/v1/cardholders/%d/transactions", pb.ID), nil, opA},
			{"read B's card", "GET", fmt.Sprintf("/api/v1/cards/%d", pb.CardID), nil, opA},
			{"report B's card lost", "POST", fmt.Sprintf("/api/v1/cards/%d/report-lost", pb.CardID), nil, opA},
			{"freeze B's card", "POST", fmt.Sprintf("/api/v1/cards/%d/freeze", pb.CardID), map[string]any{"reason": "operator"}, opA},
			{"deposit to B's cardholder", "POST", fmt.Sprintf("/api/v1/cardholders/%d/deposits", pb.ID), map[string]any{"key": "cross-school", "amount": 100}, opA},
			{"reset B's PIN", "POST", fmt.Sprintf("/api/v1/cardholders/%d/pins/query/reset", pb.ID), map[string]any{"pin": "000000"}, opA},
			{"B's blacklist", "GET", fmt.Sprintf("/api/v1/schools/%d/blacklist", b.ID), nil, opA},
			{"B's settings", "PUT", fmt.Sprintf("/api/v1/schools/%d/settings", b.ID), onecard.DefaultSettings(), adminA.Token},
			{"operator for B", "POST", "/api/v1/operators", map[string]any{"username": "sneaky", "name": "S", "role": "operator", "school_id": b.ID, "password": "initial-password-1"}, adminA.Token},
			{"platform operator", "POST", "/api/v1/operators", map[string]any{"username": "sneaky", "name": "S", "role": "admin", "password": "initial-password-1"}, adminA.Token},
			{"B's audit log", "GET", fmt.Sprintf("/api/v1/audit?school_id=%d", b.ID), nil, adminA.Token},
			{"ledger", "GET", fmt.Sprintf("/api/v1/accounts/%d", pb.Trans), nil, adminA.Token},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.do(tc.method, tc.path, tc.token, tc.body).wantError(t, 403, onecard.EFORBIDDEN)
			})
		}
		if got := e.cardState(pb.CardID); got != "active" {
			t.Errorf("B's card is %s after refused requests", got)
		}
		if got := e.balance(pb); got.Total != 10_00 {
			t.Errorf("B's balance is %d after a refused deposit", got.Total)
		}

		var list struct{ Items []onecard.School }
		e.ok(200, "GET", "/api/v1/schools", opA, nil, &list)
		if len(list.Items) != 1 || list.Items[0].ID != a.ID {
			t.Errorf("school A's operator sees %+v", list.Items)
		}
		pa := e.cardholder(a)
		e.ok(200, "GET", fmt.Sprintf("/api/v1/cardholders/%d", pa.ID), opA, nil, nil)
	})
}
