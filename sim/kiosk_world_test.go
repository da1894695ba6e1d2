package sim

import (
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/demo"
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

// newServicesWorld is newWorld with one more cardholder, bankHolderNumber,
// whose name and ID number the test knows (the kit does not carry them).
func newServicesWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	return newWorld(t, db, func(info *demo.Info) {
		h, err := db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: info.SchoolID, Number: bankHolderNumber,
			Name: bankHolderName, Kind: onecard.Student, IDType: onecard.IDCard, IDNumber: bankHolderID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.IssueCard(ctx, h.ID, ""); err != nil {
			t.Fatal(err)
		}
	})
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
