package wechat

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	wxpay "github.com/go-pay/gopay/wechat/v3"

	"github.com/onecard-campus/onecard/channel"
)

// replayWindow is how old (or how far ahead) a notification's signed
// timestamp may be: WeChat Pay advises refusing anything five minutes off,
// so a captured notification cannot be replayed later.
const replayWindow = 5 * time.Minute

// gcmNonceSize is the nonce length AES-GCM takes; the library's decryption
// panics on any other, so it is checked first.
const gcmNonceSize = 12

// Notification implements channel.Gateway. In order: the body must parse
// as a notification, the Wechatpay-* headers must sign it with the WeChat
// Pay key, the signed timestamp must be within the replay window, and the
// resource must decrypt (AES-256-GCM, authenticated) with the APIv3 key.
// Only then is the transaction read.
func (g *Gateway) Notification(r *http.Request) (t *channel.Trade, err error) {
	defer func() {
		// The body is the internet's; whatever third-party code does with
		// it, a bad notification is an error for the caller, not a crash.
		if g.noRecover {
			return
		}
		if p := recover(); p != nil {
			t, err = nil, channel.NewError(channel.ErrMalformed, "notification could not be decoded")
		}
	}()
	if r == nil || r.Body == nil {
		return nil, channel.NewError(channel.ErrMalformed, "empty notification")
	}
	n, err := wxpay.V3ParseNotify(r)
	if err != nil || n == nil || n.SignInfo == nil {
		// gopay's error quotes the whole body; the caller logs our message.
		return nil, channel.NewError(channel.ErrMalformed, "body is not a WeChat Pay notification")
	}
	si := n.SignInfo
	if si.HeaderTimestamp == "" || si.HeaderNonce == "" || si.HeaderSignature == "" || si.HeaderSerial == "" {
		return nil, channel.NewError(channel.ErrSignature, "Wechatpay-Timestamp, -Nonce, -Signature or -Serial is missing")
	}
	if si.HeaderSerial != g.cfg.PlatformSerial {
		return nil, channel.NewError(channel.ErrSignature, "notification is signed with unknown key "+si.HeaderSerial)
	}
	if err := n.VerifySignByPK(g.platformKey); err != nil {
		return nil, channel.NewError(channel.ErrSignature, "notification signature does not verify")
	}
	ts, err := strconv.ParseInt(si.HeaderTimestamp, 10, 64)
	if err != nil {
		return nil, channel.NewError(channel.ErrSignature, "Wechatpay-Timestamp is not a number")
	}
	if d := g.now().Sub(time.Unix(ts, 0)); d > replayWindow || d < -replayWindow {
		return nil, channel.NewError(channel.ErrSignature, "notification timestamp is outside the five-minute window (replayed?)")
	}
	if !strings.HasPrefix(n.EventType, "TRANSACTION.") {
		return nil, channel.NewError(channel.ErrMalformed, "notification is not about a transaction: "+n.EventType)
	}
	res := n.Resource
	if res == nil || res.Algorithm != "AEAD_AES_256_GCM" || len(res.Nonce) != gcmNonceSize {
		return nil, channel.NewError(channel.ErrMalformed, "notification resource is not AEAD_AES_256_GCM with a 12-byte nonce")
	}
	pay, err := n.DecryptPayCipherText(g.cfg.APIv3Key)
	if err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if errors.As(err, &se) || errors.As(err, &te) {
			return nil, channel.NewError(channel.ErrMalformed, "notification resource is not a transaction")
		}
		// GCM is authenticated: failing to open means another key or a
		// changed ciphertext.
		return nil, channel.NewError(channel.ErrSignature, "notification resource does not decrypt with the APIv3 key")
	}
	if pay.Mchid != g.cfg.MchID {
		return nil, channel.NewError(channel.ErrMalformed, "notification is for merchant "+pay.Mchid)
	}
	if pay.OutTradeNo == "" {
		return nil, channel.NewError(channel.ErrMalformed, "notification names no out_trade_no")
	}
	return txn{OutTradeNo: pay.OutTradeNo, TransactionID: pay.TransactionId, TradeState: pay.TradeState,
		SuccessTime: pay.SuccessTime, OpenID: fromPayer(pay.Payer), Total: fromAmount(pay.Amount)}.trade()
}

// Ack implements channel.Gateway with WeChat Pay's answer: 200 SUCCESS
// stops the retries, 500 FAIL asks for them.
func (g *Gateway) Ack(w http.ResponseWriter, ok bool) {
	status, body := http.StatusOK, wxpay.V3NotifyRsp{Code: "SUCCESS", Message: "成功"}
	if !ok {
		status, body = http.StatusInternalServerError, wxpay.V3NotifyRsp{Code: "FAIL", Message: "失败"}
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
