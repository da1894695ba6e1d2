package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/onecard-campus/onecard/channel"
)

// WeChat Pay v3, mounted under /wechat: the merchant's BaseURL is
// {sandbox}/wechat, so /wechat/v3/pay/transactions/h5 is WeChat Pay's
// /v3/pay/transactions/h5. Every API call must carry a valid merchant
// signature and every answer is signed with the platform key (see
// wechat_sign.go); the bill download and OAuth are in wechat_bill.go and
// below.

// wechatRoutes registers the WeChat Pay endpoints and the channel's
// notification builder.
func (s *Sandbox) wechatRoutes() {
	p := wechatPrefix
	s.mux.HandleFunc("POST "+p+"/v3/pay/transactions/h5", s.wechatAPI(s.wechatH5))
	s.mux.HandleFunc("GET "+p+"/v3/pay/transactions/out-trade-no/{no}", s.wechatAPI(s.wechatQuery))
	s.mux.HandleFunc("POST "+p+"/v3/pay/transactions/out-trade-no/{no}/close", s.wechatAPI(s.wechatClose))
	s.mux.HandleFunc("POST "+p+"/v3/pay/transactions/out-trade-no/{no}/reverse", s.wechatAPI(s.wechatReverse))
	s.mux.HandleFunc("POST "+p+"/v3/pay/transactions/codepay", s.wechatAPI(s.wechatCodePay))
	s.mux.HandleFunc("POST "+p+"/v3/refund/domestic/refunds", s.wechatAPI(s.wechatRefund))
	s.mux.HandleFunc("GET "+p+"/v3/bill/tradebill", s.wechatAPI(s.wechatTradeBill))
	s.mux.HandleFunc("GET "+p+wechatBillPath, s.wechatAPI(s.wechatBillDownload))
	s.mux.HandleFunc("GET "+p+"/sns/oauth2/access_token", s.wechatOAuth)
	s.mu.Lock()
	s.notifier[channel.Wechat] = s.wechatNotification
	s.acker[channel.Wechat] = wechatAcked
	s.mu.Unlock()
}

// wechatAmount is WeChat Pay's amount object, in fen.
type wechatAmount struct {
	Total         int64  `json:"total"`
	PayerTotal    int64  `json:"payer_total,omitempty"`
	Currency      string `json:"currency,omitempty"`
	PayerCurrency string `json:"payer_currency,omitempty"`
	// Refund is not part of WeChat Pay's transaction: its query tells a
	// refunded trade only by trade_state REFUND. The sandbox adds the sum
	// refunded so that a client can tell a full refund; clients must not
	// rely on it against the real gateway.
	Refund int64 `json:"refund,omitempty"`
}

type wechatPayer struct {
	OpenID string `json:"openid"`
}

// wechatTransaction is the transaction object of the query answer, the
// code payment answer and the notification resource.
type wechatTransaction struct {
	AppID          string       `json:"appid"`
	MchID          string       `json:"mchid"`
	OutTradeNo     string       `json:"out_trade_no"`
	TransactionID  string       `json:"transaction_id,omitempty"`
	TradeType      string       `json:"trade_type,omitempty"`
	TradeState     string       `json:"trade_state"`
	TradeStateDesc string       `json:"trade_state_desc"`
	BankType       string       `json:"bank_type,omitempty"`
	Attach         string       `json:"attach"`
	SuccessTime    string       `json:"success_time,omitempty"`
	Payer          *wechatPayer `json:"payer,omitempty"`
	Amount         wechatAmount `json:"amount"`
}

// wechatTradeState spells an order's state in WeChat Pay's words.
func wechatTradeState(o *Order) (state, desc string) {
	switch o.State {
	case channel.StateWaiting:
		return "NOTPAY", "未支付"
	case channel.StatePaying:
		return "USERPAYING", "用户支付中，需要输入密码"
	case channel.StatePaid:
		if o.Refunded() > 0 {
			return "REFUND", "转入退款"
		}
		return "SUCCESS", "支付成功"
	case channel.StateRefunded:
		return "REFUND", "转入退款"
	case channel.StateClosed:
		if o.Code {
			// A code payment is only closed by a reversal.
			return "REVOKED", "已撤销"
		}
		return "CLOSED", "已关闭"
	}
	return "PAYERROR", "支付失败"
}

func (s *Sandbox) wechatTransaction(o *Order) wechatTransaction {
	state, desc := wechatTradeState(o)
	tx := wechatTransaction{AppID: s.keys.WechatAppID, MchID: s.keys.WechatMchID, OutTradeNo: o.No,
		TradeType: "MWEB", TradeState: state, TradeStateDesc: desc,
		Amount: wechatAmount{Total: o.Amount, Currency: "CNY", Refund: o.Refunded()}}
	if o.Code {
		tx.TradeType = "MICROPAY"
	}
	if !o.PaidAt.IsZero() || o.State == channel.StatePaid || o.State == channel.StateRefunded {
		// WeChat Pay shows the trade number, payer and paid amount only
		// once the payer has paid. (The state counts too: Notification
		// builds messages for orders made up by tests.)
		tx.TransactionID = o.GatewayNo
		tx.BankType = "OTHERS"
		if !o.PaidAt.IsZero() {
			tx.SuccessTime = o.PaidAt.In(s.opt.Location).Format(time.RFC3339)
		}
		tx.Payer = &wechatPayer{OpenID: o.Payer}
		tx.Amount.PayerTotal, tx.Amount.PayerCurrency = o.Amount, "CNY"
	}
	return tx
}

// wechatDecode reads a JSON request body; false means it answered 400.
func (s *Sandbox) wechatDecode(w http.ResponseWriter, body []byte, v any) bool {
	if err := json.Unmarshal(body, v); err != nil {
		s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "body is not valid JSON: "+err.Error())
		return false
	}
	return true
}

// wechatMerchant checks the appid and mchid a request names; WeChat Pay
// refuses an appid not bound to the merchant.
func (s *Sandbox) wechatMerchant(w http.ResponseWriter, appid, mchid string, needApp bool) bool {
	if mchid != s.keys.WechatMchID {
		s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "mchid is not the merchant that signed the request")
		return false
	}
	if needApp && appid != s.keys.WechatAppID {
		s.wechatError(w, http.StatusBadRequest, "APPID_MCHID_NOT_MATCH", "appid is not bound to this mchid")
		return false
	}
	return true
}

// wechatFail answers a core error in WeChat Pay's codes.
func (s *Sandbox) wechatFail(w http.ResponseWriter, err error) {
	var ce *channel.Error
	if !errors.As(err, &ce) {
		s.wechatError(w, http.StatusInternalServerError, "SYSTEM_ERROR", err.Error())
		return
	}
	switch ce.Code {
	case channel.ErrNotFound:
		s.wechatError(w, http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
	case channel.ErrAlreadyPaid:
		s.wechatError(w, http.StatusBadRequest, "ORDERPAID", "该订单已支付")
	case channel.ErrMalformed:
		s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", ce.Message)
	default:
		s.wechatError(w, http.StatusBadRequest, "INVALID_REQUEST", ce.Message)
	}
}

func (s *Sandbox) wechatH5(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		AppID       string       `json:"appid"`
		MchID       string       `json:"mchid"`
		Description string       `json:"description"`
		OutTradeNo  string       `json:"out_trade_no"`
		TimeExpire  string       `json:"time_expire"`
		NotifyURL   string       `json:"notify_url"`
		Amount      wechatAmount `json:"amount"`
		SceneInfo   struct {
			PayerClientIP string `json:"payer_client_ip"`
			H5Info        *struct {
				Type string `json:"type"`
			} `json:"h5_info"`
		} `json:"scene_info"`
	}
	if !s.wechatDecode(w, body, &in) || !s.wechatMerchant(w, in.AppID, in.MchID, true) {
		return
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"description", in.Description}, {"out_trade_no", in.OutTradeNo},
		{"notify_url", in.NotifyURL}, {"scene_info.payer_client_ip", in.SceneInfo.PayerClientIP}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if in.SceneInfo.H5Info == nil || in.SceneInfo.H5Info.Type == "" {
		missing = append(missing, "scene_info.h5_info.type")
	}
	if len(missing) > 0 {
		s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "missing "+strings.Join(missing, ", "))
		return
	}
	if in.Amount.Currency != "" && in.Amount.Currency != "CNY" {
		s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "currency must be CNY")
		return
	}
	var expire time.Time
	if in.TimeExpire != "" {
		t, err := time.Parse(time.RFC3339, in.TimeExpire)
		if err != nil {
			s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "time_expire is not RFC 3339")
			return
		}
		expire = t
	}
	o, err := s.createOrder(&Order{Channel: channel.Wechat, No: in.OutTradeNo, Amount: in.Amount.Total,
		Subject: in.Description, NotifyURL: in.NotifyURL, Expire: expire})
	if err != nil {
		s.wechatFail(w, err)
		return
	}
	// The same out_trade_no again is answered like the first time, unless
	// the order can no longer be paid.
	if cur := s.order(channel.Wechat, o.No); cur != nil {
		switch cur.State {
		case channel.StatePaid, channel.StateRefunded:
			s.wechatError(w, http.StatusBadRequest, "ORDERPAID", "该订单已支付")
			return
		case channel.StateClosed:
			s.wechatError(w, http.StatusBadRequest, "ORDER_CLOSED", "订单已关闭")
			return
		}
	}
	s.wechatJSON(w, http.StatusOK, map[string]string{"h5_url": s.baseURL() + "/sandbox/checkout/wechat/" + o.No})
}

func (s *Sandbox) wechatQuery(w http.ResponseWriter, r *http.Request, _ []byte) {
	if !s.wechatMerchant(w, "", r.URL.Query().Get("mchid"), false) {
		return
	}
	o := s.order(channel.Wechat, r.PathValue("no"))
	if o == nil {
		s.wechatError(w, http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
		return
	}
	s.wechatJSON(w, http.StatusOK, s.wechatTransaction(o))
}

func (s *Sandbox) wechatClose(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		MchID string `json:"mchid"`
	}
	if !s.wechatDecode(w, body, &in) || !s.wechatMerchant(w, "", in.MchID, false) {
		return
	}
	if err := s.closeOrder(channel.Wechat, r.PathValue("no")); err != nil {
		s.wechatFail(w, err)
		return
	}
	s.wechatReply(w, http.StatusNoContent, nil)
}

func (s *Sandbox) wechatReverse(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		AppID string `json:"appid"`
		MchID string `json:"mchid"`
	}
	if !s.wechatDecode(w, body, &in) || !s.wechatMerchant(w, in.AppID, in.MchID, true) {
		return
	}
	no := r.PathValue("no")
	if err := s.reverse(channel.Wechat, no); err != nil {
		s.wechatFail(w, err)
		return
	}
	s.wechatJSON(w, http.StatusOK, map[string]string{"appid": in.AppID, "mchid": in.MchID, "out_trade_no": no})
}

func (s *Sandbox) wechatCodePay(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		AppID       string       `json:"appid"`
		MchID       string       `json:"mchid"`
		Description string       `json:"description"`
		OutTradeNo  string       `json:"out_trade_no"`
		Amount      wechatAmount `json:"amount"`
		Payer       struct {
			AuthCode string `json:"auth_code"`
		} `json:"payer"`
	}
	if !s.wechatDecode(w, body, &in) || !s.wechatMerchant(w, in.AppID, in.MchID, true) {
		return
	}
	if in.OutTradeNo == "" || in.Description == "" || in.Payer.AuthCode == "" || in.Amount.Total <= 0 {
		s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "out_trade_no, description, payer.auth_code and a positive amount.total are required")
		return
	}
	o, err := s.codePay(channel.Wechat, in.OutTradeNo, in.Payer.AuthCode, in.Description, in.Amount.Total)
	if err != nil {
		var ce *channel.Error
		if errors.As(err, &ce) && ce.Code == channel.ErrRefused && strings.Contains(ce.Message, "payment code") {
			code := "AUTH_CODE_INVALID"
			if strings.Contains(ce.Message, "used") {
				code = "AUTHCODEEXPIRE"
			}
			s.wechatError(w, http.StatusBadRequest, code, ce.Message)
			return
		}
		s.wechatFail(w, err)
		return
	}
	switch o.State {
	case channel.StatePaying:
		// WeChat Pay answers 202 USERPAYING while the payer types the
		// password; the merchant queries until the trade settles.
		s.wechatError(w, http.StatusAccepted, "USERPAYING", "用户支付中，需要输入密码")
	case channel.StateClosed:
		s.wechatError(w, http.StatusBadRequest, "ORDERREVERSED", "订单已撤销")
	default:
		s.wechatJSON(w, http.StatusOK, s.wechatTransaction(o))
	}
}

// wechatRefundID is the gateway's number of a refund, stable for the same
// refund so that a repeated request and the statement agree.
func wechatRefundID(o *Order, refundNo string) string {
	for i, rf := range o.Refunds {
		if rf.No == refundNo {
			return fmt.Sprintf("50%s%02d", strings.TrimPrefix(o.GatewayNo, "4200"), i+1)
		}
	}
	return ""
}

func (s *Sandbox) wechatRefund(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		OutTradeNo  string       `json:"out_trade_no"`
		OutRefundNo string       `json:"out_refund_no"`
		Reason      string       `json:"reason"`
		Amount      wechatAmount `json:"amount"`
	}
	if !s.wechatDecode(w, body, &in) {
		return
	}
	if in.OutTradeNo == "" || in.OutRefundNo == "" || in.Amount.Refund <= 0 || in.Amount.Total <= 0 {
		s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "out_trade_no, out_refund_no and positive amount.refund and amount.total are required")
		return
	}
	if in.Amount.Currency != "" && in.Amount.Currency != "CNY" {
		s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "currency must be CNY")
		return
	}
	cur := s.order(channel.Wechat, in.OutTradeNo)
	if cur == nil {
		s.wechatError(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在")
		return
	}
	if cur.Amount != in.Amount.Total {
		s.wechatError(w, http.StatusBadRequest, "INVALID_REQUEST", "amount.total is not the order's amount")
		return
	}
	o, err := s.refund(channel.Wechat, in.OutTradeNo, in.OutRefundNo, in.Amount.Refund)
	if err != nil {
		s.wechatFail(w, err)
		return
	}
	var at time.Time
	for _, rf := range o.Refunds {
		if rf.No == in.OutRefundNo {
			at = rf.At
		}
	}
	when := at.In(s.opt.Location).Format(time.RFC3339)
	s.wechatJSON(w, http.StatusOK, map[string]any{
		"refund_id": wechatRefundID(o, in.OutRefundNo), "out_refund_no": in.OutRefundNo,
		"transaction_id": o.GatewayNo, "out_trade_no": o.No, "channel": "ORIGINAL",
		"user_received_account": "支付用户零钱", "success_time": when, "create_time": when,
		"status": "SUCCESS", "funds_account": "AVAILABLE",
		"amount": map[string]any{"total": o.Amount, "refund": in.Amount.Refund, "payer_total": o.Amount,
			"payer_refund": in.Amount.Refund, "settlement_total": o.Amount, "settlement_refund": in.Amount.Refund,
			"discount_refund": 0, "currency": "CNY", "from": []any{}},
	})
}

// wechatOAuth is the official account's OAuth code exchange
// (api.weixin.qq.com/sns/oauth2/access_token). Like the real one it is not
// signed and answers errors with 200 and errcode.
func (s *Sandbox) wechatOAuth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail := func(code int, msg string) {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": code, "errmsg": msg})
	}
	switch {
	case q.Get("appid") != s.keys.WechatAppID:
		fail(40013, "invalid appid")
		return
	case q.Get("secret") != s.keys.WechatAppSecret:
		fail(40125, "invalid appsecret")
		return
	case q.Get("grant_type") != "authorization_code":
		fail(40002, "invalid grant_type")
		return
	case q.Get("code") == "":
		fail(41008, "missing code")
		return
	}
	code := q.Get("code")
	// Codes of all channels share one table; another channel's code must not
	// be consumed here.
	if !strings.HasPrefix(code, string(channel.Wechat)[:1]) {
		fail(40029, "invalid code")
		return
	}
	openid, ok := s.exchangeOAuthCode(code)
	if !ok {
		fail(40029, "invalid code")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": randomHex(24), "expires_in": 7200,
		"refresh_token": randomHex(24), "openid": openid, "scope": "snsapi_base"})
}
