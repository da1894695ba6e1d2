// Package demo loads a demo school into a store: two campuses, five
// merchants with their terminals, and 1,000 cardholders with Chinese names,
// resident ID numbers with correct check digits, phones, issued cards and
// cash deposits. The people are generated from a fixed seed, so every load
// creates the same ones and the docs can cite a sample cardholder and their
// initial PIN.
//
// `onecard serve --demo` calls Load, then WriteKit for `onecard sim` (kit.go);
// tests and benchmarks may call Load too.
package demo

import (
	"context"
	"fmt"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
)

// School identifies the demo school.
const (
	SchoolCode = "demo"
	SchoolName = "OneCard Demo University 演示大学"
)

// OperatorUsername is the administrator `onecard serve` bootstraps; the demo
// creates no operator of its own, so that no password is ever fixed in code.
const OperatorUsername = store.AdminUsername

// Info says what the demo holds and how to log in.
type Info struct {
	SchoolID    int64
	SchoolCode  string
	SchoolName  string
	Campuses    int
	Merchants   int
	Cardholders int
	// Loaded is true when this call created (or completed) the data, false
	// when it was all there already.
	Loaded bool
	// The sample cardholder: a student whose query PIN is still the initial
	// one derived from their ID number.
	SampleNumber string
	SampleName   string
	SamplePIN    string
	// Operator is the username of the administrator; its password is the one
	// printed at first start or ONECARD_ADMIN_PASSWORD.
	Operator string
}

// merchantSpec is a demo merchant and the campus it is on.
type merchantSpec struct {
	code, name, kind, campus string
}

var merchants = []merchantSpec{
	{"canteen-1", "第一食堂 First Canteen", "canteen", campusNorth},
	{"canteen-2", "第二食堂 Second Canteen", "canteen", campusSouth},
	{"bath", "学生浴室 Bath House", "bath", campusSouth},
	{"network", "网络信息中心 Network Center", "network", campusNorth},
	{"card-center", "一卡通服务中心 Card Center", "card_center", campusNorth},
}

// Load creates the demo school in db, or completes a load that was cut off,
// and returns how to log in. It is idempotent: once everything is there it
// only reads. Deposits go through led as one batch (one commit) so that they
// take a moment, not a thousand fsyncs; with a nil led Load runs a ledger of
// its own for them.
func Load(ctx context.Context, db *store.DB, led ledger.Submitter) (*Info, error) {
	return load(ctx, db, led, people())
}

// load is Load of a given roster; tests load a part of it, since hashing
// a thousand PINs under the race detector takes most of a minute.
func load(ctx context.Context, db *store.DB, led ledger.Submitter, ps []person) (*Info, error) {
	school, err := ensureSchool(ctx, db)
	if err != nil {
		return nil, err
	}
	info := &Info{SchoolID: school.ID, SchoolCode: school.Code, SchoolName: school.Name, Campuses: len(school.Campuses),
		Merchants: len(merchants), Cardholders: len(ps), Operator: OperatorUsername,
		SampleNumber: ps[0].Number, SampleName: ps[0].Name,
		SamplePIN: onecard.InitialPIN(school.Settings.InitialPIN, ps[0].IDNumber)}

	// The deposits are the last step and one atomic batch: if the last one
	// is stored, everything before it is too. Terminals came later than the
	// rest of the demo: a school loaded before them gets them now.
	if _, err := db.TransferByKey(ctx, depositKey(ps[len(ps)-1])); err == nil {
		return info, ensureTerminals(ctx, db, school)
	} else if onecard.ErrorCode(err) != onecard.ENOTFOUND {
		return nil, fmt.Errorf("demo: %w", err)
	}
	info.Loaded = true
	campuses := map[string]int64{}
	for _, c := range school.Campuses {
		campuses[c.Name] = c.ID
	}
	if err := ensureMerchants(ctx, db, school.ID, campuses); err != nil {
		return nil, err
	}
	if err := ensureTerminals(ctx, db, school); err != nil {
		return nil, err
	}
	holders, err := ensureCardholders(ctx, db, school.ID, campuses, ps)
	if err != nil {
		return nil, err
	}
	if err := ensureCards(ctx, db, ps, holders); err != nil {
		return nil, err
	}
	if led == nil {
		l := ledger.New(db, ledger.Options{})
		defer l.Close()
		led = l
	}
	if err := deposit(ctx, db, led, school.ID, ps, holders); err != nil {
		return nil, err
	}
	return info, nil
}

// ensureSchool returns the demo school, creating it with default settings
// and its two campuses if needed.
func ensureSchool(ctx context.Context, db *store.DB) (*onecard.School, error) {
	s, err := db.SchoolByCode(ctx, SchoolCode)
	if err == nil {
		return s, nil
	} else if onecard.ErrorCode(err) != onecard.ENOTFOUND {
		return nil, fmt.Errorf("demo: %w", err)
	}
	s = &onecard.School{Code: SchoolCode, Name: SchoolName,
		Campuses: []onecard.Campus{{Name: campusNorth}, {Name: campusSouth}}}
	if err := db.CreateSchool(ctx, s); err != nil {
		return nil, fmt.Errorf("demo: unable to create the school: %w", err)
	}
	return s, nil
}

// ensureMerchants creates the merchants the school does not have yet.
func ensureMerchants(ctx context.Context, db *store.DB, schoolID int64, campuses map[string]int64) error {
	have, err := db.Merchants(ctx, schoolID)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	codes := map[string]bool{}
	for _, m := range have {
		codes[m.Code] = true
	}
	for _, spec := range merchants {
		if codes[spec.code] {
			continue
		}
		m := &onecard.Merchant{SchoolID: schoolID, CampusID: campuses[spec.campus], Code: spec.code, Name: spec.name, Kind: spec.kind}
		if err := db.CreateMerchant(ctx, m); err != nil {
			return fmt.Errorf("demo: unable to create merchant %s: %w", spec.code, err)
		}
	}
	return nil
}

// ensureCardholders registers the people not registered yet, in one batch,
// and returns every demo cardholder by card number.
func ensureCardholders(ctx context.Context, db *store.DB, schoolID int64, campuses map[string]int64, ps []person) (map[string]*onecard.Cardholder, error) {
	holders := map[string]*onecard.Cardholder{}
	for offset := 0; ; offset += 500 {
		page, total, err := db.FindCardholders(ctx, onecard.CardholderFilter{SchoolID: schoolID, Offset: offset, Limit: 500})
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		for _, h := range page {
			holders[h.Number] = h
		}
		if len(page) == 0 || offset+len(page) >= total {
			break
		}
	}
	var missing []*onecard.NewCardholder
	for _, p := range ps {
		n := p.NewCardholder // a copy: Validate normalises in place
		n.SchoolID, n.CampusID = schoolID, campuses[p.campus]
		if holders[normalized(p)] == nil {
			missing = append(missing, &n)
		}
	}
	if len(missing) == 0 {
		return holders, nil
	}
	created, err := db.CreateCardholders(ctx, missing)
	if err != nil {
		return nil, fmt.Errorf("demo: unable to create cardholders: %w", err)
	}
	for _, h := range created {
		holders[h.Number] = h
	}
	return holders, nil
}

// ensureCards issues a card to every demo cardholder without an active one,
// in roster order so that card IDs follow cardholder IDs.
func ensureCards(ctx context.Context, db *store.DB, ps []person, holders map[string]*onecard.Cardholder) error {
	for _, p := range ps {
		h := holders[normalized(p)]
		_, err := db.ActiveCard(ctx, h.ID)
		if err == nil {
			continue
		} else if onecard.ErrorCode(err) != onecard.ENOTFOUND {
			return fmt.Errorf("demo: %w", err)
		}
		if _, err := db.IssueCard(ctx, h.ID, ""); err != nil {
			return fmt.Errorf("demo: unable to issue a card to %s: %w", h.Number, err)
		}
	}
	return nil
}

// deposit credits each person's first cash deposit from the school's cash
// account to their transition balance, as the counter would, in one batch.
func deposit(ctx context.Context, db *store.DB, led ledger.Submitter, schoolID int64, ps []person, holders map[string]*onecard.Cardholder) error {
	cash, err := db.SystemAccount(ctx, schoolID, store.KindCash)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	var req []ledger.Transfer
	for _, p := range ps {
		if p.deposit == 0 {
			continue
		}
		h := holders[normalized(p)]
		req = append(req, ledger.Transfer{Key: depositKey(p), Debit: cash, Credit: h.TransitionAccount,
			Amount: p.deposit, Code: "deposit", Memo: "cash deposit"})
	}
	out, err := led.Submit(ctx, req)
	if err != nil {
		return fmt.Errorf("demo: unable to deposit: %w", err)
	}
	for i, o := range out {
		if !o.Result.Done() {
			return fmt.Errorf("demo: deposit %s refused: %s", req[i].Key, o.Result)
		}
	}
	return nil
}

// depositKey is the idempotency key of a person's demo deposit. The last
// person always has a deposit (visitors all do), which Load relies on.
func depositKey(p person) string {
	return "demo:deposit:" + p.Number
}

// normalized is a person's card number as stored (SN:000101 becomes 101).
// The roster's numbers are all valid, which TestPeople checks.
func normalized(p person) string {
	num, _ := onecard.NormalizeCardNumber(p.Number)
	return num
}
