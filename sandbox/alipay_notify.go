package sandbox

import (
	"net/http"
	"net/url"
	"strings"
)

// alipayNotification builds Alipay's asynchronous notification of an
// order: a form POST to notify_url, signed with "Alipay's" key over every
// parameter but sign and sign_type. It is rebuilt at each attempt, so a
// retry after a refund reports the refund, as Alipay's do.
func (s *Sandbox) alipayNotification(o *Order) (*http.Request, error) {
	p := map[string]string{
		"notify_time":  s.alipayTime(s.now()),
		"notify_type":  "trade_status_sync",
		"notify_id":    randomHex(16),
		"charset":      "utf-8",
		"version":      "1.0",
		"app_id":       s.keys.AlipayAppID,
		"seller_id":    alipaySellerID,
		"trade_no":     o.GatewayNo,
		"out_trade_no": o.No,
		"subject":      o.Subject,
		"buyer_id":     o.Payer,
		"trade_status": alipayStatus(o),
		"total_amount": alipayYuan(o.Amount),
	}
	if !o.Created.IsZero() {
		p["gmt_create"] = s.alipayTime(o.Created)
	}
	if !o.PaidAt.IsZero() {
		p["gmt_payment"] = s.alipayTime(o.PaidAt)
		p["receipt_amount"] = alipayYuan(o.Amount)
		p["buyer_pay_amount"] = alipayYuan(o.Amount)
		p["invoice_amount"] = alipayYuan(o.Amount)
	}
	if n := len(o.Refunds); n > 0 {
		p["refund_fee"] = alipayYuan(o.Refunded())
		p["gmt_refund"] = s.alipayTime(o.Refunds[n-1].At)
	}
	sign, err := s.alipaySign([]byte(alipaySignContent(p, "sign", "sign_type")))
	if err != nil {
		return nil, err
	}
	p["sign_type"] = "RSA2"
	p["sign"] = sign
	form := url.Values{}
	for k, v := range p {
		if v != "" {
			form.Set(k, v)
		}
	}
	req, err := http.NewRequest(http.MethodPost, o.NotifyURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return req, nil
}

// alipayAcked: Alipay stops retrying when the merchant's body is exactly
// "success"; anything else, "fail" included, is tried again later.
func alipayAcked(_ *http.Response, body []byte) bool { return string(body) == "success" }
