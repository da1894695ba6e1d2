package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// simServer serves a small demo school's kit and device API (the kiosk's
// calls included) in-process, as `serve --demo` does: loading the full
// demo hashes a thousand PINs, too slow for a test of the command line.
func simServer(t *testing.T, db *store.DB) (string, *demo.Info) {
	t.Helper()
	ctx := context.Background()
	led := ledger.New(db, ledger.Options{})
	t.Cleanup(func() { led.Close() })
	info, err := demo.LoadSample(ctx, db, led, 8)
	if err != nil {
		t.Fatal(err)
	}
	kit, err := demo.BuildKit(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(kit)
	if err != nil {
		t.Fatal(err)
	}
	devices := device.New(device.Config{Terminals: db, Cards: db, Backend: db})
	devices.HandleServices(device.Services{Schools: db, Cardholders: db, Cards: db, PINs: db, Auth: db, Banks: db, Issuer: db})
	mux := http.NewServeMux()
	mux.Handle(demo.KitPath, demo.KitHandler(data))
	mux.Handle("/device/", devices)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, info
}

// TestSimBath runs `sim bath`: refused on an empty card with the way to
// fill it, then, after `sim kiosk claim`, an insert-mode bath that charges
// only the water and a key-mode bath with two pre-debits, both accepted.
func TestSimBath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		url, info := simServer(t, db)
		state := t.TempDir()
		sim := func(args ...string) (int, string) {
			t.Helper()
			code, out, errOut := mainIn(t, envOf(), append([]string{"sim", args[0], "--server", url, "--state", state,
				"--card", info.SampleNumber}, args[1:]...)...)
			return code, out + errOut
		}
		if code, out := sim("bath"); code != exitFailure || !strings.Contains(out, "has nothing on it") ||
			!strings.Contains(out, "claim") {
			t.Fatalf("bath on an empty card: exit %d\n%s", code, out)
		}
		if code, out := sim("kiosk", "claim"); code != exitOK || !strings.Contains(out, "claimed") {
			t.Fatalf("kiosk claim: exit %d\n%s", code, out)
		}
		code, out := sim("bath", "--terminal", "bath-02", "--litres", "20")
		for _, want := range []string{"insert mode, ¥0.03 per litre", "pre-debit       ¥1.00", "used            ¥0.60",
			"written back    ¥0.40", "record          compound, seq 1", "upload          accepted"} {
			if code != exitOK || !strings.Contains(out, want) {
				t.Fatalf("insert bath: exit %d, lacks %q\n%s", code, want, out)
			}
		}
		code, out = sim("bath", "--terminal", "bath-02", "--mode", "key", "--seconds", "150", "--price", "1")
		for _, want := range []string{"key mode, ¥0.01 per second", "pre-debit 2", "150 second(s)", "used            ¥1.50",
			"written back    ¥0.50", "seq 2", "upload          accepted"} {
			if code != exitOK || !strings.Contains(out, want) {
				t.Fatalf("key bath: exit %d, lacks %q\n%s", code, want, out)
			}
		}
	})
}
