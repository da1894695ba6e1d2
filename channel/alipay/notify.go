package alipay

import (
	"fmt"
	"io"
	"net/http"
	"net/url"

	sdk "github.com/smartwalle/alipay/v3"

	"github.com/onecard-campus/onecard/channel"
)

// maxNotification bounds what Notification reads. Alipay's notifications
// are a few kilobytes even with fund and voucher lists.
const maxNotification = 1 << 20

// Notification implements channel.Gateway: it verifies the RSA2 signature
// of Alipay's asynchronous notification (a form POST) and decodes the
// trade. Only the body is read, not the notify URL's own query.
func (g *Gateway) Notification(r *http.Request) (*channel.Trade, error) {
	if r == nil || r.Body == nil {
		return nil, channel.NewError(channel.ErrMalformed, "no notification body")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxNotification+1))
	if err != nil {
		return nil, channel.NewError(channel.ErrMalformed, "reading the notification: "+err.Error())
	}
	if len(body) > maxNotification {
		return nil, channel.NewError(channel.ErrMalformed, "notification larger than 1 MiB")
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, channel.NewError(channel.ErrMalformed, "notification is not a form: "+err.Error())
	}
	// alipay_cert_sn is not signed, and the library, given one it does not
	// know, downloads that certificate from the gateway to verify with: a
	// forger could make every notification cost a call to Alipay. This
	// application verifies with the configured public key only.
	values.Del("alipay_cert_sn")
	if values.Get("sign") == "" {
		return nil, channel.NewError(channel.ErrSignature, "notification is not signed")
	}
	n, err := g.client.DecodeNotification(r.Context(), values)
	if err != nil {
		return nil, channel.NewError(channel.ErrSignature, "notification signature did not verify: "+err.Error())
	}
	// Alipay's key may serve several applications; a notification for
	// another one is not about an order of ours.
	if n.AppId != g.appID {
		return nil, channel.NewError(channel.ErrSignature, fmt.Sprintf("notification is for application %q", n.AppId))
	}
	return notifiedTrade(n)
}

// notifiedTrade maps a verified notification. A full refund closes an
// Alipay trade (TRADE_CLOSED) with refund_fee equal to the total; a
// partial one leaves it TRADE_SUCCESS with refund_fee so far.
func notifiedTrade(n *sdk.Notification) (*channel.Trade, error) {
	if n.OutTradeNo == "" {
		return nil, channel.NewError(channel.ErrMalformed, "notification has no out_trade_no")
	}
	t := &channel.Trade{No: n.OutTradeNo, GatewayNo: n.TradeNo, Payer: n.BuyerId}
	if t.Payer == "" {
		t.Payer = n.BuyerOpenId
	}
	var err error
	if t.Amount, err = fen("total_amount", n.TotalAmount); err != nil {
		return nil, err
	}
	if n.RefundFee != "" {
		if t.Refunded, err = fen("refund_fee", n.RefundFee); err != nil {
			return nil, err
		}
	}
	if t.PaidAt, err = when("gmt_payment", n.GmtPayment); err != nil {
		return nil, err
	}
	switch n.TradeStatus {
	case sdk.TradeStatusWaitBuyerPay:
		t.State = channel.StateWaiting
	case sdk.TradeStatusSuccess, sdk.TradeStatusFinished:
		t.State = channel.StatePaid
	case sdk.TradeStatusClosed:
		t.State = channel.StateClosed
		if t.Refunded > 0 && t.Refunded == t.Amount {
			t.State = channel.StateRefunded
		}
	default:
		return nil, channel.NewError(channel.ErrMalformed, fmt.Sprintf("unknown trade_status %q", n.TradeStatus))
	}
	return t, nil
}

// Ack implements channel.Gateway. Alipay stops when the body is exactly
// "success"; anything else makes it retry, up to eight times over about a
// day.
func (g *Gateway) Ack(w http.ResponseWriter, ok bool) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if ok {
		sdk.ACKNotification(w)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "fail")
}
