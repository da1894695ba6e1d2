package alipay

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/onecard-campus/onecard/channel"
)

// billZip zips files (name → UTF-8 text) as Alipay does: names and
// contents in GBK.
func billZip(t *testing.T, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	enc := simplifiedchinese.GBK.NewEncoder()
	for _, f := range files {
		name, _ := enc.String(f[0])
		body, err := enc.Bytes([]byte(f[1]))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, NonUTF8: true, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	billHead    = "#支付宝业务明细查询\r\n#账号：[20880000000000000156]\r\n#-----业务明细列表-----\r\n"
	billColumns = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,对方账户,订单金额（元）,商家实收（元）,退款批次号/请求号,服务费（元）,备注\r\n"
	billTail    = "#-----业务明细列表结束-----\r\n#交易合计：1笔\r\n"
	summary     = "#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数\r\n,合计,1\r\n"
)

func TestParseBill(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, beijing)
	good := billHead + billColumns +
		"2024050122001\t,T-1\t,交易\t,\"充值, 一\t\",2024-05-01 11:59:00\t,2024-05-01 12:00:00\t,2088***\t,10.00\t,10.00\t,,0.06\t,\r\n" +
		"2024050122001\t,T-1\t,退款\t,充值\t,2024-05-01 11:59:00\t,2024-05-01 12:00:00\t,2088***\t,10.00\t,-2.50\t,R-1\t,0.00\t,\r\n" +
		billTail
	lines, err := parseBill(billZip(t, [2]string{"x_业务明细(汇总).csv", summary}, [2]string{"x_业务明细.csv", good}))
	if err != nil {
		t.Fatal(err)
	}
	want := []channel.StatementLine{
		{Kind: channel.StatementPayment, No: "T-1", GatewayNo: "2024050122001", Amount: 1000, At: at},
		{Kind: channel.StatementRefund, No: "T-1", RefundNo: "R-1", GatewayNo: "2024050122001", Amount: 250, At: at},
	}
	if len(lines) != len(want) {
		t.Fatalf("lines = %+v", lines)
	}
	for i := range want {
		if l := lines[i]; l.Kind != want[i].Kind || l.No != want[i].No || l.RefundNo != want[i].RefundNo ||
			l.GatewayNo != want[i].GatewayNo || l.Amount != want[i].Amount || !l.At.Equal(want[i].At) {
			t.Fatalf("line %d = %+v, want %+v", i, l, want[i])
		}
	}

	row := func(kind, at, total string) string {
		return billHead + billColumns + "1\t,T-1\t," + kind + "\t,s\t,," + at + "\t,," + total + "\t," + total + "\t,,,\r\n" + billTail
	}
	for _, tc := range []struct {
		name string
		zip  []byte
	}{
		{"not a zip", []byte("PK? no")},
		{"summary only", billZip(t, [2]string{"x_业务明细(汇总).csv", summary})},
		{"unknown business type", billZip(t, [2]string{"d.csv", row("冻结", "2024-05-01 12:00:00", "1.00")})},
		{"bad amount", billZip(t, [2]string{"d.csv", row("交易", "2024-05-01 12:00:00", "1.2.3")})},
		{"bad time", billZip(t, [2]string{"d.csv", row("交易", "noon", "1.00")})},
		{"missing column", billZip(t, [2]string{"d.csv", strings.Replace(row("交易", "2024-05-01 12:00:00", "1.00"), "完成时间", "时间", 1)})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseBill(tc.zip); channel.Code(err) != channel.ErrMalformed {
				t.Fatalf("err = %v, want malformed", err)
			}
		})
	}
}
