package web

import (
	"bytes"
	"html/template"
	"time"

	"github.com/onecard-campus/onecard"
)

// The bills charts are horizontal bars drawn on the server as inline SVG:
// no script, no chart library, readable at 360 px (a label and its ¥
// amount above each bar, so long merchant names fit). Colours and fonts
// come from bills.css; the SVG carries only geometry.

// Chart geometry, in the SVG's own units (it scales to the page's width).
const (
	chartWidth = 320
	chartLine  = 34 // a label line and a bar
	chartBar   = 10
	chartLabel = 14 // runes of a merchant's name before it is cut
	chartTop   = 6  // merchants shown before the rest are summed
)

// chart is one bar chart.
type chart struct {
	ID     string
	Title  string
	Empty  string // shown instead of bars when there are none
	Height int
	Rows   []chartRow
}

// chartRow is one bar with its label and amount.
type chartRow struct {
	Label, Value       string
	Amount             int64
	TextY, BarY, Width int
}

var chartTemplate = template.Must(template.New("chart").Parse(`<svg id="{{.ID}}" class="chart" viewBox="0 0 ` +
	`{{.Width}} {{.Height}}" role="img" aria-labelledby="{{.ID}}-title"><title id="{{.ID}}-title">{{.Title}}</title>
{{- range .Rows}}
<g class="chart-row" data-amount="{{.Amount}}"><text x="0" y="{{.TextY}}" class="chart-label">{{.Label}}</text>` +
	`<text x="{{$.Width}}" y="{{.TextY}}" text-anchor="end" class="chart-value">{{.Value}}</text>` +
	`<rect x="0" y="{{.BarY}}" width="{{$.Width}}" height="{{$.Bar}}" rx="3" class="chart-track"/>` +
	`<rect x="0" y="{{.BarY}}" width="{{.Width}}" height="{{$.Bar}}" rx="3" class="chart-bar"/></g>
{{- else}}
<text x="{{.Half}}" y="24" text-anchor="middle" class="chart-empty">{{.Empty}}</text>
{{- end}}
</svg>`))

// SVG draws the chart. html/template escapes every label, so a merchant's
// name cannot inject markup.
func (c *chart) SVG() (template.HTML, error) {
	var b bytes.Buffer
	err := chartTemplate.Execute(&b, struct {
		*chart
		Width, Half, Bar int
	}{c, chartWidth, chartWidth / 2, chartBar})
	return template.HTML(b.String()), err
}

// newChart lays out bars of amounts, scaled to the largest; an amount at
// or below zero (refunds outweighing purchases) has no bar.
func newChart(id, title, empty string, labels []string, amounts []int64) *chart {
	c := &chart{ID: id, Title: title, Empty: empty, Height: max(len(labels)*chartLine, chartLine)}
	var top int64
	for _, a := range amounts {
		top = max(top, a)
	}
	for i, label := range labels {
		r := chartRow{Label: label, Value: onecard.Yuan(amounts[i]), Amount: amounts[i], TextY: i*chartLine + 14, BarY: i*chartLine + 19}
		if amounts[i] > 0 {
			// Integer scaling: amounts are at most a year of fen, far from
			// overflowing int64 when multiplied by the width.
			r.Width = max(int(amounts[i]*chartWidth/top), 2)
		}
		c.Rows = append(c.Rows, r)
	}
	return c
}

// weekChart is a month's spending per week; weeks end the day before the
// next starts, the last on the day before to.
func weekChart(l *localizer, weeks []onecard.WeekTotal, to time.Time) *chart {
	labels := make([]string, len(weeks))
	amounts := make([]int64, len(weeks))
	for i, w := range weeks {
		end := to
		if i+1 < len(weeks) {
			end = weeks[i+1].Start
		}
		end = end.AddDate(0, 0, -1)
		labels[i] = dayLabel(l, w.Start)
		if end.After(w.Start) {
			last := dayLabel(l, end)
			if end.Month() == w.Start.Month() {
				last = l.T("bills.day_only", "Day", end.Day())
			}
			labels[i] = l.T("bills.week", "Start", labels[i], "End", last)
		}
		amounts[i] = w.Spending
	}
	return newChart("chart-week", l.T("bills.chart_week"), l.T("bills.chart_empty"), labels, amounts)
}

// merchantChart is spending per merchant, the biggest first and the rest
// summed in one bar.
func merchantChart(l *localizer, merchants []onecard.MerchantTotal) *chart {
	var labels []string
	var amounts []int64
	for i, m := range merchants {
		if i == chartTop && len(merchants) > chartTop+1 {
			var rest int64
			for _, o := range merchants[i:] {
				rest += o.Spending
			}
			labels, amounts = append(labels, l.T("bills.others")), append(amounts, rest)
			break
		}
		labels, amounts = append(labels, cut(merchantName(l, m.Merchant), chartLabel)), append(amounts, m.Spending)
	}
	return newChart("chart-merchant", l.T("bills.chart_merchant"), l.T("bills.chart_empty"), labels, amounts)
}

// merchantName shows the card centre's own charges (no merchant) by name.
func merchantName(l *localizer, name string) string {
	if name == "" {
		return l.T("bills.card_centre")
	}
	return name
}

// cut shortens s to n runes with an ellipsis.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
