package api_test

import (
	"fmt"
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestCorrectBalanceAtTheCounter(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		s := e.school()
		p := e.cardholder(s)
		e.deposit(p, 20_00)
		base := fmt.Sprintf("/api/v1/cards/%d", p.CardID)
		e.ok(200, "POST", base+"/freeze", e.admin, map[string]string{"reason": "mismatch"}, nil)

		// The chip holds ¥5.00 the books never saw: over/short pays it in.
		var c struct{ State string }
		e.ok(200, "POST", base+"/correct-balance", e.admin, map[string]any{"card_balance": 5_00, "note": "read at the hall"}, &c)
		if c.State != "active" {
			t.Errorf("card after the correction: %s, want active", c.State)
		}
		if b := e.balance(p); b.Purse != 5_00 || b.Transition != 20_00 {
			t.Errorf("balance after the correction: %+v", b)
		}
		// And back down: the books hold more than the chip.
		e.ok(200, "POST", base+"/correct-balance", e.admin, map[string]any{"card_balance": 2_00}, &c)
		if b := e.balance(p); b.Purse != 2_00 {
			t.Errorf("balance after the second correction: %+v", b)
		}

		e.do("POST", base+"/correct-balance", e.admin, map[string]any{"card_balance": -1}).wantError(t, 400, onecard.EINVALID)
		e.do("POST", base+"/correct-balance", e.operator(onecard.RoleAuditor, s.ID), map[string]any{"card_balance": 0}).
			wantError(t, 403, onecard.EFORBIDDEN)
		e.do("POST", "/api/v1/cards/999999/correct-balance", e.admin, map[string]any{"card_balance": 0}).wantError(t, 404, onecard.ENOTFOUND)
		e.ok(200, "POST", base+"/cancel", e.admin, nil, nil)
		e.do("POST", base+"/correct-balance", e.admin, map[string]any{"card_balance": 0}).wantError(t, 409, onecard.ECONFLICT)
	})
}
