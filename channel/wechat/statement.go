package wechat

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-pay/gopay"

	"github.com/onecard-campus/onecard/channel"
)

// Statement implements channel.Gateway with WeChat Pay's trade bill of the
// day (bill_type ALL): payments and refunds, in Asia/Shanghai days.
func (g *Gateway) Statement(ctx context.Context, day time.Time) ([]channel.StatementLine, error) {
	bm := make(gopay.BodyMap)
	bm.Set("bill_date", day.In(g.loc).Format("2006-01-02")).Set("bill_type", "ALL")
	rsp, err := g.c.V3BillTradeBill(ctx, bm)
	if rsp == nil {
		return nil, transport("statement", err)
	}
	if err := g.check("statement", rsp.Code, rsp.SignInfo, rsp.ErrResponse, err); err != nil {
		if rsp.ErrResponse.Code == "NO_STATEMENT_EXIST" && channel.Code(err) == channel.ErrRefused {
			return nil, nil // no trade that day: WeChat Pay makes no file
		}
		return nil, err
	}
	if rsp.Response == nil || rsp.Response.DownloadUrl == "" {
		return nil, channel.NewError(channel.ErrMalformed, "statement: answer has no download_url")
	}
	if !strings.EqualFold(rsp.Response.HashType, "SHA1") {
		return nil, channel.NewError(channel.ErrMalformed, "statement: unsupported hash_type "+rsp.Response.HashType)
	}
	dl, err := g.downloadURL(rsp.Response.DownloadUrl)
	if err != nil {
		return nil, err
	}
	data, err := g.c.V3BillDownLoadBill(ctx, dl)
	if err != nil {
		return nil, transport("statement download", err)
	}
	// The file itself is not signed; its hash came in the signed answer.
	sum := sha1.Sum(data)
	if !strings.EqualFold(hex.EncodeToString(sum[:]), rsp.Response.HashValue) {
		return nil, channel.NewError(channel.ErrSignature, "statement: file does not match the signed hash")
	}
	return parseBill(data, g.loc)
}

// downloadURL adapts download_url to gopay's V3BillDownLoadBill, which
// keeps only what follows ".com" in the URL and requests that path from
// the proxy host (WeChat Pay's own URLs are on api.mch.weixin.qq.com). A
// sandbox or proxy on another host has no ".com", so the path relative to
// BaseURL is put behind the official host for gopay to cut off again.
func (g *Gateway) downloadURL(dl string) (string, error) {
	u, err := url.Parse(dl)
	if err != nil || u.Host == "" {
		return "", channel.NewError(channel.ErrMalformed, "statement: download_url is not a URL")
	}
	rel := u.EscapedPath()
	if u.RawQuery != "" {
		rel += "?" + u.RawQuery
	}
	if b, err := url.Parse(g.base); err == nil && strings.EqualFold(b.Host, u.Host) {
		// The proxy host already ends in BaseURL's path (/wechat for the
		// sandbox): take it off so that it is not doubled.
		p := strings.TrimSuffix(b.Path, "/")
		r, ok := strings.CutPrefix(rel, p+"/")
		if !ok {
			return "", channel.NewError(channel.ErrMalformed, "statement: download_url is outside "+g.base)
		}
		rel = "/" + r
	}
	if strings.Contains(rel, ".com") {
		return "", channel.NewError(channel.ErrMalformed, "statement: download_url path cannot be fetched through gopay")
	}
	return officialHost + rel, nil
}

// parseBill reads WeChat Pay's bill: a header row of column names, rows
// whose every field starts with a backtick, then a summary (its own header,
// 总交易单数…, and one row) that ends the trades. Columns are found by
// name, so added columns do not matter. SUCCESS rows are payments, REFUND
// rows refunds; other rows (such as REVOKED, whose money shows as a refund
// row) are skipped.
func parseBill(data []byte, loc *time.Location) ([]channel.StatementLine, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	rows := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var header map[string]int
	var out []channel.StatementLine
	for i, row := range rows {
		if strings.TrimSpace(row) == "" {
			continue
		}
		fields := strings.Split(row, ",")
		if header == nil {
			header = map[string]int{}
			for j, f := range fields {
				header[strings.TrimSpace(f)] = j
			}
			for _, need := range []string{"交易时间", "微信订单号", "商户订单号", "交易状态"} {
				if _, ok := header[need]; !ok {
					return nil, channel.NewError(channel.ErrMalformed, "bill: no column "+need)
				}
			}
			continue
		}
		if strings.HasPrefix(row, "总交易单数") {
			break
		}
		if len(fields) < len(header) {
			return nil, channel.NewError(channel.ErrMalformed, "bill: row "+strconv.Itoa(i+1)+" has too few fields")
		}
		col := func(name string) string {
			j, ok := header[name]
			if !ok {
				return ""
			}
			return strings.TrimSpace(strings.TrimPrefix(fields[j], "`"))
		}
		first := func(names ...string) string {
			for _, n := range names {
				if v := col(n); v != "" {
					return v
				}
			}
			return ""
		}
		l := channel.StatementLine{No: col("商户订单号"), GatewayNo: col("微信订单号")}
		var amount string
		switch col("交易状态") {
		case "SUCCESS":
			l.Kind, amount = channel.StatementPayment, first("订单金额", "应结订单金额")
		case "REFUND":
			l.Kind, amount = channel.StatementRefund, first("申请退款金额", "退款金额")
			l.RefundNo = col("商户退款单号")
		default:
			continue
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05", col("交易时间"), loc)
		if err != nil {
			return nil, channel.NewError(channel.ErrMalformed, "bill: row "+strconv.Itoa(i+1)+" has a bad 交易时间")
		}
		l.At = at
		if l.Amount, err = parseYuan(amount); err != nil {
			return nil, channel.NewError(channel.ErrMalformed, "bill: row "+strconv.Itoa(i+1)+": "+err.Error())
		}
		out = append(out, l)
	}
	if header == nil {
		return nil, channel.NewError(channel.ErrMalformed, "bill: empty file")
	}
	return out, nil
}

// parseYuan reads "12.34" (at most two decimals, no sign) into fen without
// going through a float.
func parseYuan(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || strings.Trim(whole+frac, "0123456789") != "" || len(whole) > 12 {
		return 0, channel.NewError(channel.ErrMalformed, "amount "+strconv.Quote(s)+" is not yuan with two decimals")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, nil
}
