package store_test

import (
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestCardNumberRules(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		for _, tc := range []struct {
			name, typed, stored, lookup string
		}{
			{"visitor SN number drops prefix and zeros", "SN:000999", "999", "999"},
			{"lowercase sn with a space", "sn: 001000", "1000", "SN:1000"},
			{"F number stays as printed", "F000999", "F000999", "f000999"},
			{"student number", "2120230001", "2120230001", " 2120230001 "},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h, err := f.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: f.school.ID, Number: tc.typed, Name: "访客",
					Kind: onecard.Visitor, IDNumber: f.idNumber()})
				if err != nil {
					t.Fatal(err)
				}
				if h.Number != tc.stored {
					t.Errorf("number %q stored as %q, want %q", tc.typed, h.Number, tc.stored)
				}
				got, err := f.db.CardholderByNumber(ctx, f.school.ID, tc.lookup)
				if err != nil || got.ID != h.ID {
					t.Errorf("CardholderByNumber(%q) = %v, %v; want cardholder %d", tc.lookup, got, err, h.ID)
				}
			})
		}
		_, err := f.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: f.school.ID, Number: "SN:0999", Name: "李四",
			Kind: onecard.Visitor, IDNumber: f.idNumber()})
		wantCode(t, err, onecard.ECONFLICT, "Card number 999 is already registered at this school.")
		other := f.newSchool(t, "bjtu", onecard.Settings{})
		_, err = f.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: other.ID, Number: "999", Name: "李四",
			Kind: onecard.Visitor, IDNumber: f.idNumber()})
		wantCode(t, err, "") // numbers are unique per school only
		_, err = f.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: 999, Number: "1", Name: "李四",
			Kind: onecard.Visitor, IDNumber: f.idNumber()})
		wantCode(t, err, onecard.ENOTFOUND)
	})
}

func TestInitialPINRules(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		for i, tc := range []struct {
			name     string
			rule     onecard.InitialPINRule
			idType   onecard.IDType
			idNumber string
			pin      string
		}{
			{"last six digits", onecard.PINLastSixDigits, onecard.IDCard, "110105199003071234", "071234"},
			{"an X shifts the window", onecard.PINLastSixDigits, onecard.IDCard, "11010519900307123X", "307123"},
			{"lowercase x too", onecard.PINLastSixDigits, onecard.IDCard, "11010519900307123x", "307123"},
			{"X read as zero", onecard.PINXAsZero, onecard.IDCard, "11010519900307123X", "071230"},
			{"zeros for everyone", onecard.PINZeros, onecard.IDCard, "110105199003071234", "000000"},
			{"short passport padded", onecard.PINLastSixDigits, onecard.Passport, "E1234", "001234"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := onecard.DefaultSettings()
				s.InitialPIN = tc.rule
				sc := f.newSchool(t, "pin-rule-"+string(rune('a'+i)), s)
				h, err := f.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: sc.ID, Number: "1", Name: "王五",
					Kind: onecard.Student, IDType: tc.idType, IDNumber: tc.idNumber})
				if err != nil {
					t.Fatal(err)
				}
				for _, kind := range []onecard.PINKind{onecard.QueryPIN, onecard.ConsumptionPIN} {
					if err := f.db.VerifyPIN(ctx, h.ID, kind, tc.pin); err != nil {
						t.Errorf("%s PIN %s: %v", kind, tc.pin, err)
					}
				}
			})
		}
	})
}

func TestCardholderKeepsNoIDNumber(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, err := f.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: f.school.ID, Number: "1", Name: "赵六",
			Kind: onecard.Staff, IDNumber: "11010519900307123x"})
		if err != nil {
			t.Fatal(err)
		}
		if h.IDMasked != "110105********123X" {
			t.Errorf("IDMasked = %q", h.IDMasked)
		}
		for _, tc := range []struct {
			typed string
			want  bool
		}{
			{"11010519900307123X", true},
			{" 11010519900307123x ", true},
			{"110105199003071230", false},
			{"not a number", false},
		} {
			if got, err := f.db.MatchIDNumber(ctx, h.ID, tc.typed); err != nil || got != tc.want {
				t.Errorf("MatchIDNumber(%q) = %v, %v; want %v", tc.typed, got, err, tc.want)
			}
		}
	})
}

func TestFindCardholders(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		for i, name := range []string{"张三", "张四", "李四"} {
			if _, err := f.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: f.school.ID, Number: "2025000" + string(rune('1'+i)),
				Name: name, Kind: onecard.Student, IDNumber: f.idNumber()}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			query string
			want  int
		}{
			{"", 3}, {"张", 2}, {"2025", 3}, {"20250003", 1}, {"%", 0}, {"王", 0},
		} {
			hs, total, err := f.db.FindCardholders(ctx, onecard.CardholderFilter{SchoolID: f.school.ID, Query: tc.query, Limit: 2})
			if err != nil || total != tc.want || len(hs) != min(tc.want, 2) {
				t.Errorf("FindCardholders(%q) = %d of %d, %v; want %d", tc.query, len(hs), total, err, tc.want)
			}
		}
	})
}

func TestCreateCardholdersInBulk(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		var ns []*onecard.NewCardholder
		for i := range 50 {
			ns = append(ns, &onecard.NewCardholder{SchoolID: f.school.ID, Number: "B" + string(rune('A'+i/26)) + string(rune('A'+i%26)),
				Name: "学生", Kind: onecard.Student, IDNumber: f.idNumber()})
		}
		hs, err := f.db.CreateCardholders(ctx, ns)
		if err != nil || len(hs) != 50 {
			t.Fatalf("CreateCardholders = %d, %v", len(hs), err)
		}
		if err := f.db.VerifyPIN(ctx, hs[49].ID, onecard.QueryPIN, onecard.InitialPIN(onecard.PINLastSixDigits, ns[49].IDNumber)); err != nil {
			t.Error(err)
		}
		ns[0].Number = "NEW1"
		ns[1].Number = "BAA" // taken: all or none
		_, err = f.db.CreateCardholders(ctx, ns[:2])
		wantCode(t, err, onecard.ECONFLICT)
		_, err = f.db.CardholderByNumber(ctx, f.school.ID, "NEW1")
		wantCode(t, err, onecard.ENOTFOUND)
	})
}

func TestCloseCardholder(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, c, pin := f.cardholder(t)
		sess, err := f.db.LoginCardholder(ctx, "nankai", h.Number, pin)
		if err != nil {
			t.Fatal(err)
		}
		f.deposit(t, h, 10_00)
		_, err = f.db.SetCardholderStatus(ctx, h.ID, onecard.CardholderClosed)
		wantCode(t, err, onecard.ECONFLICT, "¥10.00")
		if err := f.pay(h, f.canteen, 10_00); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.SetCardholderStatus(ctx, h.ID, onecard.CardholderGraduated); err != nil {
			t.Fatal(err)
		}
		got, err := f.db.SetCardholderStatus(ctx, h.ID, onecard.CardholderClosed)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != onecard.CardholderClosed || got.LeftAt == nil {
			t.Errorf("closed cardholder = %+v", got)
		}
		if c := f.card(t, c.ID); c.Status != onecard.CardCancelled {
			t.Errorf("card after closing is %s, want cancelled", c.State())
		}
		_, err = f.db.Authenticate(ctx, sess.Token)
		wantCode(t, err, onecard.EUNAUTHORIZED)
		_, err = f.db.LoginCardholder(ctx, "nankai", h.Number, pin)
		wantCode(t, err, onecard.EUNAUTHORIZED, "closed")
		_, err = f.db.SetCardholderStatus(ctx, h.ID, onecard.CardholderActive)
		wantCode(t, err, onecard.ECONFLICT)
		_, err = f.db.IssueCard(ctx, h.ID, "")
		wantCode(t, err, onecard.ECONFLICT)
	})
}
