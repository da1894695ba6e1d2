package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/go-pay/gopay"
	wxpay "github.com/go-pay/gopay/wechat/v3"

	"github.com/onecard-campus/onecard/channel"
)

// tradeStates maps WeChat Pay's trade_state. REFUND is a paid trade with
// refunds; trade() turns it into StateRefunded when it can tell the refund
// was in full.
var tradeStates = map[string]channel.State{
	"NOTPAY":     channel.StateWaiting,
	"USERPAYING": channel.StatePaying,
	"SUCCESS":    channel.StatePaid,
	"REFUND":     channel.StatePaid,
	"CLOSED":     channel.StateClosed,
	"REVOKED":    channel.StateClosed,
	"PAYERROR":   channel.StateClosed,
}

// txn is the part of WeChat Pay's transaction object the channel reads;
// gopay has one struct per API for the same object.
type txn struct {
	OutTradeNo, TransactionID, TradeState, SuccessTime, OpenID string
	Total, Refunded                                            int64
}

func (t txn) trade() (*channel.Trade, error) {
	st, ok := tradeStates[t.TradeState]
	if !ok {
		return nil, channel.NewError(channel.ErrMalformed, "unknown trade_state "+t.TradeState)
	}
	tr := &channel.Trade{No: t.OutTradeNo, GatewayNo: t.TransactionID, State: st, Amount: t.Total,
		Refunded: t.Refunded, Payer: t.OpenID}
	if t.TradeState == "REFUND" && t.Total > 0 && t.Refunded >= t.Total {
		tr.State = channel.StateRefunded
	}
	if t.SuccessTime != "" {
		at, err := time.Parse(time.RFC3339, t.SuccessTime)
		if err != nil {
			return nil, channel.NewError(channel.ErrMalformed, "success_time is not RFC 3339")
		}
		tr.PaidAt = at
	}
	return tr, nil
}

// refunded reads the sum refunded from a verified answer's body. WeChat
// Pay's transaction does not carry it (a refunded trade only says REFUND,
// and reads here as paid); the sandbox adds amount.refund so that a full
// refund shows as refunded.
func refunded(si *wxpay.SignInfo) int64 {
	if si == nil {
		return 0
	}
	var v struct {
		Amount struct {
			Refund int64 `json:"refund"`
		} `json:"amount"`
	}
	_ = json.Unmarshal([]byte(si.SignBody), &v)
	return v.Amount.Refund
}

func fromPayer(p *wxpay.Payer) string {
	if p == nil {
		return ""
	}
	return p.Openid
}

func fromAmount(a *wxpay.Amount) int64 {
	if a == nil {
		return 0
	}
	return int64(a.Total)
}

// description is what the payer sees: required by WeChat Pay, at most 127
// characters.
func description(subject, no string) string {
	if subject == "" {
		subject = no
	}
	if utf8.RuneCountInString(subject) > 127 {
		subject = string([]rune(subject)[:127])
	}
	return subject
}

// Create implements channel.Gateway with an H5 payment: PayURL is h5_url,
// the page that hands over to the WeChat app. The payer's IP comes from
// WithPayerIP.
func (g *Gateway) Create(ctx context.Context, o channel.Order) (*channel.Checkout, error) {
	if err := checkNo("order number", o.No); err != nil {
		return nil, err
	}
	bm := make(gopay.BodyMap)
	bm.Set("appid", g.cfg.AppID).
		Set("description", description(o.Subject, o.No)).
		Set("out_trade_no", o.No).
		Set("notify_url", o.NotifyURL).
		SetBodyMap("amount", func(b gopay.BodyMap) { b.Set("total", o.Amount).Set("currency", "CNY") }).
		SetBodyMap("scene_info", func(b gopay.BodyMap) {
			b.Set("payer_client_ip", payerIP(ctx)).
				SetBodyMap("h5_info", func(b gopay.BodyMap) { b.Set("type", "Wap") })
		})
	if !o.Expire.IsZero() {
		bm.Set("time_expire", o.Expire.In(g.loc).Format(time.RFC3339))
	}
	rsp, err := g.c.V3TransactionH5(ctx, bm)
	if rsp == nil {
		return nil, transport("create", err)
	}
	if err := g.check("create", rsp.Code, rsp.SignInfo, rsp.ErrResponse, err); err != nil {
		return nil, err
	}
	if rsp.Response == nil || rsp.Response.H5Url == "" {
		return nil, channel.NewError(channel.ErrMalformed, "create: answer has no h5_url")
	}
	return &channel.Checkout{PayURL: rsp.Response.H5Url}, nil
}

// Query implements channel.Gateway by out_trade_no.
func (g *Gateway) Query(ctx context.Context, no string) (*channel.Trade, error) {
	if err := checkNo("order number", no); err != nil {
		return nil, err
	}
	rsp, err := g.c.V3TransactionQueryOrder(ctx, wxpay.OutTradeNo, no)
	if rsp == nil {
		return nil, transport("query", err)
	}
	if err := g.check("query", rsp.Code, rsp.SignInfo, rsp.ErrResponse, err); err != nil {
		if channel.Code(err) == channel.ErrNotFound {
			return &channel.Trade{No: no, State: channel.StateNotFound}, nil
		}
		return nil, err
	}
	q := rsp.Response
	if q == nil {
		return nil, channel.NewError(channel.ErrMalformed, "query: empty answer")
	}
	if q.OutTradeNo != no {
		return nil, channel.NewError(channel.ErrMalformed, "query: answer is about order "+q.OutTradeNo)
	}
	return txn{OutTradeNo: q.OutTradeNo, TransactionID: q.TransactionId, TradeState: q.TradeState,
		SuccessTime: q.SuccessTime, OpenID: fromPayer(q.Payer), Total: fromAmount(q.Amount),
		Refunded: refunded(rsp.SignInfo)}.trade()
}

// Close implements channel.Gateway. WeChat Pay answers 204 for an unpaid
// or already closed order and ORDERPAID for a paid one.
func (g *Gateway) Close(ctx context.Context, no string) error {
	if err := checkNo("order number", no); err != nil {
		return err
	}
	rsp, err := g.c.V3TransactionCloseOrder(ctx, no)
	if rsp == nil {
		return transport("close", err)
	}
	err = g.check("close", rsp.Code, rsp.SignInfo, rsp.ErrResponse, err)
	if channel.Code(err) == channel.ErrRefused && rsp.ErrResponse.Code == "ORDER_CLOSED" {
		return nil // closing a closed order is not an error
	}
	return err
}

// Refund implements channel.Gateway. out_refund_no makes it idempotent at
// WeChat Pay: the same RefundNo twice refunds once.
func (g *Gateway) Refund(ctx context.Context, r channel.Refund) error {
	if err := checkNo("order number", r.No); err != nil {
		return err
	}
	if err := checkNo("refund number", r.RefundNo); err != nil {
		return err
	}
	bm := make(gopay.BodyMap)
	bm.Set("out_trade_no", r.No).
		Set("out_refund_no", r.RefundNo).
		SetBodyMap("amount", func(b gopay.BodyMap) {
			b.Set("refund", r.Amount).Set("total", r.Total).Set("currency", "CNY")
		})
	if r.Reason != "" {
		bm.Set("reason", r.Reason)
	}
	rsp, err := g.c.V3Refund(ctx, bm)
	if rsp == nil {
		return transport("refund", err)
	}
	if err := g.check("refund", rsp.Code, rsp.SignInfo, rsp.ErrResponse, err); err != nil {
		return err
	}
	if rsp.Response == nil {
		return channel.NewError(channel.ErrMalformed, "refund: empty answer")
	}
	switch rsp.Response.Status {
	case "SUCCESS", "PROCESSING":
		// PROCESSING is accepted: the money is on its way and the refund
		// number guards a retry.
		return nil
	}
	return channel.NewError(channel.ErrRefused, "refund is "+rsp.Response.Status)
}

// CodePay implements channel.Gateway with a payment-code (付款码) payment.
func (g *Gateway) CodePay(ctx context.Context, p channel.CodePayment) (*channel.Trade, error) {
	if err := checkNo("order number", p.No); err != nil {
		return nil, err
	}
	store := p.Terminal
	if store == "" {
		store = "onecard"
	}
	bm := make(gopay.BodyMap)
	bm.Set("appid", g.cfg.AppID).
		Set("description", description(p.Subject, p.No)).
		Set("out_trade_no", p.No).
		SetBodyMap("payer", func(b gopay.BodyMap) { b.Set("auth_code", p.AuthCode) }).
		SetBodyMap("amount", func(b gopay.BodyMap) { b.Set("total", p.Amount).Set("currency", "CNY") }).
		SetBodyMap("scene_info", func(b gopay.BodyMap) {
			b.SetBodyMap("store_info", func(b gopay.BodyMap) { b.Set("out_id", store) })
		})
	rsp, err := g.c.V3TransactionCodePay(ctx, bm)
	if rsp == nil {
		return nil, transport("code pay", err)
	}
	if err == nil && (rsp.Code == http.StatusAccepted || rsp.ErrResponse.Code == "USERPAYING") {
		// The payer must type the password: the trade is on its way, not
		// refused. gopay treats anything but 200 as an error answer, so the
		// signature is checked here.
		if err := g.verifyAnswer(rsp.SignInfo); err != nil {
			return nil, err
		}
		return &channel.Trade{No: p.No, State: channel.StatePaying, Amount: p.Amount}, nil
	}
	if err := g.check("code pay", rsp.Code, rsp.SignInfo, rsp.ErrResponse, err); err != nil {
		var ce *channel.Error
		if errors.As(err, &ce) {
			switch ce.Code {
			case channel.ErrAlreadyPaid:
				// ORDERPAID: this very payment went through on an earlier
				// attempt whose answer was lost; the trade tells how.
				return g.Query(ctx, p.No)
			case channel.ErrMalformed:
				// A code WeChat Pay cannot read is refused like a bad one:
				// the POS asks for another way to pay.
				return nil, channel.NewError(channel.ErrRefused, ce.Message)
			}
		}
		return nil, err
	}
	c := rsp.Response
	if c == nil {
		return nil, channel.NewError(channel.ErrMalformed, "code pay: empty answer")
	}
	if c.OutTradeNo != p.No {
		return nil, channel.NewError(channel.ErrMalformed, "code pay: answer is about order "+c.OutTradeNo)
	}
	return txn{OutTradeNo: c.OutTradeNo, TransactionID: c.TransactionId, TradeState: c.TradeState,
		SuccessTime: c.SuccessTime, OpenID: fromPayer(c.Payer), Total: fromAmount(c.Amount)}.trade()
}

// Reverse implements channel.Gateway (撤销): WeChat Pay closes an unpaid
// code payment and refunds a paid one.
func (g *Gateway) Reverse(ctx context.Context, no string) error {
	if err := checkNo("order number", no); err != nil {
		return err
	}
	bm := make(gopay.BodyMap)
	bm.Set("appid", g.cfg.AppID)
	rsp, err := g.c.V3TransactionCodePayReverse(ctx, no, bm)
	if rsp == nil {
		return transport("reverse", err)
	}
	return g.check("reverse", rsp.Code, rsp.SignInfo, rsp.ErrResponse, err)
}
