package sandbox

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/onecard-campus/onecard/channel"
)

// WeChat Pay's trade bill: GET /v3/bill/tradebill answers a download_url
// and the file's SHA-1; the merchant then GETs the file (signed request,
// unsigned answer: the hash in the signed first answer vouches for it).

const wechatBillPath = "/v3/billdownload/file"

// wechatBills keeps generated bill files until downloaded. It is package
// state rather than a Sandbox field so the core stays untouched; tokens are
// random, so sandboxes sharing it cannot see each other's files.
var wechatBills = struct {
	sync.Mutex
	m map[string]wechatBill
}{m: map[string]wechatBill{}}

type wechatBill struct {
	data    []byte
	created time.Time
}

// wechatBillTTL bounds how long a download_url works (WeChat Pay's last 30
// seconds; the sandbox is more patient with a debugger attached).
const wechatBillTTL = 5 * time.Minute

func storeWechatBill(data []byte) string {
	token := randomHex(16)
	now := time.Now()
	wechatBills.Lock()
	defer wechatBills.Unlock()
	for k, b := range wechatBills.m {
		if now.Sub(b.created) > wechatBillTTL {
			delete(wechatBills.m, k)
		}
	}
	wechatBills.m[token] = wechatBill{data: data, created: now}
	return token
}

func loadWechatBill(token string) ([]byte, bool) {
	wechatBills.Lock()
	defer wechatBills.Unlock()
	b, ok := wechatBills.m[token]
	if !ok || time.Since(b.created) > wechatBillTTL {
		return nil, false
	}
	return b.data, true
}

func (s *Sandbox) wechatTradeBill(w http.ResponseWriter, r *http.Request, _ []byte) {
	q := r.URL.Query()
	day, err := time.ParseInLocation("2006-01-02", q.Get("bill_date"), s.opt.Location)
	if err != nil {
		s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "bill_date must be YYYY-MM-DD")
		return
	}
	kind := q.Get("bill_type")
	if kind == "" {
		kind = "ALL"
	}
	if kind != "ALL" && kind != "SUCCESS" && kind != "REFUND" {
		s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "bill_type is one of ALL, SUCCESS, REFUND")
		return
	}
	if t := q.Get("tar_type"); t != "" {
		s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "the sandbox serves uncompressed bills only; omit tar_type")
		return
	}
	var lines []channel.StatementLine
	for _, l := range s.statement(channel.Wechat, day) {
		if kind == "ALL" || (kind == "SUCCESS") == (l.Kind == channel.StatementPayment) {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		s.wechatError(w, http.StatusBadRequest, "NO_STATEMENT_EXIST", "账单文件不存在")
		return
	}
	data := s.wechatBillCSV(lines)
	sum := sha1.Sum(data)
	s.wechatJSON(w, http.StatusOK, map[string]string{"hash_type": "SHA1", "hash_value": hex.EncodeToString(sum[:]),
		"download_url": s.baseURL() + wechatPrefix + wechatBillPath + "?token=" + storeWechatBill(data)})
}

func (s *Sandbox) wechatBillDownload(w http.ResponseWriter, r *http.Request, _ []byte) {
	data, ok := loadWechatBill(r.URL.Query().Get("token"))
	if !ok {
		s.wechatError(w, http.StatusBadRequest, "INVALID_REQUEST", "download token is unknown or expired")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(data)
}

// wechatBillHeader is the ALL bill's column row.
var wechatBillHeader = []string{"交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号",
	"用户标识", "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号",
	"退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注"}

// wechatRate is the sandbox's fee, 0.6% as WeChat Pay's usual rate, as
// 1/100000 yuan per fen of the trade, for exact arithmetic: 1 fen × 0.6% =
// 0.00006 yuan.
const wechatRate = 6

// wechatBillCSV writes lines in WeChat Pay's bill format: a header row,
// one row per payment or refund with every field prefixed by a backtick
// (so spreadsheets keep long numbers as text), then the summary's header
// and row.
func (s *Sandbox) wechatBillCSV(lines []channel.StatementLine) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(wechatBillHeader, ",") + "\r\n")
	var payments, refunds, fees int64
	for _, l := range lines {
		payer, tradeType, subject, refundID := "", "MWEB", "", "0"
		if o := s.order(channel.Wechat, l.No); o != nil {
			payer, subject = o.Payer, o.Subject
			if o.Code {
				tradeType = "MICROPAY"
			}
			if l.Kind == channel.StatementRefund {
				refundID = wechatRefundID(o, l.RefundNo)
			}
		}
		// The fee, in 1/100000 yuan: the bill shows fees with five decimals.
		fee := l.Amount * wechatRate
		row := []string{l.At.In(s.opt.Location).Format("2006-01-02 15:04:05"), s.keys.WechatAppID, s.keys.WechatMchID, "0", "",
			l.GatewayNo, l.No, payer, tradeType}
		if l.Kind == channel.StatementRefund {
			refunds += l.Amount
			fees -= fee
			row = append(row, "REFUND", "OTHERS", "CNY", "0.00", "0.00", refundID, l.RefundNo, wechatYuan(l.Amount), "0.00",
				"ORIGINAL", "SUCCESS", subject, "", "-"+wechatFee(fee), "0.60%", "0.00", wechatYuan(l.Amount), "")
		} else {
			payments += l.Amount
			fees += fee
			row = append(row, "SUCCESS", "OTHERS", "CNY", wechatYuan(l.Amount), "0.00", "0", "0", "0.00", "0.00",
				"", "", subject, "", wechatFee(fee), "0.60%", wechatYuan(l.Amount), "0.00", "")
		}
		writeBackticked(&b, row)
	}
	b.WriteString("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n")
	feeText := wechatFee(fees)
	if fees < 0 {
		feeText = "-" + wechatFee(-fees)
	}
	writeBackticked(&b, []string{fmt.Sprint(len(lines)), wechatYuan(payments), wechatYuan(refunds), "0.00",
		feeText, wechatYuan(payments), wechatYuan(refunds)})
	return b.Bytes()
}

func writeBackticked(b *bytes.Buffer, fields []string) {
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		// Commas would break the unquoted format; WeChat Pay's own product
		// names never carry them.
		b.WriteString("`" + strings.ReplaceAll(f, ",", "，"))
	}
	b.WriteString("\r\n")
}

// wechatYuan formats fen as yuan with two decimals, no sign.
func wechatYuan(fen int64) string {
	if fen < 0 {
		fen = -fen
	}
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}

// wechatFee formats a fee in 1/100000 yuan with five decimals.
func wechatFee(v int64) string {
	if v < 0 {
		v = -v
	}
	return fmt.Sprintf("%d.%05d", v/100000, v%100000)
}
