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

// newWorld loads a small demo into db and serves it on loopback. It skips
// the test while the store does not serve the device API's purse calls.
func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	backend, ok := any(db).(device.Backend)
	if !ok {
		t.Skip("the device backend is not there yet: *store.DB does not implement device.Backend")
	}
	led := ledger.New(db, ledger.Options{})
	t.Cleanup(func() { led.Close() })
	info, err := demo.LoadSample(ctx, db, led, sampleStudents)
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
	mux := http.NewServeMux()
	mux.Handle(demo.KitPath, demo.KitHandler(data))
	mux.Handle("/device/", device.New(device.Config{Terminals: db, Cards: db, Backend: backend}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	resp, err := http.Post(srv.URL+"/device/v1/taps", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		t.Skip("the device backend is not there yet: POST /device/v1/taps answers 404")
	}
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
