package store_test

import (
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestCardLifecycle(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, c, _ := f.cardholder(t)
		if len(c.UID) != 16 || c.State() != "active" {
			t.Fatalf("new card %+v: want a 16-digit UID, active", c)
		}
		op := asOperator(1)
		steps := []struct {
			name  string
			do    func() (*onecard.Card, error)
			code  string
			state string // the card's state afterwards
		}{
			{"unlock a card that is not lost", func() (*onecard.Card, error) { return f.db.Unlock(ctx, c.ID) }, onecard.ECONFLICT, "active"},
			{"unfreeze a card that is not frozen", func() (*onecard.Card, error) { return f.db.Unfreeze(op, c.ID) }, onecard.ECONFLICT, "active"},
			{"report lost", func() (*onecard.Card, error) { return f.db.ReportLost(ctx, c.ID) }, "", "lost"},
			{"report lost twice", func() (*onecard.Card, error) { return f.db.ReportLost(ctx, c.ID) }, onecard.ECONFLICT, "lost"},
			{"freeze a lost card", func() (*onecard.Card, error) { return f.db.Freeze(op, c.ID, onecard.FreezeAbnormal, "stolen?") }, "", "lost"},
			{"unlock while frozen stays blocked", func() (*onecard.Card, error) { return f.db.Unlock(ctx, c.ID) }, "", "frozen"},
			{"freeze twice", func() (*onecard.Card, error) { return f.db.Freeze(op, c.ID, onecard.FreezeOperator, "") }, onecard.ECONFLICT, "frozen"},
			{"freeze with an unknown reason", func() (*onecard.Card, error) { return f.db.Freeze(op, c.ID, "whim", "") }, onecard.EINVALID, "frozen"},
			{"unfreeze", func() (*onecard.Card, error) { return f.db.Unfreeze(op, c.ID) }, "", "active"},
			{"cancel", func() (*onecard.Card, error) { return f.db.Cancel(op, c.ID) }, "", "cancelled"},
			{"cancel twice", func() (*onecard.Card, error) { return f.db.Cancel(op, c.ID) }, onecard.ECONFLICT, "cancelled"},
			{"report a cancelled card lost", func() (*onecard.Card, error) { return f.db.ReportLost(ctx, c.ID) }, onecard.ECONFLICT, "cancelled"},
			{"freeze a cancelled card", func() (*onecard.Card, error) { return f.db.Freeze(op, c.ID, onecard.FreezeOperator, "") }, onecard.ECONFLICT, "cancelled"},
			{"replace a cancelled card", func() (*onecard.Card, error) { return f.db.Replace(ctx, c.ID, "k1") }, onecard.ECONFLICT, "cancelled"},
		}
		for _, s := range steps {
			_, err := s.do()
			t.Run(s.name, func(t *testing.T) {
				wantCode(t, err, s.code)
				if got := f.card(t, c.ID).State(); got != s.state {
					t.Errorf("state = %s, want %s", got, s.state)
				}
			})
		}
		n, err := f.db.IssueCard(ctx, h.ID, "04:a2:2b:ba:5c:80")
		if err != nil {
			t.Fatal(err)
		}
		if n.UID != "04A22BBA5C80" {
			t.Errorf("UID = %q, want 04A22BBA5C80", n.UID)
		}
		cards, _ := f.db.Cards(ctx, h.ID)
		if len(cards) != 2 || cards[0].ID != n.ID {
			t.Errorf("Cards = %d cards, newest %d; want 2, newest %d", len(cards), cards[0].ID, n.ID)
		}
	})
}

func TestOneActiveCardPerCardholder(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, c, _ := f.cardholder(t)
		other, _, _ := f.cardholder(t)
		for _, tc := range []struct {
			name       string
			cardholder int64
			uid        string
			code       string
		}{
			{"a second active card", h.ID, "", onecard.ECONFLICT},
			{"another cardholder with a UID in use", other.ID, c.UID, onecard.ECONFLICT},
			{"a UID that is not hex", 999, "XYZ12345", onecard.EINVALID},
			{"an unknown cardholder", 999, "", onecard.ENOTFOUND},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.db.IssueCard(ctx, tc.cardholder, tc.uid)
				wantCode(t, err, tc.code)
			})
		}
		active, err := f.db.ActiveCard(ctx, h.ID)
		if err != nil || active.ID != c.ID {
			t.Errorf("ActiveCard = %v, %v; want card %d", active, err, c.ID)
		}
	})
}

func TestFreezeFreezesAccounts(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, c, _ := f.cardholder(t)
		frozen := func() (bool, bool) {
			p, _ := f.db.Account(ctx, h.PurseAccount)
			tr, _ := f.db.Account(ctx, h.TransitionAccount)
			return p.Frozen, tr.Frozen
		}
		if _, err := f.db.Freeze(ctx, c.ID, onecard.FreezeMismatch, "card says ¥3.00"); err != nil {
			t.Fatal(err)
		}
		if p, tr := frozen(); !p || !tr {
			t.Errorf("after Freeze accounts frozen = %v, %v; want both", p, tr)
		}
		f.deposit(t, h, 5_00) // credits still land
		if _, err := f.db.Unfreeze(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if p, tr := frozen(); p || tr {
			t.Errorf("after Unfreeze accounts frozen = %v, %v; want neither", p, tr)
		}
	})
}

func TestBlacklistVersions(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		_, c, _ := f.cardholder(t)
		_, d, _ := f.cardholder(t)
		entries, v0, err := f.db.Blacklist(ctx, f.school.ID, 0)
		if err != nil || v0 != 0 || len(entries) != 0 {
			t.Fatalf("empty blacklist = %v, %d, %v", entries, v0, err)
		}
		f.db.ReportLost(ctx, c.ID)
		f.db.Freeze(ctx, d.ID, onecard.FreezeOperator, "")
		_, v2, _ := f.db.Blacklist(ctx, f.school.ID, 0)
		f.db.Unlock(ctx, c.ID)
		f.db.Cancel(ctx, d.ID)
		for _, tc := range []struct {
			name    string
			since   int64
			want    []onecard.BlacklistEntry
			version int64
		}{
			{"everything", 0, []onecard.BlacklistEntry{
				{Version: 1, CardID: c.ID, Blocked: true, Reason: "lost"},
				{Version: 2, CardID: d.ID, Blocked: true, Reason: "operator"},
				{Version: 3, CardID: c.ID, Blocked: false, Reason: "active"},
				{Version: 4, CardID: d.ID, Blocked: true, Reason: "cancelled"},
			}, 4},
			{"the delta since version 2", v2, []onecard.BlacklistEntry{
				{Version: 3, CardID: c.ID, Blocked: false, Reason: "active"},
				{Version: 4, CardID: d.ID, Blocked: true, Reason: "cancelled"},
			}, 4},
			{"nothing new", 4, nil, 4},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, v, err := f.db.Blacklist(ctx, f.school.ID, tc.since)
				if err != nil || v != tc.version || len(got) != len(tc.want) {
					t.Fatalf("Blacklist(%d) = %d entries, version %d, %v; want %d, %d", tc.since, len(got), v, err, len(tc.want), tc.version)
				}
				for i, w := range tc.want {
					g := got[i]
					if g.Version != w.Version || g.CardID != w.CardID || g.Blocked != w.Blocked || g.Reason != w.Reason || g.UID == "" {
						t.Errorf("entry %d = %+v, want %+v", i, g, w)
					}
				}
			})
		}
		other := f.newSchool(t, "other", onecard.Settings{})
		if _, v, _ := f.db.Blacklist(ctx, other.ID, 0); v != 0 {
			t.Errorf("another school's version = %d, want 0: versions are per school", v)
		}
		_, _, err = f.db.Blacklist(ctx, 999, 0)
		wantCode(t, err, onecard.ENOTFOUND)
	})
}
