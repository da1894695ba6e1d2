package demo_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// TestKit loads the demo and checks its terminals and kit: every enabled
// terminal with the key the store holds, every card personalized by the
// school's issuer, empty, with its holder's initial PIN; a second write
// leaves the file alone, and a lost file comes back the same, re-keying
// nothing.
func TestKit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		info, err := demo.LoadPart(ctx, db, nil)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := db.Terminals(ctx, info.SchoolID)
		if err != nil {
			t.Fatal(err)
		}
		wantTerminals := 2*demo.POSPerCanteen + 4 + 2 + 2 + 1
		kinds := map[onecard.TerminalKind]int{}
		for _, term := range ts {
			kinds[term.Kind]++
		}
		if len(ts) != wantTerminals || kinds[onecard.TerminalPOS] != 2*demo.POSPerCanteen || kinds[onecard.TerminalBath] != 4 ||
			kinds[onecard.TerminalKiosk] != 2 || kinds[onecard.TerminalCash] != 2 || kinds[onecard.TerminalReplacement] != 1 {
			t.Fatalf("%d terminals: %v", len(ts), kinds)
		}

		dir := filepath.Join(t.TempDir(), "data")
		kit, data, err := demo.WriteKit(ctx, db, dir)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, demo.KitFile)
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("kit file: %v, %v", st, err)
		}
		if onDisk, _ := os.ReadFile(path); !bytes.Equal(onDisk, data) {
			t.Fatal("the file does not hold the kit WriteKit returned")
		}
		parsed, err := demo.ParseKit(data)
		if err != nil || parsed.School != demo.SchoolCode || len(parsed.Cards) != len(kit.Cards) {
			t.Fatalf("ParseKit: %v", err)
		}

		if len(kit.Terminals) != wantTerminals {
			t.Errorf("%d terminals in the kit, want %d", len(kit.Terminals), wantTerminals)
		}
		merchants := map[string]string{}
		for _, kt := range kit.Terminals {
			merchants[kt.Code] = kt.Merchant
			_, key, err := db.TerminalKey(ctx, kit.School, kt.Code)
			if err != nil || hex.EncodeToString(key) != kt.Key {
				t.Errorf("terminal %s: the kit's key is not the store's (%v)", kt.Code, err)
			}
		}
		for code, want := range map[string]string{"canteen1-pos-01": "canteen-1", "canteen2-pos-60": "canteen-2", "bath-04": "bath",
			"kiosk-01": "", "cash-02": "", "replacement-01": ""} {
			if got, ok := merchants[code]; !ok || got != want {
				t.Errorf("terminal %s: merchant %q (in kit: %v), want %q", code, got, ok, want)
			}
		}

		school, err := db.School(ctx, info.SchoolID)
		if err != nil {
			t.Fatal(err)
		}
		issuer, err := db.PurseIssuer(ctx, info.SchoolID)
		if err != nil {
			t.Fatal(err)
		}
		if len(kit.Cards) != demo.PartCardholders {
			t.Errorf("%d cards in the kit, want %d", len(kit.Cards), demo.PartCardholders)
		}
		for _, kc := range kit.Cards {
			c := kc.Card
			if c.Balance != 0 || c.OnlineCounter != 0 || c.OfflineCounter != 0 || c.Blacklisted || c.Ceiling != school.Settings.PurseCeiling ||
				c.Keys != issuer.CardKeys(c.UID) || len(kc.PIN) != 6 {
				t.Errorf("card %s: %+v, PIN %q", c.Number, c, kc.PIN)
			}
			h, err := db.CardholderByNumber(ctx, info.SchoolID, c.Number)
			if err != nil {
				t.Fatal(err)
			}
			if active, err := db.ActiveCard(ctx, h.ID); err != nil || !strings.EqualFold(active.UID, c.UID.String()) {
				t.Errorf("card %s: UID %s, the store's %v (%v)", c.Number, c.UID, active, err)
			}
			if c.Number == info.SampleNumber && kc.PIN != info.SamplePIN {
				t.Errorf("sample card: PIN %s, want the initial %s", kc.PIN, info.SamplePIN)
			}
		}

		// A restart: the same kit, the file untouched.
		if _, err := demo.LoadPart(ctx, db, nil); err != nil {
			t.Fatal(err)
		}
		if ts, _ := db.Terminals(ctx, info.SchoolID); len(ts) != wantTerminals {
			t.Errorf("%d terminals after a second load", len(ts))
		}
		_, again, err := demo.WriteKit(ctx, db, dir)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("second WriteKit: changed %v, %v", !bytes.Equal(again, data), err)
		}
		if st2, err := os.Stat(path); err != nil || !os.SameFile(st, st2) {
			t.Errorf("the second WriteKit rewrote the file")
		}

		// A lost kit comes back the same: the keys were in the store.
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if _, again, err = demo.WriteKit(ctx, db, dir); err != nil || !bytes.Equal(again, data) {
			t.Fatalf("WriteKit after the file was lost: same %v, %v", bytes.Equal(again, data), err)
		}

		// A disabled terminal leaves the kit.
		if _, err := db.SetTerminalDisabled(ctx, ts[0].ID, true); err != nil {
			t.Fatal(err)
		}
		kit, err = demo.BuildKit(ctx, db)
		if err != nil || len(kit.Terminals) != wantTerminals-1 || kit.Terminals[0].Code == ts[0].Code {
			t.Errorf("kit after disabling %s: %d terminals, %v", ts[0].Code, len(kit.Terminals), err)
		}
	})
}

// TestKitHandler: the kit goes to a client on the server's own machine
// only, asked for by a loopback name and not through a proxy.
func TestKitHandler(t *testing.T) {
	kit := []byte(`{"school":"demo"}`)
	h := demo.KitHandler(kit)
	for _, c := range []struct {
		name, method, remote, host string
		header                     [2]string
		want                       int
	}{
		{"loopback", "GET", "127.0.0.1:50000", "127.0.0.1:8080", [2]string{}, 200},
		{"loopback IPv6", "GET", "[::1]:50000", "[::1]:8080", [2]string{}, 200},
		{"localhost", "GET", "127.0.0.1:50000", "localhost:8080", [2]string{}, 200},
		{"HEAD", "HEAD", "127.0.0.1:50000", "127.0.0.1:8080", [2]string{}, 200},
		{"another machine", "GET", "192.0.2.7:50000", "127.0.0.1:8080", [2]string{}, 403},
		{"the LAN address", "GET", "10.1.2.3:50000", "10.1.2.4:8080", [2]string{}, 403},
		{"through a local proxy", "GET", "127.0.0.1:50000", "127.0.0.1:8080", [2]string{"X-Forwarded-For", "192.0.2.7"}, 403},
		{"Forwarded header", "GET", "127.0.0.1:50000", "127.0.0.1:8080", [2]string{"Forwarded", "for=192.0.2.7"}, 403},
		{"DNS rebinding", "GET", "127.0.0.1:50000", "evil.example:8080", [2]string{}, 403},
		{"POST", "POST", "127.0.0.1:50000", "127.0.0.1:8080", [2]string{}, 405},
	} {
		r := httptest.NewRequest(c.method, demo.KitPath, nil)
		r.RemoteAddr, r.Host = c.remote, c.host
		if c.header[0] != "" {
			r.Header.Set(c.header[0], c.header[1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%s: status %d, want %d", c.name, w.Code, c.want)
			continue
		}
		switch {
		case c.want == http.StatusOK && c.method == "GET" && !bytes.Equal(w.Body.Bytes(), kit):
			t.Errorf("%s: body %q", c.name, w.Body.String())
		case c.want != http.StatusOK && (strings.Contains(w.Body.String(), "school") || !strings.Contains(w.Body.String(), `"code"`)):
			t.Errorf("%s: body %q", c.name, w.Body.String())
		}
	}
}
