package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
)

func TestWrongPINLockout(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, pin := f.cardholder(t)
		steps := []struct {
			name, pin, code, msg string
			advance              time.Duration
		}{
			{"1st wrong", "999999", onecard.EWRONGPIN, "4 attempts left", 0},
			{"2nd wrong", "999999", onecard.EWRONGPIN, "3 attempts left", 0},
			{"3rd wrong", "999999", onecard.EWRONGPIN, "2 attempts left", 0},
			{"4th wrong", "999999", onecard.EWRONGPIN, "1 attempt left", 0},
			{"5th wrong locks", "999999", onecard.ELOCKED, "try again after 12:30", 0},
			{"right PIN while locked", pin, onecard.ELOCKED, "try again after 12:30", 0},
			{"still locked a minute before", pin, onecard.ELOCKED, "12:30", 29 * time.Minute},
			{"right PIN after the lockout", pin, "", "", 2 * time.Minute},
			{"count starts afresh", "999999", onecard.EWRONGPIN, "4 attempts left", 0},
			{"right PIN resets the count", pin, "", "", 0},
			{"so a wrong one has 4 left again", "999999", onecard.EWRONGPIN, "4 attempts left", 0},
			{"malformed PIN is not counted", "12345", onecard.EINVALID, "", 0},
			{"and the count is unchanged", "999999", onecard.EWRONGPIN, "3 attempts left", 0},
		}
		for _, s := range steps {
			f.clock.Advance(s.advance)
			err := f.db.VerifyPIN(ctx, h.ID, onecard.QueryPIN, s.pin)
			t.Run(s.name, func(t *testing.T) { wantCode(t, err, s.code, s.msg) })
		}
		// The consumption PIN has its own count.
		wantCode(t, f.db.VerifyPIN(ctx, h.ID, onecard.ConsumptionPIN, "999999"), onecard.EWRONGPIN, "4 attempts left")
	})
}

func TestResetPIN(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, pin := f.cardholder(t)
		op := asOperator(7)
		for range 5 {
			f.db.VerifyPIN(ctx, h.ID, onecard.QueryPIN, "999999")
		}
		wantCode(t, f.db.VerifyPIN(ctx, h.ID, onecard.QueryPIN, pin), onecard.ELOCKED)
		if err := f.db.ResetPIN(op, h.ID, onecard.QueryPIN, "246810"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			kind onecard.PINKind
			pin  string
			code string
		}{
			{"reset clears the lockout and sets the new PIN", onecard.QueryPIN, "246810", ""},
			{"the old PIN no longer works", onecard.QueryPIN, pin, onecard.EWRONGPIN},
			{"the other PIN is untouched", onecard.ConsumptionPIN, pin, ""},
		} {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, f.db.VerifyPIN(ctx, h.ID, tc.kind, tc.pin), tc.code) })
		}
		if err := f.db.ResetPIN(op, h.ID, onecard.QueryPIN, ""); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.db.VerifyPIN(ctx, h.ID, onecard.QueryPIN, pin), "")
		wantCode(t, f.db.ResetPIN(op, h.ID, onecard.QueryPIN, "12ab56"), onecard.EINVALID)
		wantCode(t, f.db.ResetPIN(op, 999, onecard.QueryPIN, ""), onecard.ENOTFOUND)
		wantCode(t, f.db.ResetPIN(op, h.ID, "bank", ""), onecard.EINVALID)
		log, err := f.db.AuditLog(ctx, f.school.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		var resets int
		for _, e := range log {
			if e.Action == "pin.reset" {
				resets++
				if e.ActorType != "operator" || e.ActorID != 7 || e.TargetID != h.ID {
					t.Errorf("audit entry %+v: want operator 7 on cardholder %d", e, h.ID)
				}
			}
			if strings.Contains(e.Detail, "246810") || strings.Contains(e.Detail, pin) {
				t.Errorf("audit detail %q holds a PIN", e.Detail)
			}
		}
		if resets != 2 {
			t.Errorf("%d pin.reset audit entries, want 2", resets)
		}
	})
}

func TestChangePIN(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, pin := f.cardholder(t)
		for _, tc := range []struct {
			name, old, new, code string
		}{
			{"wrong old PIN", "999999", "135790", onecard.EWRONGPIN},
			{"new PIN not six digits", pin, "1357", onecard.EINVALID},
			{"right old PIN", pin, "135790", ""},
			{"old PIN is now the old one", pin, "111111", onecard.EWRONGPIN},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, f.db.ChangePIN(ctx, h.ID, onecard.ConsumptionPIN, tc.old, tc.new), tc.code)
			})
		}
		wantCode(t, f.db.VerifyPIN(ctx, h.ID, onecard.ConsumptionPIN, "135790"), "")
		wantCode(t, f.db.VerifyPIN(ctx, h.ID, onecard.QueryPIN, pin), "") // independent
	})
}
