package sandbox

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/onecard-campus/onecard/channel"
)

const (
	alipayBillPath = "/alipay/bill/download"
	// alipayBillLinkTTL is how long a download link works. Alipay's expire
	// after 30 seconds: a merchant must fetch the file at once, not store
	// the link.
	alipayBillLinkTTL = 30 * time.Second
	// alipayBillAccount is the merchant's Alipay account number as bills
	// name it: the user ID followed by 0156.
	alipayBillAccount = alipaySellerID + "0156"
)

// alipayBillURL is alipay.data.dataservice.bill.downloadurl.query for daily
// trade bills. A day without a payment or refund has no bill, which Alipay
// answers isp.bill_not_exist.
func (s *Sandbox) alipayBillURL(c *alipayCall) (map[string]any, *alipayFault) {
	if c.Biz.BillType != "trade" {
		return nil, alipayBusiness("isp.bill_type_not_support", "the sandbox keeps trade bills only")
	}
	day, err := time.ParseInLocation("2006-01-02", string(c.Biz.BillDate), s.opt.Location)
	if err != nil {
		return nil, alipayBusiness("isv.invalid-bill-date", "bill_date must be a day, yyyy-MM-dd (the sandbox has no monthly bills)")
	}
	if len(s.statement(channel.Alipay, day)) == 0 {
		return nil, alipayBusiness("isp.bill_not_exist", "账单不存在")
	}
	date := day.Format("2006-01-02")
	expires := strconv.FormatInt(s.now().Add(alipayBillLinkTTL).Unix(), 10)
	q := url.Values{"bill_date": {date}, "expires": {expires}, "token": {s.alipayBillToken(date, expires)}}
	return alipayOK(map[string]any{"bill_download_url": s.baseURL() + alipayBillPath + "?" + q.Encode()}), nil
}

// alipayBillToken authenticates a download link without storing it: an
// HMAC of the day and the expiry under a key derived from the sandbox's
// Alipay key.
func (s *Sandbox) alipayBillToken(date, expires string) string {
	key := sha256.Sum256([]byte("sandbox alipay bill link\n" + s.keys.AlipayPlatform))
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(date + "\n" + expires))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Sandbox) alipayBillDownload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	date, expires := q.Get("bill_date"), q.Get("expires")
	if !hmac.Equal([]byte(q.Get("token")), []byte(s.alipayBillToken(date, expires))) {
		http.Error(w, "invalid bill download link", http.StatusForbidden)
		return
	}
	if e, err := strconv.ParseInt(expires, 10, 64); err != nil || s.now().Unix() > e {
		http.Error(w, "the bill download link has expired; query a new one", http.StatusForbidden)
		return
	}
	day, err := time.ParseInLocation("2006-01-02", date, s.opt.Location)
	if err != nil {
		http.Error(w, "invalid bill date", http.StatusBadRequest)
		return
	}
	b, err := s.alipayBillZip(day)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	name := fmt.Sprintf("%s_%s.csv.zip", alipayBillAccount, day.Format("20060102"))
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(b)
}

// alipayBillColumns are the columns of Alipay's trade bill detail file.
var alipayBillColumns = []string{"支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称",
	"操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）", "商家优惠（元）",
	"券核销金额（元）", "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注"}

// alipayBillZip builds a day's bill as Alipay ships it: a zip holding a
// detail file and a summary file, both CSV in GBK with '#' comment lines
// around the table, every value followed by a tab (so that spreadsheets
// keep long numbers as text; empty values stay empty), and file names in
// GBK too.
func (s *Sandbox) alipayBillZip(day time.Time) ([]byte, error) {
	loc := s.opt.Location
	d := day.In(loc)
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	end := start.AddDate(0, 0, 1)
	lines := s.statement(channel.Alipay, start)
	const cn = "2006年01月02日 15:04:05"
	head := fmt.Sprintf("#账号：[%s]\r\n#起始日期：[%s]   终止日期：[%s]\r\n", alipayBillAccount, start.Format(cn), end.Format(cn))
	exported := fmt.Sprintf("#导出时间：[%s]\r\n", s.now().In(loc).Format(cn))

	var detail bytes.Buffer
	detail.WriteString("#支付宝业务明细查询\r\n" + head)
	detail.WriteString("#-----------------------------------------业务明细列表----------------------------------------\r\n")
	cw := csv.NewWriter(&detail)
	cw.UseCRLF = true
	_ = cw.Write(alipayBillColumns)
	var payments, refunds int
	var paid, refunded int64
	for _, l := range lines {
		kind, total, received := "交易", l.Amount, l.Amount
		subject, created, payer := "", l.At, ""
		if o := s.order(channel.Alipay, l.No); o != nil {
			subject, created, payer = o.Subject, o.Created, o.Payer
			total = o.Amount
		}
		if l.Kind == channel.StatementRefund {
			kind, received = "退款", -l.Amount
			refunds++
			refunded += l.Amount
		} else {
			payments++
			paid += l.Amount
		}
		row := []string{l.GatewayNo, l.No, kind, subject, s.alipayTime(created), s.alipayTime(l.At), "", "", "", "", payer,
			alipayYuan(total), alipayYuan(received), "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00", l.RefundNo, "0.00", "0.00", ""}
		for i := range row {
			if row[i] != "" {
				row[i] += "\t"
			}
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, err
	}
	detail.WriteString("#-----------------------------------------业务明细列表结束------------------------------------\r\n")
	fmt.Fprintf(&detail, "#交易合计：%d笔，商家实收共%s元，商家优惠共0.00元\r\n", payments, alipayYuan(paid))
	fmt.Fprintf(&detail, "#退款合计：%d笔，商家实收退款共%s元，商家优惠退款共0.00元\r\n", refunds, alipayYuan(-refunded))
	detail.WriteString(exported)

	var summary bytes.Buffer
	summary.WriteString("#支付宝业务汇总查询\r\n" + head)
	summary.WriteString("门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）\r\n")
	net := alipayYuan(paid - refunded)
	fmt.Fprintf(&summary, ",合计,%d,%d,%s,%s,0.00,0.00,0.00,0.00,0.00,%s\r\n", payments, refunds, alipayYuan(paid), net, net)
	summary.WriteString(exported)

	base := fmt.Sprintf("%s_%s_", alipayBillAccount, start.Format("20060102"))
	enc := encoding.ReplaceUnsupported(simplifiedchinese.GBK.NewEncoder())
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range []struct {
		name string
		body []byte
	}{{base + "业务明细.csv", detail.Bytes()}, {base + "业务明细(汇总).csv", summary.Bytes()}} {
		name, err := enc.String(f.name)
		if err != nil {
			return nil, err
		}
		body, err := enc.Bytes(f.body)
		if err != nil {
			return nil, err
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, NonUTF8: true, Modified: s.now()})
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(body); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
