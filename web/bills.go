package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/onecard-campus/onecard"
)

// The bills pages (账单, seeds 001 and 003: 流水查询): a month's lines
// with its totals and charts, and a year's summary. The URL carries only
// the month, year, kind and page, never who is asking: the session says
// whose bills they are.

// billsPerPage is how many lines a page of a month shows.
const billsPerPage = 50

func (s *Server) billRoutes() {
	if s.cfg.Bills == nil {
		return
	}
	s.mux.HandleFunc("GET /app/bills", s.cardholder(s.billsPage))
	s.mux.HandleFunc("GET /app/bills/year", s.cardholder(s.billsYearPage))
}

// billsData is the month page.
type billsData struct {
	Month              string // 2026-11, the chooser's value
	MonthLabel         string // 2026年11月, November 2026
	Prev, Next, Year   string // links
	PrevName, NextName string // the months before and after: 10月, Oct
	Kind               string // "", spending, topup
	All, Spending      string // filter links
	TopUp              string
	Summary            *onecard.BillSummary
	WeekChart          *chart
	MerchantChart      *chart
	Bills              []billRow
	Total, Page, Pages int
	PrevPage, NextPage string // "" on the first and last page
	Claims             bool   // a line is a claim: explain that it is neither
}

// billsPage shows a month of the cardholder's bills (?month=2026-11,
// default this month in the school's time zone), all of them or only
// spending or top-ups (?kind=), 50 lines a page (?page=).
func (s *Server) billsPage(w http.ResponseWriter, r *http.Request) {
	h := viewer(r.Context()).Cardholder
	school, err := s.cfg.Schools.School(r.Context(), h.SchoolID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := school.Settings.Location()
	l := s.i18n.localizer(r)
	q := r.URL.Query()
	from := monthStart(q.Get("month"), s.cfg.Now().In(loc), loc)
	to := from.AddDate(0, 1, 0)
	kind := q.Get("kind")
	if kind != onecard.BillSpending && kind != onecard.BillTopUp {
		kind = ""
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = min(max(page, 1), 10_000)

	f := onecard.BillFilter{CardholderID: h.ID, From: from, To: to}
	sum, err := s.cfg.Bills.BillSummary(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Kind = kind
	bills, total, err := s.cfg.Bills.Bills(r.Context(), f, (page-1)*billsPerPage, billsPerPage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	month := from.Format("2006-01")
	link := func(month, kind string, page int) string {
		v := url.Values{"month": {month}}
		if kind != "" {
			v.Set("kind", kind)
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		return "/app/bills?" + v.Encode()
	}
	d := &billsData{
		Month: month, MonthLabel: monthLabel(l, from),
		Prev: link(from.AddDate(0, -1, 0).Format("2006-01"), kind, 1), Next: link(to.Format("2006-01"), kind, 1),
		PrevName: monthShort(l, from.AddDate(0, -1, 0)), NextName: monthShort(l, to),
		Year: "/app/bills/year?year=" + strconv.Itoa(from.Year()),
		Kind: kind, All: link(month, "", 1), Spending: link(month, onecard.BillSpending, 1), TopUp: link(month, onecard.BillTopUp, 1),
		Summary: sum, WeekChart: weekChart(l, sum.ByWeek, to), MerchantChart: merchantChart(l, sum.ByMerchant),
		Bills: billRows(l, bills), Total: total, Page: page, Pages: max((total+billsPerPage-1)/billsPerPage, 1),
	}
	for _, b := range bills {
		d.Claims = d.Claims || b.Kind == onecard.BillClaim
	}
	if page > 1 {
		d.PrevPage = link(month, kind, min(page-1, d.Pages))
	}
	if page < d.Pages {
		d.NextPage = link(month, kind, page+1)
	}
	s.render(w, r, http.StatusOK, "bills", &view{Title: "bills.title", Nav: "bills", Data: d, Loc: loc, localizer: l})
}

// monthStart is the first moment of the month value (2006-01) in loc, or
// of now's month when the value is missing or not a month.
func monthStart(value string, now time.Time, loc *time.Location) time.Time {
	if t, err := time.ParseInLocation("2006-01", value, loc); err == nil && t.Year() >= 2000 && t.Year() <= 2100 {
		return t
	}
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
}

// monthLabel names a month: 2026年11月, November 2026.
func monthLabel(l *localizer, t time.Time) string {
	return l.T("bills.month_label", "Year", t.Year(), "Month", int(t.Month()), "Name", t.Month().String())
}

// monthShort names a month without its year: 11月, Nov.
func monthShort(l *localizer, t time.Time) string {
	return l.T("bills.month_short", "Month", int(t.Month()), "Name", t.Month().String()[:3])
}

// dayLabel names a day without its year: 11月3日, Nov 3.
func dayLabel(l *localizer, t time.Time) string {
	return l.T("bills.day", "Month", int(t.Month()), "Name", t.Month().String()[:3], "Day", t.Day())
}

// billRow is a line of the list as shown.
type billRow struct {
	*onecard.Bill
	Text     string // what it is about: the merchant, the top-up's channel
	KindName string // its kind, translated
	PaidWith string // paid with Alipay or WeChat; "" for the card's money
}

// billRows describes each line: the merchant of a purchase or refund, the
// card centre for its own charges, the channel of a top-up.
func billRows(l *localizer, bills []*onecard.Bill) []billRow {
	rows := make([]billRow, len(bills))
	words := map[string]string{} // a page has few different words: translate each once
	t := func(id string) string {
		w, ok := words[id]
		if !ok {
			w = l.T(id)
			words[id] = w
		}
		return w
	}
	for i, b := range bills {
		text := t("bills.kind." + b.Kind)
		switch {
		case b.Merchant != "":
			text = b.Merchant
		case b.Kind == onecard.BillSpending || b.Kind == onecard.BillFee:
			text = t("bills.card_centre")
		case b.Kind == onecard.BillClaim && b.Amount < 0:
			text = t("bills.claim_back")
		case b.Kind == onecard.BillClaim:
			text = t("bills.claim_text")
		case b.Kind == onecard.BillRefund:
			text = t("bills.topup_returned")
		case b.Kind == onecard.BillTopUp && b.Via != "":
			text = t("bills.via." + b.Via)
		}
		rows[i] = billRow{Bill: b, Text: text, KindName: t("bills.kind." + b.Kind)}
		if b.Account == onecard.ChannelAlipay || b.Account == onecard.ChannelWechat {
			rows[i].PaidWith = t("bills.paid_with." + b.Account)
		}
	}
	return rows
}
