package store_test

import (
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestDisabledOperatorIsOutAtOnce(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		if _, err := f.db.EnsureAdmin(ctx, "admin-password-1"); err != nil {
			t.Fatal(err)
		}
		clerk := &onecard.Operator{Username: "clerk", Name: "柜员", Role: onecard.RoleOperator, SchoolID: f.school.ID}
		if err := f.db.CreateOperator(ctx, clerk, "clerk-password-1"); err != nil {
			t.Fatal(err)
		}
		s, err := f.db.LoginOperator(ctx, "clerk", "clerk-password-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.SetOperatorDisabled(ctx, clerk.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Authenticate(ctx, s.Token); onecard.ErrorCode(err) != onecard.EUNAUTHORIZED {
			t.Errorf("the disabled clerk's session: %v, want unauthorized", err)
		}
		if _, err := f.db.LoginOperator(ctx, "clerk", "clerk-password-1"); onecard.ErrorCode(err) != onecard.EUNAUTHORIZED {
			t.Errorf("the disabled clerk's login: %v, want unauthorized", err)
		}
		if _, err := f.db.SetOperatorDisabled(ctx, clerk.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.LoginOperator(ctx, "clerk", "clerk-password-1"); err != nil {
			t.Errorf("login after re-enabling: %v", err)
		}
		ops, err := f.db.Operators(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range ops {
			if o.Username == "admin" {
				if _, err := f.db.SetOperatorDisabled(ctx, o.ID, true); onecard.ErrorCode(err) != onecard.ECONFLICT {
					t.Errorf("disabling the last administrator: %v, want conflict", err)
				}
			}
		}
		if _, err := f.db.SetOperatorDisabled(ctx, 9999, true); onecard.ErrorCode(err) != onecard.ENOTFOUND {
			t.Errorf("an unknown operator: %v", err)
		}
	})
}
