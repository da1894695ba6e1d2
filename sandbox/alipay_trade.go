package sandbox

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// alipayParseTime reads Alipay's wall-clock times, which are Beijing time
// without a zone; time_expire may leave out the seconds.
func alipayParseTime(v string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{alipayTimeLayout, "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errAlipayTime
}

// alipayExpire is when an order stops accepting payment: time_expire when
// given (it wins, as at Alipay), else timeout_express counted from now.
func (s *Sandbox) alipayExpire(b alipayBiz) (time.Time, *alipayFault) {
	if v := string(b.TimeExpire); v != "" {
		t, err := alipayParseTime(v, s.opt.Location)
		if err != nil {
			return time.Time{}, alipayBusiness("ACQ.INVALID_PARAMETER", "time_expire is not yyyy-MM-dd HH:mm")
		}
		return t, nil
	}
	v := string(b.TimeoutExpress)
	if v == "" {
		return time.Time{}, nil
	}
	now := s.now().In(s.opt.Location)
	if v == "1c" {
		return time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, s.opt.Location), nil
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[v[len(v)-1]]
	n, err := strconv.Atoi(v[:len(v)-1])
	if unit == 0 || err != nil || n <= 0 {
		return time.Time{}, alipayBusiness("ACQ.INVALID_PARAMETER", "timeout_express is a whole number of m, h or d, or 1c")
	}
	return now.Add(time.Duration(n) * unit), nil
}

// alipayPagePay is the payer's browser opening a wap.pay (or page.pay)
// link: the order is created and the payer lands on the checkout page.
func (s *Sandbox) alipayPagePay(w http.ResponseWriter, r *http.Request, c *alipayCall) {
	b := c.Biz
	if b.OutTradeNo == "" || b.Subject == "" || b.TotalAmount == "" {
		alipayErrorPage(w, alipayMissing("isv.missing-parameter", "out_trade_no, subject and total_amount are required"))
		return
	}
	amount, err := onecard.ParseYuan(string(b.TotalAmount))
	if err != nil || amount <= 0 {
		alipayErrorPage(w, alipayBusiness("ACQ.INVALID_PARAMETER", "total_amount must be a positive amount in yuan with at most two decimals"))
		return
	}
	expire, fault := s.alipayExpire(b)
	if fault != nil {
		alipayErrorPage(w, fault)
		return
	}
	if !expire.IsZero() && s.now().After(expire) {
		alipayErrorPage(w, alipayBusiness("ACQ.TRADE_HAS_CLOSE", "the order passed its time_expire; create a new one"))
		return
	}
	o, err := s.createOrder(&Order{Channel: channel.Alipay, No: string(b.OutTradeNo), Amount: amount, Subject: string(b.Subject),
		NotifyURL: c.Params["notify_url"], ReturnURL: c.Params["return_url"], Expire: expire})
	if err != nil {
		sub := "ACQ.INVALID_PARAMETER"
		if channel.Code(err) == channel.ErrRefused {
			sub = "ACQ.CONTEXT_INCONSISTENT"
		}
		alipayErrorPage(w, alipayBusiness(sub, err.Error()))
		return
	}
	http.Redirect(w, r, "/sandbox/checkout/alipay/"+url.PathEscape(o.No), http.StatusFound)
}

// alipayFind is the order a call names, by trade_no first as Alipay does,
// else by out_trade_no.
func (s *Sandbox) alipayFind(b alipayBiz) (*Order, *alipayFault) {
	if b.TradeNo == "" && b.OutTradeNo == "" {
		return nil, alipayBusiness("ACQ.INVALID_PARAMETER", "out_trade_no or trade_no is required")
	}
	no := string(b.OutTradeNo)
	if b.TradeNo != "" {
		no = ""
		for _, o := range s.Orders(channel.Alipay) {
			if o.GatewayNo == string(b.TradeNo) {
				no = o.No
			}
		}
	}
	if o := s.order(channel.Alipay, no); o != nil {
		return o, nil
	}
	return nil, alipayBusiness("ACQ.TRADE_NOT_EXIST", "交易不存在")
}

// alipayStatus is an order's trade_status. Alipay has no word for a code
// payment waiting on the payer's phone (it is still WAIT_BUYER_PAY) nor for
// a full refund (the trade is TRADE_CLOSED, having been paid).
func alipayStatus(o *Order) string {
	switch o.State {
	case channel.StatePaid:
		return "TRADE_SUCCESS"
	case channel.StateClosed, channel.StateRefunded:
		return "TRADE_CLOSED"
	default:
		return "WAIT_BUYER_PAY"
	}
}

func (s *Sandbox) alipayTime(t time.Time) string {
	return t.In(s.opt.Location).Format(alipayTimeLayout)
}

func (s *Sandbox) alipayQuery(c *alipayCall) (map[string]any, *alipayFault) {
	o, fault := s.alipayFind(c.Biz)
	if fault != nil {
		return nil, fault
	}
	res := map[string]any{"trade_no": o.GatewayNo, "out_trade_no": o.No, "trade_status": alipayStatus(o),
		"total_amount": alipayYuan(o.Amount), "subject": o.Subject}
	if !o.PaidAt.IsZero() {
		res["buyer_user_id"] = o.Payer
		res["buyer_pay_amount"] = alipayYuan(o.Amount)
		res["receipt_amount"] = alipayYuan(o.Amount)
		res["invoice_amount"] = alipayYuan(o.Amount)
		res["point_amount"] = "0.00"
		res["send_pay_date"] = s.alipayTime(o.PaidAt)
	}
	return alipayOK(res), nil
}

// alipayClose closes a trade waiting for payment. Alipay refuses to close
// anything else, a closed trade included, with ACQ.TRADE_STATUS_ERROR.
func (s *Sandbox) alipayClose(c *alipayCall) (map[string]any, *alipayFault) {
	o, fault := s.alipayFind(c.Biz)
	if fault != nil {
		return nil, fault
	}
	if o.State != channel.StateWaiting && o.State != channel.StatePaying {
		return nil, alipayBusiness("ACQ.TRADE_STATUS_ERROR", "交易状态不合法: only a trade waiting for payment can be closed")
	}
	if err := s.closeOrder(channel.Alipay, o.No); err != nil {
		return nil, alipayBusiness("ACQ.TRADE_STATUS_ERROR", "交易状态不合法: "+err.Error())
	}
	return alipayOK(map[string]any{"trade_no": o.GatewayNo, "out_trade_no": o.No}), nil
}

func (s *Sandbox) alipayRefund(c *alipayCall) (map[string]any, *alipayFault) {
	o, fault := s.alipayFind(c.Biz)
	if fault != nil {
		return nil, fault
	}
	amount, err := onecard.ParseYuan(string(c.Biz.RefundAmount))
	if err != nil || amount <= 0 {
		return nil, alipayBusiness("ACQ.INVALID_PARAMETER", "refund_amount must be a positive amount in yuan")
	}
	// Without out_request_no Alipay takes the trade number: such a refund
	// can only happen once.
	refundNo := string(c.Biz.OutRequestNo)
	if refundNo == "" {
		refundNo = o.GatewayNo
	}
	seen := false
	for _, r := range o.Refunds {
		seen = seen || r.No == refundNo
	}
	before := o.Refunded()
	res, err := s.refund(channel.Alipay, o.No, refundNo, amount)
	if err != nil {
		switch {
		case seen:
			return nil, alipayBusiness("ACQ.CONTEXT_INCONSISTENT", err.Error())
		case o.State != channel.StatePaid:
			return nil, alipayBusiness("ACQ.TRADE_STATUS_ERROR", err.Error())
		default:
			return nil, alipayBusiness("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", err.Error())
		}
	}
	change := "N"
	if !seen && res.Refunded() > before {
		change = "Y"
	}
	out := map[string]any{"trade_no": res.GatewayNo, "out_trade_no": res.No, "buyer_user_id": res.Payer,
		"fund_change": change, "refund_fee": alipayYuan(res.Refunded()), "send_back_fee": alipayYuan(amount)}
	for _, r := range res.Refunds {
		if r.No == refundNo {
			out["gmt_refund_pay"] = s.alipayTime(r.At)
		}
	}
	return alipayOK(out), nil
}

// alipayCodePay is alipay.trade.pay: the merchant charges the payment code
// the payer shows. Paid at once is 10000; a payer who must confirm on the
// phone makes it 10003, and the merchant queries until it settles.
func (s *Sandbox) alipayCodePay(c *alipayCall) (map[string]any, *alipayFault) {
	b := c.Biz
	if b.Scene != "bar_code" && b.Scene != "wave_code" {
		return nil, alipayBusiness("ACQ.INVALID_PARAMETER", "scene must be bar_code or wave_code")
	}
	if b.AuthCode == "" || b.OutTradeNo == "" || b.Subject == "" {
		return nil, alipayMissing("isv.missing-parameter", "auth_code, out_trade_no and subject are required")
	}
	amount, err := onecard.ParseYuan(string(b.TotalAmount))
	if err != nil || amount <= 0 {
		return nil, alipayBusiness("ACQ.INVALID_PARAMETER", "total_amount must be a positive amount in yuan")
	}
	if old := s.order(channel.Alipay, string(b.OutTradeNo)); old != nil && old.Amount != amount {
		return nil, alipayBusiness("ACQ.CONTEXT_INCONSISTENT", "out_trade_no already used with another amount")
	}
	o, err := s.codePay(channel.Alipay, string(b.OutTradeNo), string(b.AuthCode), string(b.Subject), amount)
	if err != nil {
		if channel.Code(err) == channel.ErrRefused {
			return nil, alipayBusiness("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付失败，"+err.Error())
		}
		return nil, alipayBusiness("ACQ.INVALID_PARAMETER", err.Error())
	}
	res := map[string]any{"trade_no": o.GatewayNo, "out_trade_no": o.No, "buyer_user_id": o.Payer, "total_amount": alipayYuan(o.Amount)}
	switch o.State {
	case channel.StatePaid:
		res["receipt_amount"] = alipayYuan(o.Amount)
		res["buyer_pay_amount"] = alipayYuan(o.Amount)
		res["invoice_amount"] = alipayYuan(o.Amount)
		res["gmt_payment"] = s.alipayTime(o.PaidAt)
		res["fund_bill_list"] = []map[string]string{{"fund_channel": "ALIPAYACCOUNT", "amount": alipayYuan(o.Amount)}}
		return alipayOK(res), nil
	case channel.StatePaying:
		res["code"], res["msg"] = "10003", "Order success pay inprocess"
		return res, nil
	case channel.StateClosed, channel.StateRefunded:
		return nil, alipayBusiness("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
	default:
		return nil, alipayBusiness("ACQ.TRADE_STATUS_ERROR", "the order waits for payment through another product")
	}
}

// alipayCancel is alipay.trade.cancel, the reversal of a code payment:
// action close when nothing was paid, refund when it was.
func (s *Sandbox) alipayCancel(c *alipayCall) (map[string]any, *alipayFault) {
	o, fault := s.alipayFind(c.Biz)
	if fault != nil {
		return nil, fault
	}
	action := "close"
	if o.State == channel.StatePaid || o.State == channel.StateRefunded {
		action = "refund"
	}
	if err := s.reverse(channel.Alipay, o.No); err != nil {
		return nil, alipayBusiness("ACQ.TRADE_NOT_EXIST", err.Error())
	}
	return alipayOK(map[string]any{"trade_no": o.GatewayNo, "out_trade_no": o.No, "retry_flag": "N", "action": action}), nil
}

// alipayOAuthToken exchanges the auth_code a payer's consent produced for
// the payer's user ID. Its success has no code member, and a bad code is
// an error_response: both as Alipay answers this method.
func (s *Sandbox) alipayOAuthToken(c *alipayCall) (map[string]any, *alipayFault) {
	if g := c.Params["grant_type"]; g != "authorization_code" {
		return nil, alipayInvalid("isv.grant-type-invalid", "the sandbox only supports grant_type authorization_code")
	}
	code := c.Params["code"]
	// Codes of every channel share one table; only Alipay's are valid
	// here, and a WeChat code must not be used up by trying it.
	if !strings.HasPrefix(code, "a") {
		return nil, alipayInvalid("isv.code-invalid", "授权码code无效")
	}
	payer, ok := s.exchangeOAuthCode(code)
	if !ok {
		return nil, alipayInvalid("isv.code-invalid", "授权码code无效")
	}
	return map[string]any{"user_id": payer, "access_token": "authusrB" + randomHex(16), "expires_in": 1296000,
		"refresh_token": "authusrB" + randomHex(16), "re_expires_in": 2592000, "auth_start": s.alipayTime(s.now())}, nil
}
