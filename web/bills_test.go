package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/web"
)

// withBills turns the bills pages on.
func withBills(c *web.Config) { c.Bills = c.Money.(onecard.BillService) }

// billsPay charges h at m; key must be unique in the test.
func (a *app) billsPay(t *testing.T, h *onecard.Cardholder, m *onecard.Merchant, amount int64, key string) time.Time {
	t.Helper()
	it, err := a.db.Pay(ctx, &onecard.Payment{Key: key, CardholderID: h.ID, MerchantID: m.ID, Amount: amount})
	if err != nil {
		t.Fatalf("Pay(%s): %v", onecard.Yuan(amount), err)
	}
	return it.Time
}

func (a *app) billsDeposit(t *testing.T, h *onecard.Cardholder, amount int64, key string) time.Time {
	t.Helper()
	it, err := a.db.Deposit(ctx, &onecard.Deposit{Key: key, CardholderID: h.ID, Amount: amount})
	if err != nil {
		t.Fatal(err)
	}
	return it.Time
}

// billsClaim moves money onto h's card, as a POS tap does.
func (a *app) billsClaim(t *testing.T, h *onecard.Cardholder, amount int64, key string) {
	t.Helper()
	err := a.db.Update(ctx, func(tx ledger.Tx) error {
		out, err := ledger.Apply(ctx, tx, []ledger.Transfer{{Key: key, Debit: h.TransitionAccount, Credit: h.PurseAccount, Amount: amount, Code: "claim"}})
		if err == nil && out[0].Result != ledger.OK {
			err = fmt.Errorf("claim: %s", out[0].Result)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// element returns the element with the id, from its start tag to the
// first closing tag given (</svg>, </table>), or "" when there is none.
func element(body, id, end string) string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	i = strings.LastIndex(body[:i], "<")
	j := strings.Index(body[i:], end)
	if j < 0 {
		return ""
	}
	return body[i : i+j+len(end)]
}

// text returns the text of the element with the id (up to its first tag).
func text(body, id string) string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	rest = rest[strings.Index(rest, ">")+1:]
	return strings.TrimSpace(rest[:strings.Index(rest, "<")])
}

var dataAmount = regexp.MustCompile(`data-amount="(-?\d+)"`)

// chartTotal adds up the bars of a chart.
func chartTotal(t *testing.T, svg string) int64 {
	t.Helper()
	var sum int64
	for _, m := range dataAmount.FindAllStringSubmatch(svg, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		sum += n
	}
	return sum
}

// billsWorld: the cardholder tops up ¥100 in cash, pays ¥12.50 and ¥7.50
// at the canteen and ¥5 at the shop, and moves ¥30 onto the card; the
// neighbour tops up and pays ¥66.66. It returns the cardholder's browser,
// logged in, and the month of the lines.
func billsWorld(t *testing.T, a *app) (*browser, *onecard.Cardholder, *onecard.Cardholder, string) {
	t.Helper()
	h, pin := a.cardholder(t)
	other, _ := a.cardholder(t)
	shop := &onecard.Merchant{SchoolID: a.school.ID, Code: "shop-1", Name: "教育超市", Kind: "shop"}
	if err := a.db.CreateMerchant(ctx, shop); err != nil {
		t.Fatal(err)
	}
	at := a.billsDeposit(t, h, 100_00, "d1")
	a.billsPay(t, h, a.canteen, 12_50, "p1")
	a.billsClaim(t, h, 30_00, "c1")
	a.billsPay(t, h, a.canteen, 7_50, "p2")
	a.billsPay(t, h, shop, 5_00, "p3")
	a.billsDeposit(t, other, 100_00, "d2")
	a.billsPay(t, other, a.canteen, 66_66, "p4")
	b := a.browser(t)
	b.login("nankai", h.Number, pin)
	return b, h, other, at.In(a.school.Settings.Location()).Format("2006-01")
}

func TestBillsMonth(t *testing.T) {
	a := newApp(t, withBills)
	b, h, _, month := billsWorld(t, a)

	status, body := b.get("/app/bills?month=" + month)
	if status != http.StatusOK {
		t.Fatalf("bills: %d\n%s", status, body)
	}
	if got := text(body, "bills-spending"); got != "¥25.00" {
		t.Errorf("spending %q, want ¥25.00", got)
	}
	if got := text(body, "bills-topups"); got != "¥100.00" {
		t.Errorf("top-ups %q, want ¥100.00", got)
	}
	table := element(body, "bills-table", "</table>")
	if n := strings.Count(table, `class="bill `); n != 5 {
		t.Errorf("%d lines, want 5:\n%s", n, table)
	}
	for _, want := range []string{"-¥12.50", "-¥7.50", "-¥5.00", "+¥100.00", "¥30.00", "刷卡转入", "第一食堂", "教育超市", "现金充值"} {
		if !strings.Contains(table, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	if strings.Contains(body, "66.66") {
		t.Error("the neighbour's payment is in the cardholder's bills")
	}
	if !strings.Contains(body, `id="bills-claim-hint"`) {
		t.Error("no word on what moving onto the card means")
	}

	week := element(body, "chart-week", "</svg>")
	if week == "" || chartTotal(t, week) != 25_00 || !strings.Contains(week, "¥25.00") {
		t.Errorf("week chart does not add up to ¥25.00:\n%s", week)
	}
	merchants := element(body, "chart-merchant", "</svg>")
	if chartTotal(t, merchants) != 25_00 || !strings.Contains(merchants, "第一食堂") || !strings.Contains(merchants, "¥20.00") ||
		!strings.Contains(merchants, "教育超市") || !strings.Contains(merchants, "¥5.00") {
		t.Errorf("merchant chart:\n%s", merchants)
	}
	for _, id := range []string{"bills-month", "bills-prev", "bills-next", "filter-all", "filter-spending", "filter-topup", "bills-year"} {
		if !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("no #%s", id)
		}
	}
	if !strings.Contains(body, `value="`+month+`"`) {
		t.Errorf("the month chooser does not show %s", month)
	}

	// The filters: spending, top-ups; the month's totals stay.
	for _, tc := range []struct {
		kind  string
		lines int
		has   string
	}{{"spending", 3, "-¥7.50"}, {"topup", 1, "+¥100.00"}} {
		_, body := b.get("/app/bills?month=" + month + "&kind=" + tc.kind)
		table := element(body, "bills-table", "</table>")
		if n := strings.Count(table, `class="bill `); n != tc.lines || !strings.Contains(table, tc.has) || strings.Contains(table, "刷卡转入") {
			t.Errorf("%s: %d lines, want %d with %s:\n%s", tc.kind, n, tc.lines, tc.has, table)
		}
		if !regexp.MustCompile(`id="filter-` + tc.kind + `" class="on"`).MatchString(body) {
			t.Errorf("%s: the filter is not marked", tc.kind)
		}
		if text(body, "bills-spending") != "¥25.00" || text(body, "bills-topups") != "¥100.00" {
			t.Errorf("%s: the month's totals changed", tc.kind)
		}
	}

	// The month before is empty, and the links go there and back.
	prev, _ := time.Parse("2006-01", month)
	_, body = b.get("/app/bills?month=" + prev.AddDate(0, -1, 0).Format("2006-01"))
	if strings.Count(body, `class="bill `) != 0 || !strings.Contains(body, `id="bills-empty"`) || text(body, "bills-spending") != "¥0.00" {
		t.Error("the month before has lines")
	}
	if !strings.Contains(body, `href="/app/bills?month=`+month+`" id="bills-next"`) {
		t.Error("#bills-next does not lead back")
	}

	// Without a month: this month.
	if now := time.Now().In(a.school.Settings.Location()).Format("2006-01"); now == month {
		if _, body := b.get("/app/bills"); strings.Count(body, `class="bill `) != 5 {
			t.Error("the page without a month is not this month")
		}
	}

	// No cardholder data in any link, no inline style or script.
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if strings.Contains(m[1], h.Number) || strings.Contains(m[1], "cardholder") {
			t.Errorf("link %s carries cardholder data", m[1])
		}
	}
	if strings.Contains(body, "style=") || strings.Contains(body, "<script") {
		t.Error("inline style or script")
	}

	b.lang = "en-US,en;q=0.9"
	_, body = b.get("/app/bills?month=" + month)
	for _, want := range []string{"Spending per week", "Moved onto the card", "Top-up in cash", "Spent this month"} {
		if !strings.Contains(body, want) {
			t.Errorf("English page lacks %q", want)
		}
	}
}

// 60 lines are two pages; the filter stays on the page links.
func TestBillsPages(t *testing.T) {
	a := newApp(t, withBills)
	h, pin := a.cardholder(t)
	at := a.billsDeposit(t, h, 100_00, "d")
	for i := range 59 {
		a.billsPay(t, h, a.canteen, 1_00, fmt.Sprint("p", i))
	}
	month := at.In(a.school.Settings.Location()).Format("2006-01")
	b := a.browser(t)
	b.login("nankai", h.Number, pin)

	_, body := b.get("/app/bills?month=" + month)
	if n := strings.Count(body, `class="bill `); n != 50 {
		t.Fatalf("page 1 has %d lines", n)
	}
	if !strings.Contains(body, `href="/app/bills?month=`+month+`&amp;page=2" id="bills-page-next"`) || strings.Contains(body, `id="bills-page-prev"`) {
		t.Error("page 1's links")
	}
	if text(body, "bills-count") != "共 60 笔" || text(body, "bills-spending") != "¥59.00" {
		t.Errorf("count %q, spending %q", text(body, "bills-count"), text(body, "bills-spending"))
	}
	_, body = b.get("/app/bills?month=" + month + "&page=2")
	if n := strings.Count(body, `class="bill `); n != 10 || !strings.Contains(body, `id="bills-page-prev"`) || strings.Contains(body, `id="bills-page-next"`) {
		t.Errorf("page 2 has %d lines", n)
	}
	// The oldest line, the top-up, is last.
	if !strings.Contains(body[strings.LastIndex(body, `class="bill `):], "+¥100.00") {
		t.Error("the top-up is not the last line of page 2")
	}
	_, body = b.get("/app/bills?month=" + month + "&kind=spending&page=2")
	if n := strings.Count(body, `class="bill `); n != 9 || !strings.Contains(body, `href="/app/bills?kind=spending&amp;month=`+month+`" id="bills-page-prev"`) {
		t.Errorf("spending page 2 has %d lines", n)
	}
	_, body = b.get("/app/bills?month=" + month + "&page=9")
	if strings.Count(body, `class="bill `) != 0 || !strings.Contains(body, `id="bills-page-prev"`) {
		t.Error("a page past the end")
	}
}

// Each cardholder sees only their own bills, whatever the URL says.
func TestBillsOnlyOwn(t *testing.T) {
	a := newApp(t, withBills)
	_, _, _, month := billsWorld(t, a)
	h2, pin2 := a.cardholder(t)
	b := a.browser(t)
	b.login("nankai", h2.Number, pin2)
	for _, path := range []string{"/app/bills?month=" + month, "/app/bills?month=" + month + "&cardholder=1", "/app/bills/year"} {
		_, body := b.get(path)
		if strings.Count(body, `class="bill `) != 0 || strings.Contains(body, "第一食堂") || strings.Contains(body, "¥25.00") {
			t.Errorf("%s shows another cardholder's bills", path)
		}
	}
	if status, body := a.browser(t).get("/app/bills"); status != http.StatusOK || !strings.Contains(body, `id="login-form"`) {
		t.Error("the bills page without a session")
	}
}

func TestBillsYear(t *testing.T) {
	a := newApp(t, withBills)
	b, _, _, month := billsWorld(t, a)
	_, body := b.get("/app/bills?month=" + month)
	year := month[:4]
	if !strings.Contains(body, `href="/app/bills/year?year=`+year+`" id="bills-year"`) {
		t.Fatal("no link to the year")
	}
	status, body := b.get("/app/bills/year?year=" + year)
	if status != http.StatusOK || !strings.Contains(body, `id="year-summary"`) {
		t.Fatalf("year: %d\n%s", status, body)
	}
	if text(body, "year-spending") != "¥25.00" || text(body, "year-topups") != "¥100.00" {
		t.Errorf("year totals %q %q", text(body, "year-spending"), text(body, "year-topups"))
	}
	chart := element(body, "chart-month", "</svg>")
	if strings.Count(chart, "chart-row") != 12 || chartTotal(t, chart) != 25_00 || !strings.Contains(chart, "¥25.00") {
		t.Errorf("month chart:\n%s", chart)
	}
	m, _ := strconv.Atoi(month[5:])
	if !strings.Contains(chart, fmt.Sprintf(">%d月<", m)) {
		t.Errorf("the month chart has no label %d月", m)
	}
	merchants := element(body, "year-merchants", "</section>")
	if i, j := strings.Index(merchants, "第一食堂"), strings.Index(merchants, "教育超市"); i < 0 || j < i ||
		!strings.Contains(merchants, "¥20.00") || !strings.Contains(merchants, "2 笔") {
		t.Errorf("top merchants:\n%s", merchants)
	}
	if day := text(body, "year-busiest-day"); !strings.Contains(day, "¥25.00") || !strings.Contains(day, "3 笔") {
		t.Errorf("busiest day %q", day)
	}
	if strings.Contains(body, "66.66") {
		t.Error("the neighbour's payment is in the year")
	}
	_, body = b.get("/app/bills/year?year=2001")
	if text(body, "year-spending") != "¥0.00" || chartTotal(t, element(body, "chart-month", "</svg>")) != 0 {
		t.Error("2001 has spending")
	}
}

// Without a bill service the pages do not exist.
func TestBillsHidden(t *testing.T) {
	a := newApp(t, nil)
	h, pin := a.cardholder(t)
	b := a.browser(t)
	b.login("nankai", h.Number, pin)
	if status, _ := b.get("/app/bills"); status != http.StatusNotFound {
		t.Errorf("bills without a service: %d", status)
	}
}
