package store_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
)

func TestTerminalRegistrationAndKeys(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		pos := &onecard.Terminal{SchoolID: f.school.ID, MerchantID: f.canteen.ID, Kind: onecard.TerminalPOS, Code: "Canteen1-POS-01", Name: "一食堂 1号机"}
		key, err := f.db.CreateTerminal(ctx, pos)
		if err != nil || len(key) != 32 || pos.Code != "canteen1-pos-01" {
			t.Fatalf("create: key %d bytes, code %q, err %v", len(key), pos.Code, err)
		}
		got, gotKey, err := f.db.TerminalKey(ctx, "NANKAI", "canteen1-pos-01")
		if err != nil || got.ID != pos.ID || !bytes.Equal(gotKey, key) {
			t.Fatalf("terminal key: %v %v, want the key handed out at creation", got, err)
		}
		for _, c := range []struct {
			name string
			t    onecard.Terminal
			code string
		}{
			{"code taken", onecard.Terminal{SchoolID: f.school.ID, Kind: onecard.TerminalPOS, Code: "canteen1-pos-01", Name: "x"}, onecard.ECONFLICT},
			{"unknown kind", onecard.Terminal{SchoolID: f.school.ID, Kind: "atm", Code: "atm-1", Name: "x"}, onecard.EINVALID},
			{"bad code", onecard.Terminal{SchoolID: f.school.ID, Kind: onecard.TerminalPOS, Code: "a b", Name: "x"}, onecard.EINVALID},
			{"no name", onecard.Terminal{SchoolID: f.school.ID, Kind: onecard.TerminalPOS, Code: "pos-2"}, onecard.EINVALID},
			{"unknown school", onecard.Terminal{SchoolID: 999, Kind: onecard.TerminalPOS, Code: "pos-3", Name: "x"}, onecard.ENOTFOUND},
			{"merchant of no school", onecard.Terminal{SchoolID: f.school.ID, MerchantID: 999, Kind: onecard.TerminalPOS, Code: "pos-4", Name: "x"}, onecard.ENOTFOUND},
		} {
			if _, err := f.db.CreateTerminal(ctx, &c.t); onecard.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		if _, err := f.db.SetTerminalDisabled(ctx, pos.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.db.TerminalKey(ctx, "nankai", "canteen1-pos-01"); onecard.ErrorCode(err) != onecard.EUNAUTHORIZED {
			t.Errorf("disabled terminal: %v, want unauthorized", err)
		}
		if _, _, err := f.db.TerminalKey(ctx, "nankai", "nope"); onecard.ErrorCode(err) != onecard.EUNAUTHORIZED {
			t.Errorf("unknown terminal: %v, want unauthorized", err)
		}
	})
}

func TestNonceIsUsedOnce(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		pos := &onecard.Terminal{SchoolID: f.school.ID, Kind: onecard.TerminalPOS, Code: "pos-1", Name: "POS"}
		if _, err := f.db.CreateTerminal(ctx, pos); err != nil {
			t.Fatal(err)
		}
		const nonce = "0123456789abcdef0123"
		if err := f.db.UseNonce(ctx, pos.ID, nonce, 5*time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := f.db.UseNonce(ctx, pos.ID, nonce, 5*time.Minute); onecard.ErrorCode(err) != onecard.ECONFLICT {
			t.Errorf("replayed nonce: %v, want conflict", err)
		}
		if err := f.db.UseNonce(ctx, pos.ID, "short", 5*time.Minute); onecard.ErrorCode(err) != onecard.EINVALID {
			t.Errorf("short nonce: %v, want invalid", err)
		}
		if got, _ := f.db.Terminal(ctx, pos.ID); got.LastSeenAt == nil {
			t.Error("a signed request should update last_seen_at")
		}
	})
}
