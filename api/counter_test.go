package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestCardLifecycleAtTheCounter(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		s := e.school()
		p := e.cardholder(s)
		e.deposit(p, 20_00)
		base := fmt.Sprintf("/api/v1/cards/%d", p.CardID)
		var c struct {
			ID         int64
			State      string
			Message    string
			ReplacedBy int64 `json:"replaced_by"`
		}
		e.ok(200, "POST", base+"/freeze", e.admin, map[string]string{"reason": "abnormal", "note": "checked ID"}, &c)
		if c.State != "frozen" || !strings.Contains(c.Message, "service hall") {
			t.Errorf("frozen card: %+v", c)
		}
		e.do("POST", base+"/freeze", e.admin, map[string]string{"reason": "boredom"}).wantError(t, 400, onecard.EINVALID)
		e.ok(200, "POST", base+"/unfreeze", e.admin, nil, &c)
		e.do("POST", base+"/unfreeze", e.admin, nil).wantError(t, 409, onecard.ECONFLICT)
		e.do("POST", fmt.Sprintf("/api/v1/cardholders/%d/cards", p.ID), e.admin, map[string]string{}).wantError(t, 409, onecard.ECONFLICT)

		var fresh struct {
			ID    int64
			State string
		}
		e.ok(200, "POST", base+"/replace", e.admin, map[string]string{"key": "replace-1"}, &fresh)
		var again struct{ ID int64 }
		e.ok(200, "POST", base+"/replace", e.admin, map[string]string{"key": "replace-1"}, &again)
		if fresh.ID == p.CardID || again.ID != fresh.ID || fresh.State != "active" {
			t.Errorf("replace: new %+v, retry %+v", fresh, again)
		}
		if e.cardState(p.CardID) != "cancelled" {
			t.Error("the replaced card is not cancelled")
		}
		if got := e.balance(p).Total; got != 20_00-s.Settings.ReplacementFee {
			t.Errorf("balance %d after replacement, want the fee charged once", got)
		}
		var cards struct{ Items []struct{ ID int64 } }
		e.ok(200, "GET", fmt.Sprintf("/api/v1/cardholders/%d/cards", p.ID), e.admin, nil, &cards)
		if len(cards.Items) != 2 {
			t.Errorf("cards: %+v", cards.Items)
		}
		var bl struct {
			Entries []onecard.BlacklistEntry
			Version int64
		}
		e.ok(200, "GET", fmt.Sprintf("/api/v1/schools/%d/blacklist", s.ID), e.admin, nil, &bl)
		if bl.Version == 0 || len(bl.Entries) == 0 {
			t.Errorf("blacklist: %+v", bl)
		}
		var detail struct {
			Card struct{ ID int64 }
		}
		e.ok(200, "GET", fmt.Sprintf("/api/v1/cardholders/%d", p.ID), e.admin, nil, &detail)
		if detail.Card.ID != fresh.ID {
			t.Errorf("active card %d, want %d", detail.Card.ID, fresh.ID)
		}
	})
}

func TestCardholdersAtTheCounter(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		s := e.school()
		path := fmt.Sprintf("/api/v1/schools/%d/cardholders", s.ID)
		var ch onecard.Cardholder
		e.ok(201, "POST", path, e.admin, map[string]any{"number": "SN:000999", "name": " 访客 ", "kind": "visitor", "id_number": "11010519491231002x"}, &ch)
		if ch.Number != "999" || ch.IDMasked == "" || strings.Contains(string(mustJSON(ch)), "11010519491231002") {
			t.Errorf("registered %+v", ch)
		}
		e.do("POST", path, e.admin, map[string]any{"number": "999", "name": "Dup", "kind": "visitor", "id_number": "110105194912310021"}).
			wantError(t, 409, onecard.ECONFLICT)
		e.do("POST", path, e.admin, map[string]any{"number": "1000", "name": "Bad", "kind": "visitor", "id_number": "12345"}).
			wantError(t, 400, onecard.EINVALID)

		var list struct {
			Items []onecard.Cardholder
			Total int
		}
		e.ok(200, "GET", path+"?q=99&limit=10", e.admin, nil, &list)
		if list.Total != 1 || len(list.Items) != 1 {
			t.Errorf("find: %+v", list)
		}
		e.ok(200, "PUT", fmt.Sprintf("/api/v1/cardholders/%d/phone", ch.ID), e.admin, map[string]string{"phone": "13800138000"}, &ch)
		if ch.Phone != "13800138000" {
			t.Errorf("phone %q", ch.Phone)
		}
		e.ok(200, "PUT", fmt.Sprintf("/api/v1/cardholders/%d/status", ch.ID), e.admin, map[string]string{"status": "graduated"}, &ch)
		if ch.Status != onecard.CardholderGraduated {
			t.Errorf("status %q", ch.Status)
		}
		var detail struct {
			Card *struct{} `json:"card"`
		}
		e.ok(200, "GET", fmt.Sprintf("/api/v1/cardholders/%d", ch.ID), e.admin, nil, &detail)
		if detail.Card != nil {
			t.Error("a cardholder without a card shows one")
		}
		e.do("GET", "/api/v1/cardholders/999999", e.admin, nil).wantError(t, 404, onecard.ENOTFOUND)
	})
}

func TestSchoolsAndSettings(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		var sc onecard.School
		settings := onecard.DefaultSettings()
		settings.ReplacementFee = 20_00
		e.ok(201, "POST", "/api/v1/schools", e.admin, map[string]any{"code": "tju", "name": "天津大学", "settings": settings,
			"campuses": []map[string]string{{"name": "卫津路"}, {"name": "北洋园"}}}, &sc)
		if len(sc.Campuses) != 2 || sc.Settings.ReplacementFee != 20_00 {
			t.Errorf("school %+v", sc)
		}
		e.do("POST", "/api/v1/schools", e.admin, map[string]any{"code": "tju", "name": "Again"}).wantError(t, 409, onecard.ECONFLICT)

		path := fmt.Sprintf("/api/v1/schools/%d/settings", sc.ID)
		settings.PINLockout = onecard.Duration(0)
		settings.DailyLimit = 1 // below the single limit
		e.do("PUT", path, e.admin, settings).wantError(t, 400, onecard.EINVALID)
		e.do("PUT", path, e.admin, `{"time_zone":"Asia/Shanghai"}`).wantError(t, 400, onecard.EINVALID)
		settings = onecard.DefaultSettings()
		settings.PINMaxAttempts = 3
		e.ok(200, "PUT", path, e.admin, settings, &sc)
		if sc.Settings.PINMaxAttempts != 3 || !strings.Contains(string(e.do("GET", fmt.Sprintf("/api/v1/schools/%d", sc.ID), e.admin, nil).body), `"pin_lockout":"30m0s"`) {
			t.Errorf("settings after update: %+v", sc.Settings)
		}
		e.ok(201, "POST", fmt.Sprintf("/api/v1/schools/%d/campuses", sc.ID), e.admin, map[string]string{"name": "滨海"}, nil)
		e.do("GET", "/api/v1/schools/424242", e.admin, nil).wantError(t, 404, onecard.ENOTFOUND)
	})
}
