package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/onecard-campus/onecard"
)

// yearTop is how many merchants the year's summary names.
const yearTop = 5

// billsYearData is the year page.
type billsYearData struct {
	Year             int
	Prev, Next, Back string // links
	Summary          *onecard.BillSummary
	Merchants        []onecard.MerchantTotal // the most spending first, at most yearTop
	MonthChart       *chart
	Busiest          *onecard.DayTotal // nil: no spending this year
	BusiestLabel     string
}

// billsYearPage sums a year (?year=2026, default this year in the school's
// time zone): spending and top-ups, the top merchants, spending per month
// and the day with the most spending.
func (s *Server) billsYearPage(w http.ResponseWriter, r *http.Request) {
	h := viewer(r.Context()).Cardholder
	school, err := s.cfg.Schools.School(r.Context(), h.SchoolID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := school.Settings.Location()
	l := s.i18n.localizer(r)
	year := s.cfg.Now().In(loc).Year()
	if y, err := strconv.Atoi(r.URL.Query().Get("year")); err == nil && y >= 2000 && y <= 2100 {
		year = y
	}
	from := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	sum, err := s.cfg.Bills.BillSummary(r.Context(), onecard.BillFilter{CardholderID: h.ID, From: from, To: from.AddDate(1, 0, 0)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &billsYearData{Year: year, Summary: sum, Merchants: sum.ByMerchant[:min(len(sum.ByMerchant), yearTop)],
		Prev: "/app/bills/year?year=" + strconv.Itoa(year-1), Next: "/app/bills/year?year=" + strconv.Itoa(year+1),
		Back: "/app/bills?month=" + from.Format("2006-01")}
	if now := s.cfg.Now().In(loc); now.Year() == year {
		d.Back = "/app/bills?month=" + now.Format("2006-01")
	}
	labels := make([]string, 12)
	amounts := make([]int64, 12)
	for m := range 12 {
		labels[m] = monthShort(l, time.Date(year, time.Month(m+1), 1, 0, 0, 0, 0, loc))
	}
	for i, day := range sum.ByDay {
		amounts[day.Start.In(loc).Month()-1] += day.Spending
		if d.Busiest == nil || day.Spending > d.Busiest.Spending {
			d.Busiest = &sum.ByDay[i]
		}
	}
	if d.Busiest != nil {
		if d.Busiest.Spending <= 0 {
			d.Busiest = nil // refunds only: no day to name
		} else {
			d.BusiestLabel = dayLabel(l, d.Busiest.Start.In(loc))
		}
	}
	d.MonthChart = newChart("chart-month", l.T("bills.chart_month"), l.T("bills.chart_empty"), labels, amounts)
	s.render(w, r, http.StatusOK, "bills_year", &view{Title: "bills.year_title", Nav: "bills", Data: d, Loc: loc, localizer: l})
}
