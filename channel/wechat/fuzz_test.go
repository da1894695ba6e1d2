package wechat

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/sandbox"
)

// FuzzNotification feeds arbitrary bodies and Wechatpay-* headers to
// Notification. It must never panic (the recover guard is off here, so a
// panic fails the fuzz run instead of being hidden) and must never return a
// trade unless the headers are a valid platform signature of the body.
func FuzzNotification(f *testing.F) {
	k := testKeys(f)
	cfg := *sandbox.NewWithKeys(sandbox.Options{}, k).Config().Wechat
	g, err := New(cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	g.noRecover = true
	platform := privateKey(f, k.WechatPlatform)

	// Seed: one genuine notification, as the sandbox would send it.
	const nonce = "fuzzseednonc"
	plain, _ := json.Marshal(map[string]any{"appid": k.WechatAppID, "mchid": k.WechatMchID, "out_trade_no": "F-1",
		"transaction_id": "4200000000202401010000000001", "trade_type": "MWEB", "trade_state": "SUCCESS",
		"success_time": "2024-01-01T10:00:00+08:00", "payer": map[string]string{"openid": "o-fuzz"},
		"amount": map[string]any{"total": 100, "payer_total": 100, "currency": "CNY"}})
	body, _ := json.Marshal(map[string]any{"id": "seed", "create_time": "2024-01-01T10:00:00+08:00",
		"event_type": "TRANSACTION.SUCCESS", "resource_type": "encrypt-resource", "summary": "支付成功",
		"resource": map[string]string{"algorithm": "AEAD_AES_256_GCM", "ciphertext": seal(f, k.WechatAPIv3Key, nonce, plain),
			"associated_data": "transaction", "original_type": "transaction", "nonce": nonce}})
	h := signedHeaders(f, platform, k.WechatPlatformSerial, time.Now(), body)
	f.Add(body, h.Get("Wechatpay-Timestamp"), h.Get("Wechatpay-Nonce"), h.Get("Wechatpay-Signature"), h.Get("Wechatpay-Serial"))
	if tr, err := g.Notification(request(body, h)); err != nil || tr.No != "F-1" || tr.Payer != "o-fuzz" || tr.Amount != 100 {
		f.Fatalf("seed does not decode: %+v, %v", tr, err)
	}

	f.Fuzz(func(t *testing.T, body []byte, ts, nonce, sig, serial string) {
		h := http.Header{}
		h.Set("Wechatpay-Timestamp", ts)
		h.Set("Wechatpay-Nonce", nonce)
		h.Set("Wechatpay-Signature", sig)
		h.Set("Wechatpay-Serial", serial)
		tr, err := g.Notification(request(body, h))
		if err != nil {
			if tr != nil {
				t.Fatalf("trade %+v returned with error %v", tr, err)
			}
			if channel.Code(err) == "" {
				t.Fatalf("error %v is not a *channel.Error", err)
			}
			return
		}
		if tr == nil {
			t.Fatal("no trade and no error")
		}
		// Accepted: check the signature independently of the adapter.
		raw, derr := base64.StdEncoding.DecodeString(sig)
		sum := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
		if serial != cfg.PlatformSerial || derr != nil || rsa.VerifyPKCS1v15(&platform.PublicKey, crypto.SHA256, sum[:], raw) != nil {
			t.Fatalf("trade %+v accepted without a valid signature", tr)
		}
	})
}

// FuzzSignedNotification reaches past the signature check, which random
// input never passes: whatever the fuzzer writes is signed with the
// platform key, either as the whole body or as the plaintext of a sealed
// resource. Decoding must still never panic, and a trade it returns must
// name an order and a known state.
func FuzzSignedNotification(f *testing.F) {
	k := testKeys(f)
	cfg := *sandbox.NewWithKeys(sandbox.Options{}, k).Config().Wechat
	g, err := New(cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	g.noRecover = true
	platform := privateKey(f, k.WechatPlatform)
	f.Add(false, []byte(`{"event_type":"TRANSACTION.SUCCESS","resource":{"algorithm":"AEAD_AES_256_GCM","nonce":"0123456789ab","ciphertext":""}}`), "0123456789ab")
	f.Add(true, []byte(`{"mchid":"`+k.WechatMchID+`","out_trade_no":"F-2","trade_state":"SUCCESS","amount":{"total":1}}`), "0123456789ab")
	f.Add(true, []byte(`{"mchid":"`+k.WechatMchID+`","out_trade_no":"F-3","trade_state":"REFUND","success_time":"x"}`), "short")

	f.Fuzz(func(t *testing.T, sealed bool, data []byte, nonce string) {
		body := data
		if sealed {
			if len(nonce) != 12 {
				nonce = "0123456789ab"
			}
			body, _ = json.Marshal(map[string]any{"event_type": "TRANSACTION.SUCCESS", "resource": map[string]string{
				"algorithm": "AEAD_AES_256_GCM", "ciphertext": seal(t, k.WechatAPIv3Key, nonce, data),
				"associated_data": "transaction", "nonce": nonce}})
		}
		tr, err := g.Notification(request(body, signedHeaders(t, platform, k.WechatPlatformSerial, time.Now(), body)))
		if err != nil {
			if tr != nil || channel.Code(err) == "" {
				t.Fatalf("trade %+v, error %v", tr, err)
			}
			return
		}
		if tr == nil || tr.No == "" {
			t.Fatalf("trade %+v without an order number", tr)
		}
		switch tr.State {
		case channel.StateWaiting, channel.StatePaying, channel.StatePaid, channel.StateClosed, channel.StateRefunded:
		default:
			t.Fatalf("trade in state %q", tr.State)
		}
	})
}
