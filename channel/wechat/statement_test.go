package wechat

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
)

var shanghai = time.FixedZone("CST", 8*3600)

func TestStatement(t *testing.T) {
	// The sandbox's business clock is fixed so that every trade falls on one
	// known day whatever time the test runs.
	day := time.Date(2024, 3, 15, 10, 0, 0, 0, shanghai)
	e := newEnv(t, withNow(day))
	ctx := context.Background()
	e.paid("S-1", 1000, "o-s")
	if err := e.gw.Refund(ctx, channel.Refund{No: "S-1", RefundNo: "S-1-R", Amount: 400, Total: 1000}); err != nil {
		t.Fatal(err)
	}
	e.order("S-UNPAID", 300) // not on any statement
	planted := channel.StatementLine{Kind: channel.StatementPayment, No: "S-PLANTED", GatewayNo: "4200000000202403150000000099",
		Amount: 555, At: day.Add(time.Hour)}
	e.sb.Plant(channel.Wechat, planted)
	gw := e.sb.Order(channel.Wechat, "S-1").GatewayNo

	want := []channel.StatementLine{
		{Kind: channel.StatementPayment, No: "S-1", GatewayNo: gw, Amount: 1000, At: day},
		{Kind: channel.StatementRefund, No: "S-1", RefundNo: "S-1-R", GatewayNo: gw, Amount: 400, At: day},
		planted,
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want []channel.StatementLine
	}{
		{"the day", day, want},
		{"the same day seen from UTC", time.Date(2024, 3, 14, 20, 30, 0, 0, time.UTC), want},
		{"the day before", day.AddDate(0, 0, -1), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.gw.Statement(ctx, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if !sameLines(got, tc.want) {
				t.Fatalf("statement =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func sameLines(a, b []channel.StatementLine) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Kind != y.Kind || x.No != y.No || x.RefundNo != y.RefundNo || x.GatewayNo != y.GatewayNo || x.Amount != y.Amount || !x.At.Equal(y.At) {
			return false
		}
	}
	return true
}

func TestParseBill(t *testing.T) {
	const header = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n"
	const pay = "`2024-03-15 10:00:00,`wx1,`1900000001,`0,`,`4200001,`N-1,`o1,`MWEB,`SUCCESS,`OTHERS,`CNY,`12.34,`0.00,`0,`0,`0.00,`0.00,`,`,`充值,`,`0.07404,`0.60%,`12.34,`0.00,`\r\n"
	const refund = "`2024-03-15 11:00:00,`wx1,`1900000001,`0,`,`4200001,`N-1,`o1,`MWEB,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50001,`N-1-R,`2.30,`0.00,`ORIGINAL,`SUCCESS,`充值,`,`-0.01380,`0.60%,`0.00,`2.30,`\r\n"
	const revoked = "`2024-03-15 12:00:00,`wx1,`1900000001,`0,`,`4200002,`N-2,`o1,`MICROPAY,`REVOKED,`OTHERS,`CNY,`0.00,`0.00,`0,`0,`0.00,`0.00,`,`,`充值,`,`0.00000,`0.60%,`5.00,`0.00,`\r\n"
	const summary = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n`2,`12.34,`2.30,`0.00,`0.06024,`12.34,`2.30\r\n"
	at := func(h int) time.Time { return time.Date(2024, 3, 15, h, 0, 0, 0, shanghai) }

	for _, tc := range []struct {
		name string
		data string
		want []channel.StatementLine
		err  bool
	}{
		{"payment and refund", header + pay + refund + summary, []channel.StatementLine{
			{Kind: channel.StatementPayment, No: "N-1", GatewayNo: "4200001", Amount: 1234, At: at(10)},
			{Kind: channel.StatementRefund, No: "N-1", RefundNo: "N-1-R", GatewayNo: "4200001", Amount: 230, At: at(11)},
		}, false},
		{"byte order mark and LF", "\xef\xbb\xbf" + strings.ReplaceAll(header+pay+summary, "\r\n", "\n"), []channel.StatementLine{
			{Kind: channel.StatementPayment, No: "N-1", GatewayNo: "4200001", Amount: 1234, At: at(10)},
		}, false},
		{"other states skipped", header + revoked + summary, nil, false},
		{"header only", header, nil, false},
		{"empty", "", nil, true},
		{"not a bill", "a,b,c\r\n`1,`2,`3\r\n", nil, true},
		{"short row", header + "`2024-03-15 10:00:00,`wx1\r\n", nil, true},
		{"bad amount", header + strings.Replace(pay, "`12.34,`0.00,`\r\n", "`12.345,`0.00,`\r\n", 1) + summary, nil, true},
		{"bad time", header + strings.Replace(pay, "2024-03-15 10:00:00", "15/03/2024", 1), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseBill([]byte(tc.data), shanghai)
			if tc.err {
				wantCode(t, err, channel.ErrMalformed)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameLines(got, tc.want) {
				t.Fatalf("lines =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestParseYuan(t *testing.T) {
	for _, tc := range []struct {
		in   string
		fen  int64
		fail bool
	}{
		{"0.00", 0, false}, {"12.34", 1234, false}, {"5", 500, false}, {"5.1", 510, false},
		{"", 0, true}, {".50", 0, true}, {"1.234", 0, true}, {"-1.00", 0, true}, {"1e3", 0, true}, {"9999999999999.00", 0, true},
	} {
		fen, err := parseYuan(tc.in)
		if (err != nil) != tc.fail || fen != tc.fen {
			t.Errorf("parseYuan(%q) = %d, %v", tc.in, fen, err)
		}
	}
}

func TestDownloadURL(t *testing.T) {
	for _, tc := range []struct {
		base, dl, want string
	}{
		{"http://127.0.0.1:8090/wechat", "http://127.0.0.1:8090/wechat/v3/billdownload/file?token=abc", officialHost + "/v3/billdownload/file?token=abc"},
		{officialHost, officialHost + "/v3/billdownload/file?token=abc", officialHost + "/v3/billdownload/file?token=abc"},
		{"https://proxy.school.edu.cn/wxpay", officialHost + "/v3/billdownload/file?token=abc", officialHost + "/v3/billdownload/file?token=abc"},
		{"http://127.0.0.1:8090/wechat", "http://127.0.0.1:8090/elsewhere/file?token=abc", ""},
		{"http://127.0.0.1:8090/wechat", "http://127.0.0.1:8090/wechat/x.com/file", ""},
		{"http://127.0.0.1:8090/wechat", "not a url", ""},
	} {
		g := &Gateway{base: tc.base}
		got, err := g.downloadURL(tc.dl)
		if tc.want == "" {
			if err == nil {
				t.Errorf("downloadURL(%q) under %q = %q, want an error", tc.dl, tc.base, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("downloadURL(%q) under %q = %q, %v; want %q", tc.dl, tc.base, got, err, tc.want)
		}
	}
}
