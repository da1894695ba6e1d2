package sim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
)

// The cardholder the kiosk tests add to the demo: the demo's own people's
// ID numbers are not in the kit, and a bank binding needs one.
const (
	bankHolderNumber = "2025099999"
	bankHolderName   = "王小明"
	bankHolderID     = "11010519900307123X"
	bankCardNumber   = "6222 0200 0000 0000 018"
)

// newServicesWorld is newWorld with the kiosk's calls served too, as
// serve mounts them, and one more cardholder, bankHolderNumber, whose
// name and ID number the test knows.
func newServicesWorld(t *testing.T, db *store.DB) *world {
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
	h, err := db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: info.SchoolID, Number: bankHolderNumber,
		Name: bankHolderName, Kind: onecard.Student, IDType: onecard.IDCard, IDNumber: bankHolderID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.IssueCard(ctx, h.ID, ""); err != nil {
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
	devices := device.New(device.Config{Terminals: db, Cards: db, Backend: backend})
	devices.HandleServices(device.Services{Schools: db, Cardholders: db, Cards: db, PINs: db, Auth: db, Banks: db, Issuer: db})
	mux := http.NewServeMux()
	mux.Handle(demo.KitPath, demo.KitHandler(data))
	mux.Handle("/device/", devices)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &world{db: db, info: info, url: srv.URL}
}

// initialPIN is a cardholder's initial PIN under the demo school's rule.
func (w *world) initialPIN(t *testing.T, idNumber string) string {
	t.Helper()
	s, err := w.db.School(ctx, w.info.SchoolID)
	if err != nil {
		t.Fatal(err)
	}
	return onecard.InitialPIN(s.Settings.InitialPIN, idNumber)
}
