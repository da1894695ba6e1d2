// Package alipay is the Alipay channel: top-ups through mobile web payment
// (alipay.trade.wap.pay), payment codes at POS terminals (alipay.trade.pay),
// refunds, daily trade bills, and the OAuth code exchange that binds a
// payer's Alipay account to a card.
//
// It is built on smartwalle/alipay, which signs every request with the
// application's RSA2 key and verifies Alipay's answers and notifications
// with Alipay's public key. This package maps Alipay's words (trade_status,
// sub_code) onto the channel contract and decides which of Alipay's
// refusals are definite.
package alipay

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	sdk "github.com/smartwalle/alipay/v3"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// Gateway is the Alipay channel. It is safe for concurrent use.
type Gateway struct {
	client *sdk.Client
	appID  string
	hc     *http.Client
}

var (
	_ channel.Gateway = (*Gateway)(nil)
	_ channel.Binder  = (*Gateway)(nil)
)

// beijing is Alipay's clock: every time it sends or expects (timestamp,
// time_expire, gmt_payment, bill_date) is Beijing wall-clock time without
// a zone. China has no daylight saving, so a fixed zone stands in when the
// system has no tz database.
var beijing = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

const timeLayout = "2006-01-02 15:04:05"

// New returns the channel of an Alipay application. hc carries every call,
// including the bill download; nil means http.DefaultClient.
func New(cfg channel.AlipayConfig, hc *http.Client) (*Gateway, error) {
	if cfg.AppID == "" || cfg.PrivateKey == "" || cfg.AlipayPublicKey == "" {
		return nil, errors.New("alipay: app_id, private_key and alipay_public_key are required")
	}
	// production=true only selects "use the gateway given" here: an empty
	// cfg.Gateway falls back to Alipay's production address, and the
	// sandbox is reached by giving its address.
	c, err := sdk.New(cfg.AppID, cfg.PrivateKey, true,
		sdk.WithProductionGateway(cfg.Gateway), sdk.WithHTTPClient(hc), sdk.WithTimeLocation(beijing))
	if err != nil {
		return nil, fmt.Errorf("alipay: private key: %w", err)
	}
	if err := c.LoadAliPayPublicKey(cfg.AlipayPublicKey); err != nil {
		return nil, fmt.Errorf("alipay: Alipay public key: %w", err)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Gateway{client: c, appID: cfg.AppID, hc: hc}, nil
}

// Name implements channel.Gateway.
func (g *Gateway) Name() channel.Name { return channel.Alipay }

// Create implements channel.Gateway with mobile web payment. Nothing is
// sent: the pay URL is the signed request itself, and Alipay creates the
// trade only when the payer's browser opens it. Until then Query answers
// StateNotFound.
func (g *Gateway) Create(_ context.Context, o channel.Order) (*channel.Checkout, error) {
	if o.No == "" {
		return nil, errors.New("alipay: order number is required")
	}
	amount, err := yuan(o.Amount)
	if err != nil {
		return nil, err
	}
	p := sdk.TradeWapPay{}
	p.NotifyURL, p.ReturnURL, p.QuitURL = o.NotifyURL, o.ReturnURL, o.ReturnURL
	p.OutTradeNo, p.TotalAmount, p.ProductCode = o.No, amount, "QUICK_WAP_WAY"
	p.Subject = o.Subject
	if p.Subject == "" {
		p.Subject = o.No // Alipay requires a subject
	}
	if !o.Expire.IsZero() {
		// wap.pay takes time_expire to the minute. Dropping the seconds
		// makes Alipay stop accepting payment a little before OneCard
		// gives up on the order, never after.
		p.TimeExpire = o.Expire.In(beijing).Format("2006-01-02 15:04")
	}
	u, err := g.client.TradeWapPay(p)
	if err != nil {
		return nil, fmt.Errorf("alipay: sign wap pay: %w", err)
	}
	return &channel.Checkout{PayURL: u.String()}, nil
}

// yuan writes fen as Alipay's amounts: yuan with two decimals, computed in
// integers.
func yuan(fen int64) (string, error) {
	if err := onecard.ValidateAmount(fen); err != nil {
		return "", fmt.Errorf("alipay: %w", err)
	}
	return fmt.Sprintf("%d.%02d", fen/100, fen%100), nil
}

// fen reads one of Alipay's amounts.
func fen(field, v string) (int64, error) {
	n, err := onecard.ParseYuan(v)
	if err != nil {
		return 0, channel.NewError(channel.ErrMalformed, fmt.Sprintf("%s %q is not an amount", field, v))
	}
	return n, nil
}

// when reads one of Alipay's times; empty is the zero time.
func when(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(timeLayout, v, beijing)
	if err != nil {
		return time.Time{}, channel.NewError(channel.ErrMalformed, fmt.Sprintf("%s %q is not a time", field, v))
	}
	return t, nil
}

// settle sorts out what a call returned. The library returns Alipay's
// unsigned error_response as an *sdk.Error error, and a signed
// <method>_response whatever its code; both are Alipay's answer, returned
// here as fail for the caller to read its sub_code. Anything else is a
// transport failure or an answer that is not Alipay's.
func settle(api string, err error, e *sdk.Error) (fail *sdk.Error, _ error) {
	if err != nil {
		var ae *sdk.Error
		if errors.As(err, &ae) {
			return ae, nil
		}
		var b64 base64.CorruptInputError
		if errors.Is(err, rsa.ErrVerification) || errors.As(err, &b64) {
			return nil, channel.NewError(channel.ErrSignature, api+": the answer is not signed by Alipay")
		}
		return nil, fmt.Errorf("alipay: %s: %w", api, err)
	}
	if e == nil {
		return nil, fmt.Errorf("alipay: %s: empty answer", api)
	}
	if e.Code.IsFailure() {
		return e, nil
	}
	return nil, nil
}

// refusal turns an Alipay failure into an error. 40004 is Alipay's
// business "no" (a bad payment code, a refund above what is left): a
// definite refusal in Alipay's own words. Other codes are the gateway
// being unavailable (20000) or refusing the request itself (40001, 40002:
// a signature or parameter problem, i.e. configuration); the outcome of the
// operation is unknown, so they are not *channel.Error.
func refusal(api string, e sdk.Error) error {
	if e.Code == sdk.CodeBusinessFailed {
		msg := e.SubMsg
		if msg == "" {
			msg = e.Msg
		}
		return channel.NewError(channel.ErrRefused, msg)
	}
	return fmt.Errorf("alipay: %s: %s %s (%s: %s)", api, e.Code, e.Msg, e.SubCode, e.SubMsg)
}
