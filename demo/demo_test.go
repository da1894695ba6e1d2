package demo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// TestLoad loads the demo twice on each store: the first load completes
// what an interrupted one left (the school and one merchant), the second
// finds everything there, and the sample credentials log in. It loads part
// of the roster; the end-to-end test of `onecard serve --demo` loads it all.
func TestLoad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := &onecard.School{Code: demo.SchoolCode, Name: demo.SchoolName, Campuses: []onecard.Campus{{Name: "八里台校区"}, {Name: "津南校区"}}}
		if err := db.CreateSchool(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateMerchant(ctx, &onecard.Merchant{SchoolID: s.ID, Code: "bath", Name: "Bath", Kind: "bath"}); err != nil {
			t.Fatal(err)
		}

		// Without a ledger Load runs its own; the second call gets one and
		// must not need it.
		info, err := demo.LoadPart(ctx, db, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !info.Loaded || info.SchoolCode != "demo" || info.Cardholders != demo.PartCardholders || info.Campuses != 2 || info.Merchants != 5 {
			t.Fatalf("first load: %+v", info)
		}
		led := ledger.New(db, ledger.Options{})
		defer led.Close()
		again, err := demo.LoadPart(ctx, db, led)
		if err != nil {
			t.Fatal(err)
		}
		if again.Loaded || *again != (demo.Info{SchoolID: info.SchoolID, SchoolCode: info.SchoolCode, SchoolName: info.SchoolName,
			Campuses: 2, Merchants: 5, Cardholders: info.Cardholders, SampleNumber: info.SampleNumber, SampleName: info.SampleName,
			SamplePIN: info.SamplePIN, Operator: "admin"}) {
			t.Fatalf("second load: %+v, first %+v", again, info)
		}

		schools, err := db.Schools(ctx)
		if err != nil || len(schools) != 1 {
			t.Fatalf("schools after two loads: %d, %v", len(schools), err)
		}
		_, total, err := db.FindCardholders(ctx, onecard.CardholderFilter{SchoolID: info.SchoolID, Limit: 1})
		if err != nil || total != demo.PartCardholders {
			t.Fatalf("cardholders: %d, %v", total, err)
		}
		ms, err := db.Merchants(ctx, info.SchoolID)
		if err != nil || len(ms) != 5 {
			t.Fatalf("merchants: %d, %v", len(ms), err)
		}

		sess, err := db.LoginCardholder(ctx, info.SchoolCode, info.SampleNumber, info.SamplePIN)
		if err != nil {
			t.Fatalf("sample login %s/%s: %v", info.SampleNumber, info.SamplePIN, err)
		}
		bal, err := db.Balance(ctx, sess.Cardholder.ID)
		if err != nil || bal.Total <= 0 || bal.Transition != bal.Total {
			t.Fatalf("sample balance %+v, %v", bal, err)
		}
		if _, err := db.ActiveCard(ctx, sess.Cardholder.ID); err != nil {
			t.Fatalf("sample card: %v", err)
		}

		// Seed 002's visitor numbers: SN:000101 is stored as 101, F000105 as is.
		for _, n := range []string{"101", "SN:000101", "F000105"} {
			if _, err := db.CardholderByNumber(ctx, info.SchoolID, n); err != nil {
				t.Errorf("visitor %s: %v", n, err)
			}
		}

		err = db.Audit(ctx, func(a ledger.Auditor) error {
			rep, err := ledger.Check(ctx, a)
			if err == nil && !rep.OK() {
				t.Errorf("ledger check: %v", rep.Violations)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestIDCheckDigit(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"11010519491231002X", true}, // the standard's own example
		{"440524188001010014", true},
		{"110105194912310021", false},
		{"11010519491231002x", false}, // lower-case x is not what the card centre stores
		{"1101051949123100", false},
		{"A1010519491231002X", false},
	} {
		if got := demo.ValidIDNumber(tc.id); got != tc.want {
			t.Errorf("ValidIDNumber(%s) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

// TestPeople checks the generated roster without a database: what the docs
// promise about it.
func TestPeople(t *testing.T) {
	ps := demo.People()
	if len(ps) != demo.Cardholders {
		t.Fatalf("%d people", len(ps))
	}
	kinds := map[onecard.CardholderKind]int{}
	numbers := map[string]bool{}
	var withX, visitorsSN, visitorsF, passports int
	for _, n := range ps {
		kinds[n.Kind]++
		num, err := onecard.NormalizeCardNumber(n.Number)
		if err != nil || numbers[num] {
			t.Fatalf("card number %q: duplicate or %v", n.Number, err)
		}
		numbers[num] = true
		if n.Kind == onecard.Student && len(n.Number) != 10 {
			t.Errorf("student number %q is not ten digits", n.Number)
		}
		switch {
		case strings.HasPrefix(n.Number, "SN:"):
			visitorsSN++
		case strings.HasPrefix(n.Number, "F"):
			visitorsF++
		}
		if n.IDType == onecard.Passport {
			passports++
			continue
		}
		if !demo.ValidIDNumber(n.IDNumber) {
			t.Errorf("%s: ID %s has a wrong check digit", n.Number, n.IDNumber)
		}
		if strings.HasSuffix(n.IDNumber, "X") {
			withX++
		}
		c := n
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", n.Number, err)
		}
	}
	if kinds[onecard.Student] < 900 || kinds[onecard.Staff] == 0 || kinds[onecard.Visitor] == 0 {
		t.Errorf("kinds: %v", kinds)
	}
	if withX < 20 || visitorsSN == 0 || visitorsF == 0 || passports != 1 {
		t.Errorf("%d IDs end in X, %d SN visitors, %d F visitors, %d passports", withX, visitorsSN, visitorsF, passports)
	}
	// The same seed gives the same people, so the docs can cite the sample.
	if again := demo.People(); again[0] != ps[0] || again[len(again)-1] != ps[len(ps)-1] {
		t.Errorf("People is not deterministic: %+v vs %+v", again[0], ps[0])
	}
}
