package store_test

import (
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/store"
)

func TestCreateSchool(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		if f.school.Settings.ReplacementFee != 15_00 || f.school.Settings.InitialPIN != onecard.PINLastSixDigits {
			t.Errorf("zero settings became %+v, want the defaults", f.school.Settings)
		}
		for _, kind := range store.SystemAccountKinds {
			if _, err := f.db.SystemAccount(ctx, f.school.ID, kind); err != nil {
				t.Errorf("system account %s: %v", kind, err)
			}
		}
		got, err := f.db.SchoolByCode(ctx, " NanKai ")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != f.school.ID || len(got.Campuses) != 1 || got.Campuses[0].Name != "Balitai" {
			t.Errorf("SchoolByCode = %+v", got)
		}
		for _, tc := range []struct {
			name, code, want string
		}{
			{"taken", "NANKAI", onecard.ECONFLICT},
			{"too short", "n", onecard.EINVALID},
			{"space", "nan kai", onecard.EINVALID},
			{"underscore", "nan_kai", onecard.EINVALID},
			{"too long", "abcdefghijklmnopqrstuvwxyz0123456", onecard.EINVALID},
			{"hyphen and digits", "bjtu-weihai2", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := f.db.CreateSchool(ctx, &onecard.School{Code: tc.code, Name: "x"})
				wantCode(t, err, tc.want)
			})
		}
		bad := onecard.DefaultSettings()
		bad.DailyLimit = 1
		wantCode(t, f.db.CreateSchool(ctx, &onecard.School{Code: "bad", Name: "x", Settings: bad}), onecard.EINVALID)
		schools, err := f.db.Schools(ctx)
		if err != nil || len(schools) != 2 {
			t.Errorf("Schools = %d schools, %v; want 2", len(schools), err)
		}
	})
}

func TestUpdateSettingsMovesAccountBounds(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		debtor, _, _ := f.cardholder(t)
		other, _, _ := f.cardholder(t)
		if err := f.pay(debtor, f.canteen, 30_00); err != nil { // into arrears: transition -30
			t.Fatal(err)
		}
		s := f.school.Settings
		s.ArrearsLimit, s.PurseCeiling = 10_00, 500_00
		if _, err := f.db.UpdateSettings(ctx, f.school.ID, s); err != nil {
			t.Fatalf("UpdateSettings with a cardholder below the new floor: %v", err)
		}
		for _, tc := range []struct {
			name    string
			account int64
			floor   int64
			ceiling int64
		}{
			{"debtor keeps a floor at the balance", debtor.TransitionAccount, -30_00, -1},
			{"others get the new floor", other.TransitionAccount, -10_00, -1},
			{"purse gets the new ceiling", other.PurseAccount, 0, 500_00},
		} {
			a, err := f.db.Account(ctx, tc.account)
			if err != nil {
				t.Fatal(err)
			}
			if a.Floor != tc.floor || (tc.ceiling >= 0 && a.Ceiling != tc.ceiling) {
				t.Errorf("%s: floor %d ceiling %d, want %d %d", tc.name, a.Floor, a.Ceiling, tc.floor, tc.ceiling)
			}
		}
		wantCode(t, f.pay(other, f.canteen, 11_00), onecard.EINSUFFICIENT)
		s.SingleLimit = 0
		_, err := f.db.UpdateSettings(ctx, f.school.ID, s)
		wantCode(t, err, onecard.EINVALID)
		_, err = f.db.UpdateSettings(ctx, 999, onecard.DefaultSettings())
		wantCode(t, err, onecard.ENOTFOUND)
	})
}
