// Package wechat is the WeChat Pay v3 channel: a channel.Gateway and
// channel.Binder built on go-pay/gopay's wechat/v3 client. Requests are
// signed with the merchant's API key; every answer and notification is
// verified with the WeChat Pay public key before anything in it is used.
//
// Against the sandbox, BaseURL is {sandbox}/wechat; in production it is
// https://api.mch.weixin.qq.com (or a forward proxy in front of it).
package wechat

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/go-pay/gopay/pkg/xhttp"
	wxpay "github.com/go-pay/gopay/wechat/v3"

	"github.com/onecard-campus/onecard/channel"
)

// officialHost is WeChat Pay's API host.
const officialHost = "https://api.mch.weixin.qq.com"

// Gateway is the WeChat Pay v3 channel. It is safe for concurrent use.
type Gateway struct {
	cfg         channel.WechatConfig
	base        string // cfg.BaseURL without a trailing slash
	c           *wxpay.ClientV3
	hc          *http.Client
	platformKey *rsa.PublicKey
	loc         *time.Location   // WeChat Pay's time zone: bill dates, time_expire
	now         func() time.Time // the notification replay window's clock
	// noRecover lets a panic in Notification through: the fuzz test sets
	// it, so that fuzzing finds what the recover guard would hide.
	noRecover bool
}

var (
	_ channel.Gateway = (*Gateway)(nil)
	_ channel.Binder  = (*Gateway)(nil)
)

// New returns the WeChat Pay gateway of cfg. hc carries every request
// (API calls and the OAuth exchange); nil means a client with a 30 s
// timeout.
func New(cfg channel.WechatConfig, hc *http.Client) (*Gateway, error) {
	if cfg.MchID == "" || cfg.AppID == "" || cfg.SerialNo == "" || cfg.PrivateKey == "" {
		return nil, errors.New("wechat: mch_id, app_id, serial_no and private_key are required")
	}
	if len(cfg.APIv3Key) != 32 {
		// AES-256-GCM: a key of another length would fail every
		// notification; better to refuse the configuration at start.
		return nil, errors.New("wechat: api_v3_key must be 32 characters")
	}
	if cfg.PlatformKey == "" || cfg.PlatformSerial == "" {
		return nil, errors.New("wechat: platform_key and platform_serial are required: answers are never trusted unverified")
	}
	c, err := wxpay.NewClientV3(cfg.MchID, cfg.SerialNo, cfg.APIv3Key, cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("wechat: merchant key: %w", err)
	}
	base := strings.TrimSuffix(cfg.BaseURL, "/")
	if base == "" {
		base = officialHost
	}
	c.SetProxyHost(base)
	// Verify answers with the WeChat Pay public key (the "微信支付公钥"
	// scheme): gopay then checks the signature of every successful answer
	// and refuses one signed under another key ID. Error answers it does
	// not check; verifyAnswer below does.
	if err := c.AutoVerifySignByPublicKey([]byte(cfg.PlatformKey), cfg.PlatformSerial); err != nil {
		return nil, fmt.Errorf("wechat: platform key: %w", err)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	// gopay's own default client skips TLS certificate checks; ours does
	// not, so it always replaces it.
	xc := xhttp.NewClient()
	xc.HttpClient = hc
	c.SetHttpClient(xc)
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600) // no tzdata: China has no DST, so this is exact
	}
	return &Gateway{cfg: cfg, base: base, c: c, hc: hc, platformKey: c.WxPublicKey(), loc: loc, now: time.Now}, nil
}

// Name implements channel.Gateway.
func (g *Gateway) Name() channel.Name { return channel.Wechat }

type payerIPKey struct{}

// WithPayerIP returns a context telling Create the payer's IP address.
// WeChat Pay's H5 payment requires it (scene_info.payer_client_ip) and
// checks it against the browser that opens h5_url.
func WithPayerIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, payerIPKey{}, ip)
}

func payerIP(ctx context.Context) string {
	if ip, ok := ctx.Value(payerIPKey{}).(string); ok && ip != "" {
		return ip
	}
	return "127.0.0.1"
}

// tradeNo is WeChat Pay's alphabet of out_trade_no and out_refund_no. The
// numbers go into URL paths, so anything else is refused before sending.
var tradeNo = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]{1,64}$`)

func checkNo(what, no string) error {
	if !tradeNo.MatchString(no) {
		return channel.NewError(channel.ErrMalformed, what+" must be 1-64 letters, digits or _-|*@")
	}
	return nil
}

// verifyAnswer checks the signature of an answer gopay does not verify
// itself (error answers, 202): a "no" from an impostor must not close,
// refuse or lose an order.
func (g *Gateway) verifyAnswer(si *wxpay.SignInfo) error {
	if si == nil || si.HeaderSignature == "" {
		return channel.NewError(channel.ErrSignature, "answer is not signed")
	}
	if si.HeaderSerial != g.cfg.PlatformSerial {
		return channel.NewError(channel.ErrSignature, "answer is signed with unknown key "+si.HeaderSerial)
	}
	if err := wxpay.V3VerifySignByPK(si.HeaderTimestamp, si.HeaderNonce, si.SignBody, si.HeaderSignature, g.platformKey); err != nil {
		return channel.NewError(channel.ErrSignature, "answer signature does not verify")
	}
	return nil
}

// check interprets what a gopay call returned once it returned an answer
// (transport failures return no answer and are handled by the caller):
//
//   - err set: gopay could not verify the answer's signature;
//   - code 0: success, verified by gopay;
//   - 5xx and 429: WeChat Pay is busy; a plain error, the caller retries;
//   - other codes: WeChat Pay's "no", verified here, as *channel.Error.
func (g *Gateway) check(op string, code int, si *wxpay.SignInfo, er wxpay.ErrResponse, err error) error {
	if err != nil {
		return channel.NewError(channel.ErrSignature, op+": answer signature does not verify: "+err.Error())
	}
	if code == wxpay.Success {
		return nil
	}
	if code >= 500 || code == http.StatusTooManyRequests {
		return fmt.Errorf("wechat: %s: HTTP %d %s %s", op, code, er.Code, er.Message)
	}
	if err := g.verifyAnswer(si); err != nil {
		return err
	}
	msg := er.Message
	if msg == "" {
		msg = fmt.Sprintf("HTTP %d %s", code, er.Code)
	}
	switch er.Code {
	case "ORDER_NOT_EXIST", "RESOURCE_NOT_EXISTS":
		return channel.NewError(channel.ErrNotFound, msg)
	case "ORDERPAID":
		return channel.NewError(channel.ErrAlreadyPaid, msg)
	case "SIGN_ERROR":
		return channel.NewError(channel.ErrSignature, "WeChat Pay refused our signature: "+msg)
	case "PARAM_ERROR":
		return channel.NewError(channel.ErrMalformed, msg)
	}
	return channel.NewError(channel.ErrRefused, msg)
}

// transport wraps an error of a call that got no answer.
func transport(op string, err error) error {
	if err == nil {
		err = errors.New("no answer")
	}
	return fmt.Errorf("wechat: %s: %w", op, err)
}
