package sim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
)

// sampleStudents is how many students the tests' demo has, with the
// eight visitors.
const sampleStudents = 24

// world is a small demo school served in-process as `serve --demo` serves
// it: the device API and the kit.
type world struct {
	db   *store.DB
	info *demo.Info
	url  string
}

// newWorld loads a small demo into db, runs the setup steps (more
// cardholders, say) before the kit is built, and serves the device API
// and the kit on loopback as `serve --demo` does.
func newWorld(t *testing.T, db *store.DB, setup ...func(info *demo.Info)) *world {
	t.Helper()
	led := ledger.New(db, ledger.Options{})
	t.Cleanup(func() { led.Close() })
	info, err := demo.LoadSample(ctx, db, led, sampleStudents)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(info)
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
	return &world{db: db, info: info, url: srv.URL}
}

// open opens a fresh simulator state on the world's server.
func (w *world) open(t *testing.T) *State {
	t.Helper()
	st, err := Open(ctx, w.url, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// merchantsReceived sums the balances of the school's merchant accounts.
func (w *world) merchantsReceived(t *testing.T) int64 {
	t.Helper()
	ms, err := w.db.Merchants(ctx, w.info.SchoolID)
	if err != nil {
		t.Fatal(err)
	}
	sum := int64(0)
	for _, m := range ms {
		a, err := w.db.Account(ctx, m.Account)
		if err != nil {
			t.Fatal(err)
		}
		sum += a.Balance
	}
	return sum
}

// checkLedger runs the ledger check `onecard check` runs.
func (w *world) checkLedger(t *testing.T) {
	t.Helper()
	err := w.db.Audit(ctx, func(a ledger.Auditor) error {
		rep, err := ledger.Check(ctx, a)
		if err == nil && !rep.OK() {
			t.Errorf("ledger check: %v", rep.Violations)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
