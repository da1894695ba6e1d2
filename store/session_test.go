package store_test

import (
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/store"
)

func TestEnsureAdmin(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		pass, err := f.db.EnsureAdmin(ctx, "")
		if err != nil || len(pass) != 16 {
			t.Fatalf("EnsureAdmin = %q, %v; want a 16-character one-time password", pass, err)
		}
		if again, err := f.db.EnsureAdmin(ctx, "another password"); err != nil || again != "" {
			t.Errorf("second EnsureAdmin = %q, %v; want nothing", again, err)
		}
		s, err := f.db.LoginOperator(ctx, "Admin", pass)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Operator.MustChangePassword || s.Operator.Role != onecard.RoleAdmin || s.Operator.SchoolID != 0 {
			t.Errorf("admin = %+v", s.Operator)
		}
		for _, tc := range []struct {
			name, old, new, code string
		}{
			{"too short", pass, "short", onecard.EINVALID},
			{"wrong current password", "wrong password", "a long new password", onecard.EUNAUTHORIZED},
			{"changed", pass, "a long new password", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, f.db.ChangeOperatorPassword(ctx, s.Operator.ID, tc.old, tc.new), tc.code)
			})
		}
		s, err = f.db.LoginOperator(ctx, "admin", "a long new password")
		if err != nil || s.Operator.MustChangePassword {
			t.Errorf("login with the new password = %+v, %v; want must_change_password cleared", s, err)
		}
	})
}

func TestOperatorLogin(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		o := &onecard.Operator{Username: "Li.Hall", Name: "李", Role: onecard.RoleOperator, SchoolID: f.school.ID}
		if err := f.db.CreateOperator(ctx, o, "service hall 103"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.db.CreateOperator(ctx, &onecard.Operator{Username: "li.hall", Name: "x", Role: onecard.RoleAuditor}, "0123456789"),
			onecard.ECONFLICT)
		wantCode(t, f.db.CreateOperator(ctx, &onecard.Operator{Username: "x y", Name: "x", Role: onecard.RoleAuditor}, "0123456789"),
			onecard.EINVALID)
		wantCode(t, f.db.CreateOperator(ctx, &onecard.Operator{Username: "boss", Name: "x", Role: "god"}, "0123456789"),
			onecard.EINVALID)
		for _, tc := range []struct {
			name, user, pass, code, msg string
			advance                     time.Duration
		}{
			{"unknown user", "nobody", "service hall 103", onecard.EUNAUTHORIZED, "Wrong username or password.", 0},
			{"wrong password, same message", "li.hall", "wrong", onecard.EUNAUTHORIZED, "Wrong username or password.", 0},
			{"2nd wrong", "li.hall", "wrong", onecard.EUNAUTHORIZED, "", 0},
			{"3rd wrong", "li.hall", "wrong", onecard.EUNAUTHORIZED, "", 0},
			{"4th wrong", "li.hall", "wrong", onecard.EUNAUTHORIZED, "", 0},
			{"5th wrong locks", "li.hall", "wrong", onecard.ELOCKED, "12:15", 0},
			{"right password while locked", "li.hall", "service hall 103", onecard.ELOCKED, "", 14 * time.Minute},
			{"right password after 15 minutes", "li.hall", "service hall 103", "", "", 2 * time.Minute},
		} {
			f.clock.Advance(tc.advance)
			s, err := f.db.LoginOperator(ctx, tc.user, tc.pass)
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, err, tc.code, tc.msg)
				if err == nil {
					p, err := f.db.Authenticate(ctx, s.Token)
					if err != nil || p.Operator == nil || p.Operator.ID != o.ID {
						t.Errorf("Authenticate = %+v, %v", p, err)
					}
				}
			})
		}
		ops, err := f.db.Operators(ctx)
		if err != nil || len(ops) != 1 || ops[0].Username != "li.hall" {
			t.Errorf("Operators = %v, %v", ops, err)
		}
	})
}

func TestCardholderSessions(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, c, pin := f.cardholder(t)
		for _, tc := range []struct {
			name, school, number, pin, code string
		}{
			{"unknown school", "tju", h.Number, pin, onecard.EUNAUTHORIZED},
			{"unknown number", "nankai", "424242", pin, onecard.EUNAUTHORIZED},
			{"wrong PIN", "nankai", h.Number, "999999", onecard.EWRONGPIN},
			{"malformed PIN", "nankai", h.Number, "abc", onecard.EWRONGPIN},
			{"right PIN", "NanKai", h.Number, pin, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.db.LoginCardholder(ctx, tc.school, tc.number, tc.pin)
				wantCode(t, err, tc.code)
			})
		}
		if _, err := f.db.ReportLost(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		s, err := f.db.LoginCardholder(ctx, "nankai", h.Number, pin)
		if err != nil {
			t.Fatalf("a cardholder whose card is lost logs in to unlock it: %v", err)
		}
		if !s.ExpiresAt.Equal(start.Add(store.CardholderSessionTTL)) {
			t.Errorf("session expires at %v", s.ExpiresAt)
		}
		p, err := f.db.Authenticate(ctx, s.Token)
		if err != nil || p.Cardholder == nil || p.Cardholder.ID != h.ID || p.SessionID == 0 {
			t.Fatalf("Authenticate = %+v, %v", p, err)
		}
		s2, _ := f.db.LoginCardholder(ctx, "nankai", h.Number, pin)
		s3, _ := f.db.LoginCardholder(ctx, "nankai", h.Number, pin)
		if err := f.db.Logout(ctx, s3.Token); err != nil {
			t.Fatal(err)
		}
		_, err = f.db.Authenticate(ctx, s3.Token)
		wantCode(t, err, onecard.EUNAUTHORIZED)
		if err := f.db.RevokeCardholderSessions(ctx, h.ID); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{s.Token, s2.Token, "", "made-up"} {
			_, err := f.db.Authenticate(ctx, tok)
			wantCode(t, err, onecard.EUNAUTHORIZED)
		}
		s4, _ := f.db.LoginCardholder(ctx, "nankai", h.Number, pin)
		f.clock.Advance(store.CardholderSessionTTL)
		_, err = f.db.Authenticate(ctx, s4.Token)
		wantCode(t, err, onecard.EUNAUTHORIZED, "log in again")
	})
}
