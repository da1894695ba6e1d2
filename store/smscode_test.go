package store_test

import (
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
)

func TestSMSCode(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		const purpose = "bank_topup"
		_, _, err := f.db.IssueSMSCode(ctx, h.ID, purpose)
		wantCode(t, err, onecard.ECONFLICT, "phone")
		if err := f.db.SetPhone(ctx, h.ID, "13800138000"); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.db.IssueSMSCode(ctx, h.ID, "Bank Top-up")
		wantCode(t, err, onecard.EINVALID)
		var code string
		issue := func(t *testing.T) {
			t.Helper()
			c, phone, err := f.db.IssueSMSCode(ctx, h.ID, purpose)
			if err != nil || len(c) != 6 || phone != "13800138000" {
				t.Fatalf("issue: %q %q %v", c, phone, err)
			}
			code = c
		}
		wrong := func() string {
			if code == "000000" {
				return "000001"
			}
			return "000000"
		}
		check := func(c string) error { return f.db.CheckSMSCode(ctx, h.ID, purpose, c) }
		for _, s := range []struct {
			name string
			run  func(t *testing.T)
		}{
			{"none sent", func(t *testing.T) { wantCode(t, check("123456"), onecard.EINVALID, "No verification code") }},
			{"issued", issue},
			{"again within a minute", func(t *testing.T) {
				_, _, err := f.db.IssueSMSCode(ctx, h.ID, purpose)
				wantCode(t, err, onecard.ERATELIMIT)
			}},
			{"another purpose is separate", func(t *testing.T) {
				if _, _, err := f.db.IssueSMSCode(ctx, h.ID, "bind_bank"); err != nil {
					t.Fatal(err)
				}
			}},
			{"not six digits", func(t *testing.T) { wantCode(t, check("12a456"), onecard.EINVALID, "6 digits") }},
			{"wrong", func(t *testing.T) { wantCode(t, check(wrong()), onecard.EWRONGPIN, "4 attempts left") }},
			{"right", func(t *testing.T) { wantCode(t, check(code), "") }},
			{"consumed", func(t *testing.T) { wantCode(t, check(code), onecard.EINVALID, "already used") }},
			{"expired", func(t *testing.T) {
				f.clock.Advance(time.Minute)
				issue(t)
				f.clock.Advance(5 * time.Minute)
				wantCode(t, check(code), onecard.EINVALID, "expired")
			}},
			{"dead after five wrong", func(t *testing.T) {
				issue(t)
				for left := 4; left >= 0; left-- {
					wantCode(t, check(wrong()), onecard.EWRONGPIN)
				}
				wantCode(t, check(code), onecard.EINVALID, "Too many")
			}},
			{"a new code after a minute", func(t *testing.T) {
				f.clock.Advance(time.Minute)
				issue(t)
				wantCode(t, check(code), "")
			}},
		} {
			t.Run(s.name, s.run)
		}
		entries, _ := f.db.AuditLog(ctx, f.school.ID, 50)
		var issued, dead int
		for _, e := range entries {
			switch e.Action {
			case "sms.code_issued":
				issued++
			case "sms.code_dead":
				dead++
			}
			if (e.Action == "sms.code_issued" || e.Action == "sms.code_dead") && e.Detail != purpose && e.Detail != "bind_bank" {
				t.Errorf("audit detail %q: the purpose, never the code", e.Detail)
			}
		}
		if issued != 5 || dead != 1 {
			t.Errorf("audit: %d issued, %d dead", issued, dead)
		}
	})
}
