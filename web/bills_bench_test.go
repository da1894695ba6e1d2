package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
	"github.com/onecard-campus/onecard/web"
)

// The page benchmarks run the whole handler (session cookie, services,
// templates) on an SQLite store of a school with a year of transactions:
//
//	go test -run '^$' -bench 'Page' ./web/
//
// The school has benchOthers cardholders besides the one who is logged in,
// 14 merchants with two POS each on two campuses, and 100,000 transfers in
// 2026. The cardholder has about 300 lines in November 2026 (a claim onto
// the card, eight POS purchases and an Alipay code payment a day) and four
// purchases a day in the other months.
const (
	benchTransfers = 100_000
	benchOthers    = 2_000
)

var benchLoc = onecard.DefaultSettings().Location()

// benchWorld is a seeded store behind the web app, and a session.
type benchWorld struct {
	app    http.Handler
	cookie *http.Cookie
}

func BenchmarkBillsPage(b *testing.B) {
	w := newBenchWorld(b)
	w.run(b, "/app/bills?month=2026-11", `class="bill `, 50)
}

func BenchmarkBillsYearPage(b *testing.B) {
	w := newBenchWorld(b)
	w.run(b, "/app/bills/year?year=2026", `class="chart-row"`, 12)
}

func BenchmarkHomePage(b *testing.B) {
	w := newBenchWorld(b)
	w.run(b, "/app", `id="balance-total"`, 1)
}

// run serves path until the benchmark ends; the first answer must hold
// want n times.
func (w *benchWorld) run(b *testing.B, path, want string, n int) {
	b.Helper()
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(w.cookie)
		rec := httptest.NewRecorder()
		w.app.ServeHTTP(rec, req)
		return rec
	}
	if rec := get(); rec.Code != http.StatusOK || strings.Count(rec.Body.String(), want) != n {
		b.Fatalf("%s: %d, %d × %q, want %d\n%s", path, rec.Code, strings.Count(rec.Body.String(), want), want, n, rec.Body.String())
	}
	b.ReportAllocs()
	for b.Loop() {
		if rec := get(); rec.Code != http.StatusOK {
			b.Fatalf("%s: %d", path, rec.Code)
		}
	}
}

// benchSeeder books the year.
type benchSeeder struct {
	b         *testing.B
	db        *store.DB
	clock     *storetest.Clock
	rng       *rand.Rand
	school    *onecard.School
	merchants []*onecard.Merchant
	terminals [][]*onecard.Terminal // by merchant
	seq       map[int64]int         // terminal sequence
	booked    int
}

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := storetest.NewClock(time.Date(2026, 1, 1, 6, 0, 0, 0, benchLoc))
	db := storetest.Open(b, store.SQLite, store.Options{Now: clock.Now, Logger: quiet})
	s := &benchSeeder{b: b, db: db, clock: clock, rng: rand.New(rand.NewPCG(2026, 11)), seq: map[int64]int{}}
	s.school = &onecard.School{Code: "nankai", Name: "南开大学", Campuses: []onecard.Campus{{Name: "八里台"}, {Name: "津南"}}}
	if err := db.CreateSchool(ctx, s.school); err != nil {
		b.Fatal(err)
	}
	for i := range 14 {
		kind, name := "canteen", fmt.Sprintf("第%d食堂", i+1)
		if i >= 10 {
			kind, name = "shop", fmt.Sprintf("教育超市%d", i-9)
		}
		m := &onecard.Merchant{SchoolID: s.school.ID, CampusID: s.school.Campuses[i%2].ID, Code: fmt.Sprintf("m%d", i), Name: name, Kind: kind}
		if err := db.CreateMerchant(ctx, m); err != nil {
			b.Fatal(err)
		}
		s.merchants = append(s.merchants, m)
		var ts []*onecard.Terminal
		for j := range 2 {
			t := &onecard.Terminal{SchoolID: s.school.ID, CampusID: m.CampusID, MerchantID: m.ID, Kind: onecard.TerminalPOS,
				Code: fmt.Sprintf("pos-%d-%d", i, j), Name: fmt.Sprintf("%d号窗口", j+1)}
			if _, err := db.CreateTerminal(ctx, t); err != nil {
				b.Fatal(err)
			}
			ts = append(ts, t)
		}
		s.terminals = append(s.terminals, ts)
	}
	h, err := db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: s.school.ID, Number: "20250001", Name: "王小明",
		Kind: onecard.Student, IDNumber: "110105199000000010", Phone: "13800000001"})
	if err != nil {
		b.Fatal(err)
	}
	card, err := db.IssueCard(ctx, h.ID, "")
	if err != nil {
		b.Fatal(err)
	}
	others := s.others()
	lines := s.year(h, card, others)

	cfg := web.Config{Schools: db, Cardholders: db, Cards: db, PINs: db, Auth: db, Money: db, Merchants: db, Banks: db,
		PaymentStore: db, Bills: db, Logger: quiet, Now: func() time.Time { return time.Date(2026, 11, 30, 21, 0, 0, 0, benchLoc) }}
	w := &benchWorld{app: web.New(cfg)}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"school": {"nankai"}, "number": {h.Number},
		"pin": {onecard.InitialPIN(onecard.PINLastSixDigits, "110105199000000010")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	w.app.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Value != "" {
			w.cookie = c
		}
	}
	if w.cookie == nil {
		b.Fatalf("login: %d %s", rec.Code, rec.Body.String())
	}
	b.Logf("seeded %d transfers, %d cardholders; %d lines in November", s.booked, benchOthers+1, lines)
	return w
}

// others registers the other cardholders straight into the tables (the
// service would hash two PINs for each) and opens their accounts.
func (s *benchSeeder) others() [][2]int64 {
	var accounts [][2]int64
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		for range benchOthers {
			var a [2]int64
			var err error
			if a[0], err = tx.CreateAccount(ctx, store.AccountSpec{SchoolID: s.school.ID, Kind: store.KindPurse, Floor: 0, Ceiling: 1000_00}); err != nil {
				return err
			}
			if a[1], err = tx.CreateAccount(ctx, store.AccountSpec{SchoolID: s.school.ID, Kind: store.KindTransition, Floor: -50_00, Ceiling: ledger.NoCeiling}); err != nil {
				return err
			}
			accounts = append(accounts, a)
		}
		return nil
	})
	if err != nil {
		s.b.Fatal(err)
	}
	var values []string
	var args []any
	for i, a := range accounts {
		values = append(values, "(?, ?, ?, 'student', 'active', 'id_card', x'00', '', ?, ?, ?)")
		args = append(args, s.school.ID, fmt.Sprintf("2025%05d", i+2), "学生", a[0], a[1], s.clock.Now().UnixMicro())
		if len(values) == 300 || i == len(accounts)-1 {
			if err := s.db.ExecRaw(ctx, `INSERT INTO cardholders (school_id, number, name, kind, status, id_type, id_hash, id_masked,
				purse_account, transition_account, created_at) VALUES `+strings.Join(values, ", "), args...); err != nil {
				s.b.Fatal(err)
			}
			values, args = nil, nil
		}
	}
	return accounts
}

// at moves the clock to t (never back).
func (s *benchSeeder) at(t time.Time) {
	if d := t.Sub(s.clock.Now()); d > 0 {
		s.clock.Advance(d)
	}
}

// book applies transfers in one transaction at the clock's time.
func (s *benchSeeder) book(ts []ledger.Transfer) []ledger.Outcome {
	var out []ledger.Outcome
	err := s.db.Update(ctx, func(tx ledger.Tx) error {
		var err error
		if out, err = ledger.Apply(ctx, tx, ts); err != nil {
			return err
		}
		for i, o := range out {
			if o.Result != ledger.OK {
				return fmt.Errorf("transfer %s: %s", ts[i].Key, o.Result)
			}
		}
		return nil
	})
	if err != nil {
		s.b.Fatal(err)
	}
	s.booked += len(ts)
	return out
}

// purchase is a POS purchase from account at a random terminal, keyed as
// the device upload keys it.
func (s *benchSeeder) purchase(from int64, amount int64) ledger.Transfer {
	i := s.rng.IntN(len(s.merchants))
	t := s.terminals[i][s.rng.IntN(2)]
	s.seq[t.ID]++
	return ledger.Transfer{Key: fmt.Sprintf("rec:%d:%d", t.ID, s.seq[t.ID]), Debit: from, Credit: s.merchants[i].Account,
		Amount: amount, Code: "purchase", Memo: s.merchants[i].Name, Flags: ledger.Settle}
}

func (s *benchSeeder) system(kind string) int64 {
	id, err := s.db.SystemAccount(ctx, s.school.ID, kind)
	if err != nil {
		s.b.Fatal(err)
	}
	return id
}

// year books 2026 and returns the cardholder's lines in November.
func (s *benchSeeder) year(h *onecard.Cardholder, card *onecard.Card, accounts [][2]int64) int {
	alipay, wechat := s.system(store.KindClearingAlipay), s.system(store.KindClearingWechat)
	var topUps []ledger.Transfer
	for i, a := range accounts {
		topUps = append(topUps, ledger.Transfer{Key: fmt.Sprint("bench-topup-", i), Debit: alipay, Credit: a[1], Amount: 1500_00, Code: "topup"})
	}
	s.book(topUps)
	// What the other cardholders buy each day: what is left of
	// benchTransfers after their top-ups and the cardholder's year (a
	// top-up a month, four purchases a day, ten a day in November).
	others := benchTransfers - s.booked - 12 - (365-30)*4 - 30*10
	lines := 0
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, benchLoc)
	for day := start; day.Year() == 2026; day = day.AddDate(0, 0, 1) {
		if day.Day() == 1 {
			s.at(day.Add(7 * time.Hour))
			s.book([]ledger.Transfer{{Key: "bench-topup-h-" + day.Format("2006-01"), Debit: wechat, Credit: h.TransitionAccount, Amount: 3500_00, Code: "topup"}})
			if day.Month() == time.November {
				lines++
			}
		}
		n := others / 365
		if day.YearDay() <= others%365 {
			n++
		}
		var batch []ledger.Transfer
		for range n {
			batch = append(batch, s.purchase(accounts[s.rng.IntN(len(accounts))][1], int64(s.rng.IntN(10)+1)*100))
		}
		if day.Month() != time.November {
			for range 4 {
				batch = append(batch, s.purchase(h.TransitionAccount, 5_00))
			}
		}
		s.at(day.Add(12*time.Hour + 30*time.Minute))
		s.book(batch)
		if day.Month() == time.November {
			lines += s.novemberDay(h, card, day, alipay)
		}
	}
	if s.booked != benchTransfers {
		s.b.Logf("booked %d transfers, not %d", s.booked, benchTransfers)
	}
	return lines
}

// novemberDay books the cardholder's day in November: a claim onto the
// card at 7:00, eight POS purchases from the card and an Alipay code
// payment from the bound account, an hour or so apart.
func (s *benchSeeder) novemberDay(h *onecard.Cardholder, card *onecard.Card, day time.Time, alipay int64) int {
	s.at(day.Add(7*time.Hour + 10*time.Minute))
	t := s.terminals[0][0]
	key := fmt.Sprintf("load:%d:%d:%08x", card.ID, day.Day(), day.Day())
	s.book([]ledger.Transfer{{Key: key, Debit: h.TransitionAccount, Credit: h.PurseAccount, Amount: 50_00, Code: "claim"}})
	if err := s.db.ExecRaw(ctx, `INSERT INTO device_loads (school_id, card_id, cardholder_id, counter, kind, amount, terminal_id, init, mac2,
		authorised_at, state, transfer_key, reverse_key) VALUES (?, ?, ?, ?, 'claim', ?, ?, '{}', '', ?, 'confirmed', ?, ?)`,
		s.school.ID, card.ID, h.ID, day.Day(), 50_00, t.ID, s.clock.Now().Truncate(time.Second).UnixMicro(), key, key+":reverse"); err != nil {
		s.b.Fatal(err)
	}
	for i := range 8 {
		s.at(day.Add(time.Duration(8+i) * time.Hour))
		s.book([]ledger.Transfer{s.purchase(h.PurseAccount, int64(s.rng.IntN(4)+3)*100)})
	}
	s.at(day.Add(20 * time.Hour))
	shop := s.merchants[len(s.merchants)-1]
	no := "CP" + day.Format("20060102")
	out := s.book([]ledger.Transfer{{Key: "codepay:" + no, Debit: alipay, Credit: shop.Account, Amount: 15_00, Code: "purchase", Memo: shop.Name + " (alipay)"}})
	now := s.clock.Now().UnixMicro()
	if err := s.db.ExecRaw(ctx, `INSERT INTO code_payments (no, school_id, merchant_id, terminal_id, channel, amount, state, cardholder_id,
		payer, gateway_no, transfer_id, created_at, paid_at) VALUES (?, ?, ?, ?, 'alipay', ?, 'paid', ?, '2088000000000001', ?, ?, ?, ?)`,
		no, s.school.ID, shop.ID, s.terminals[len(s.terminals)-1][0].ID, 15_00, h.ID, "G"+no, out[0].Transfer.ID, now, now); err != nil {
		s.b.Fatal(err)
	}
	return 10
}
