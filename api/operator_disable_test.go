package api_test

import (
	"fmt"
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestDisableOperator(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		clerk := e.operator(onecard.RoleOperator, 0)
		var ops struct{ Items []onecard.Operator }
		e.ok(200, "GET", "/api/v1/operators", e.admin, nil, &ops)
		var clerkID, adminID int64
		for _, o := range ops.Items {
			switch o.Username {
			case "admin":
				adminID = o.ID
			default:
				clerkID = o.ID
			}
		}
		e.ok(200, "GET", "/api/v1/schools", clerk, nil, nil)
		e.ok(200, "PUT", fmt.Sprintf("/api/v1/operators/%d/disabled", clerkID), e.admin, map[string]any{"disabled": true}, nil)
		e.do("GET", "/api/v1/schools", clerk, nil).wantError(t, 401, onecard.EUNAUTHORIZED)
		e.do("PUT", fmt.Sprintf("/api/v1/operators/%d/disabled", adminID), e.admin, map[string]any{"disabled": true}).
			wantError(t, 403, onecard.EFORBIDDEN)
		e.do("PUT", "/api/v1/operators/99999/disabled", e.admin, map[string]any{"disabled": true}).
			wantError(t, 404, onecard.ENOTFOUND)
	})
}
