package alipay_test

import (
	"sort"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
)

func TestStatement(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	// A fixed clock: every trade happens at 10:30 on 1 May, Beijing time.
	now := time.Date(2024, 5, 1, 10, 30, 0, 0, loc)
	e := newEnv(t, func() time.Time { return now })

	// A subject with a comma and a quote: the CSV must quote it.
	e.order(t, channel.Order{No: "T-st-1", Amount: 1000, Subject: `充值, "测试"`, Expire: now.Add(time.Hour)})
	if err := e.sb.Pay(channel.Alipay, "T-st-1", ""); err != nil {
		t.Fatal(err)
	}
	code := e.sb.IssueCode(channel.Alipay, "", false)
	if _, err := e.gw.CodePay(ctx, channel.CodePayment{No: "T-st-2", AuthCode: code, Amount: 250, Subject: "食堂"}); err != nil {
		t.Fatal(err)
	}
	if err := e.gw.Refund(ctx, channel.Refund{No: "T-st-1", RefundNo: "R-st-1", Amount: 400, Total: 1000}); err != nil {
		t.Fatal(err)
	}
	e.order(t, channel.Order{No: "T-st-unpaid", Amount: 999, Subject: "充值", Expire: now.Add(time.Hour)})
	planted := channel.StatementLine{Kind: channel.StatementPayment, No: "T-st-planted", GatewayNo: "2024050122000000000099",
		Amount: 777, At: now.Add(time.Hour)}
	e.sb.Plant(channel.Alipay, planted)
	e.sb.Plant(channel.Alipay, channel.StatementLine{Kind: channel.StatementPayment, No: "T-st-next-day", GatewayNo: "x",
		Amount: 1, At: now.AddDate(0, 0, 1)})

	g1, g2 := e.sb.Order(channel.Alipay, "T-st-1").GatewayNo, e.sb.Order(channel.Alipay, "T-st-2").GatewayNo
	want := []channel.StatementLine{
		{Kind: channel.StatementPayment, No: "T-st-1", GatewayNo: g1, Amount: 1000, At: now},
		{Kind: channel.StatementPayment, No: "T-st-2", GatewayNo: g2, Amount: 250, At: now},
		{Kind: channel.StatementRefund, No: "T-st-1", RefundNo: "R-st-1", GatewayNo: g1, Amount: 400, At: now},
		planted,
	}
	// The day is Beijing's: 17:00 UTC on 30 April is 1 May there.
	for _, day := range []time.Time{now, time.Date(2024, 4, 30, 17, 0, 0, 0, time.UTC)} {
		got, err := e.gw.Statement(ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		if !sameLines(got, want) {
			t.Fatalf("statement of %v:\n got %+v\nwant %+v", day, got, want)
		}
	}

	// A day without trades has no bill at Alipay: an empty statement.
	got, err := e.gw.Statement(ctx, now.AddDate(0, 0, -1))
	if err != nil || len(got) != 0 {
		t.Fatalf("statement of a quiet day: %+v, %v", got, err)
	}
}

func sameLines(a, b []channel.StatementLine) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(l channel.StatementLine) string { return string(l.Kind) + "/" + l.No + "/" + l.RefundNo }
	a, b = append([]channel.StatementLine(nil), a...), append([]channel.StatementLine(nil), b...)
	sort.Slice(a, func(i, j int) bool { return key(a[i]) < key(a[j]) })
	sort.Slice(b, func(i, j int) bool { return key(b[i]) < key(b[j]) })
	for i := range a {
		x, y := a[i], b[i]
		if x.Kind != y.Kind || x.No != y.No || x.RefundNo != y.RefundNo || x.GatewayNo != y.GatewayNo || x.Amount != y.Amount || !x.At.Equal(y.At) {
			return false
		}
	}
	return true
}
