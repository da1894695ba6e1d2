package alipay

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	sdk "github.com/smartwalle/alipay/v3"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/onecard-campus/onecard/channel"
)

// maxBill bounds the downloaded zip and each file in it, against a
// mistaken or hostile link (a zip bomb expands far beyond its size).
const maxBill = 64 << 20

// Statement implements channel.Gateway: it asks
// alipay.data.dataservice.bill.downloadurl.query for the day's trade bill
// (bill_date is the day in Beijing), downloads it at once (Alipay's links
// expire after 30 seconds) and reads the detail file.
//
// Alipay answers isp.bill_not_exist for a day without trades, and also for
// a day whose bill it has not generated yet (bills appear the next
// morning); both come back as an empty statement, so callers should only
// ask for days that are over.
func (g *Gateway) Statement(ctx context.Context, day time.Time) ([]channel.StatementLine, error) {
	const api = "alipay.data.dataservice.bill.downloadurl.query"
	rsp, err := g.client.BillDownloadURLQuery(ctx, sdk.BillDownloadURLQuery{BillType: "trade", BillDate: day.In(beijing).Format("2006-01-02")})
	var e *sdk.Error
	if rsp != nil {
		e = &rsp.Error
	}
	fail, err := settle(api, err, e)
	if err != nil {
		return nil, err
	}
	if fail != nil {
		if fail.SubCode == "isp.bill_not_exist" {
			return nil, nil
		}
		return nil, refusal(api, *fail)
	}
	if rsp.BillDownloadURL == "" {
		return nil, channel.NewError(channel.ErrMalformed, "no bill_download_url in the answer")
	}
	zipped, err := g.download(ctx, rsp.BillDownloadURL)
	if err != nil {
		return nil, err
	}
	return parseBill(zipped)
}

func (g *Gateway) download(ctx context.Context, link string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, fmt.Errorf("alipay: bill link: %w", err)
	}
	res, err := g.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("alipay: bill download: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("alipay: bill download: %s", res.Status)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBill+1))
	if err != nil {
		return nil, fmt.Errorf("alipay: bill download: %w", err)
	}
	if len(b) > maxBill {
		return nil, errors.New("alipay: bill download larger than 64 MiB")
	}
	return b, nil
}

// parseBill reads Alipay's trade bill: a zip holding a detail file and a
// summary file, CSV in GBK. The file names are GBK bytes too, which
// archive/zip cannot decode reliably, so the detail file is recognised by
// its header row instead of its name.
func parseBill(zipped []byte) ([]channel.StatementLine, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return nil, channel.NewError(channel.ErrMalformed, "bill is not a zip: "+err.Error())
	}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		raw, err := readZipped(f)
		if err != nil {
			return nil, err
		}
		text, err := simplifiedchinese.GBK.NewDecoder().Bytes(raw)
		if err != nil {
			return nil, channel.NewError(channel.ErrMalformed, "bill file is not GBK: "+err.Error())
		}
		lines, found, err := parseDetail(text)
		if found || err != nil {
			return lines, err
		}
	}
	return nil, channel.NewError(channel.ErrMalformed, "no detail file in the bill")
}

func readZipped(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > maxBill {
		return nil, channel.NewError(channel.ErrMalformed, "bill file larger than 64 MiB")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, channel.NewError(channel.ErrMalformed, "bill file: "+err.Error())
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxBill+1))
	if err != nil {
		return nil, channel.NewError(channel.ErrMalformed, "bill file: "+err.Error())
	}
	if len(b) > maxBill {
		return nil, channel.NewError(channel.ErrMalformed, "bill file larger than 64 MiB")
	}
	return b, nil
}

// The detail file's columns this package reads.
const (
	colGatewayNo = "支付宝交易号"
	colNo        = "商户订单号"
	colKind      = "业务类型"
	colAt        = "完成时间"
	colTotal     = "订单金额（元）"
	colReceived  = "商家实收（元）"
	colRefundNo  = "退款批次号/请求号"
)

// parseDetail reads the detail table if text is the detail file (found).
// Comment lines start with '#'; values carry trailing tabs (Alipay adds
// them so that spreadsheets keep long numbers as text); columns are found
// by name, not position, since Alipay has added columns over the years.
func parseDetail(text []byte) (lines []channel.StatementLine, found bool, err error) {
	r := csv.NewReader(bytes.NewReader(text))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	col := map[string]int{}
	for n := 1; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			return lines, found, nil
		}
		if err != nil {
			return nil, found, channel.NewError(channel.ErrMalformed, "bill: "+err.Error())
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(strings.TrimPrefix(rec[i], "\ufeff"))
		}
		if !found {
			if rec[0] != colGatewayNo {
				continue
			}
			found = true
			for i, name := range rec {
				col[name] = i
			}
			for _, name := range []string{colGatewayNo, colNo, colKind, colAt, colTotal, colReceived, colRefundNo} {
				if _, ok := col[name]; !ok {
					return nil, true, channel.NewError(channel.ErrMalformed, "bill has no column "+name)
				}
			}
			continue
		}
		get := func(name string) string {
			if i := col[name]; i < len(rec) {
				return rec[i]
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		l := channel.StatementLine{No: get(colNo), GatewayNo: get(colGatewayNo)}
		if l.At, err = when(colAt, get(colAt)); err != nil {
			return nil, true, lineErr(n, err)
		}
		switch kind := get(colKind); kind {
		case "交易":
			l.Kind = channel.StatementPayment
			l.Amount, err = fen(colTotal, get(colTotal))
		case "退款":
			// A refund is what left the merchant's account: the
			// negative merchant-received amount.
			l.Kind, l.RefundNo = channel.StatementRefund, get(colRefundNo)
			amount := get(colReceived)
			if amount == "" {
				amount = get(colTotal)
			}
			l.Amount, err = fen(colReceived, strings.TrimPrefix(amount, "-"))
		default:
			// Failing beats skipping: a reconciliation that silently
			// drops a kind of line would call the books balanced.
			return nil, true, lineErr(n, channel.NewError(channel.ErrMalformed, fmt.Sprintf("unknown business type %q", kind)))
		}
		if err != nil {
			return nil, true, lineErr(n, err)
		}
		lines = append(lines, l)
	}
}

func lineErr(n int, err error) error {
	var ce *channel.Error
	if errors.As(err, &ce) {
		return channel.NewError(ce.Code, fmt.Sprintf("bill record %d: %s", n, ce.Message))
	}
	return err
}
