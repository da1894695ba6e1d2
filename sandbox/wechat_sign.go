package sandbox

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The WeChat Pay v3 security layer, written from the protocol description
// with the standard library only, so that the sandbox checks the gopay-based
// adapter instead of agreeing with it by sharing code:
//
//   - the merchant signs each request: Authorization: WECHATPAY2-SHA256-RSA2048
//     mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…" over
//     "METHOD\nPATH?QUERY\ntimestamp\nnonce\nbody\n" with its API key;
//   - WeChat Pay signs each answer and notification: Wechatpay-Timestamp,
//     -Nonce, -Signature, -Serial over "timestamp\nnonce\nbody\n" with its
//     platform key;
//   - notification resources are sealed with AES-256-GCM under the APIv3 key.

const (
	wechatAuthScheme = "WECHATPAY2-SHA256-RSA2048"
	// wechatPrefix is where the protocol is mounted. The merchant signs the
	// API path as WeChat Pay knows it (/v3/...), so the prefix is cut off
	// before checking.
	wechatPrefix = "/wechat"
	// wechatSkew is how far a request timestamp may be from the clock: WeChat
	// Pay refuses requests more than five minutes off.
	wechatSkew = 5 * time.Minute
)

// wechatKeyCache keeps parsed keys by PEM: parsing a 2048-bit key on every
// request would dominate the sandbox's cost, and Keys holds only PEM text.
var wechatKeyCache sync.Map // PEM -> *rsa.PrivateKey

func cachedPrivateKey(p string) (*rsa.PrivateKey, error) {
	if k, ok := wechatKeyCache.Load(p); ok {
		return k.(*rsa.PrivateKey), nil
	}
	k, err := ParsePrivateKey(p)
	if err != nil {
		return nil, err
	}
	wechatKeyCache.Store(p, k)
	return k, nil
}

// wechatAuthorization is a parsed Authorization header.
type wechatAuthorization struct {
	MchID, Nonce, Signature, Timestamp, Serial string
}

// parseWechatAuthorization reads the header's comma-separated key="value"
// pairs. The values cannot hold commas (base64, digits, hex), so a split is
// exact.
func parseWechatAuthorization(h string) (wechatAuthorization, error) {
	var a wechatAuthorization
	scheme, params, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || scheme != wechatAuthScheme {
		return a, errors.New("Authorization must use the " + wechatAuthScheme + " scheme")
	}
	for _, p := range strings.Split(params, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok {
			return a, fmt.Errorf("malformed Authorization parameter %q", p)
		}
		v = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
		switch k {
		case "mchid":
			a.MchID = v
		case "nonce_str":
			a.Nonce = v
		case "signature":
			a.Signature = v
		case "timestamp":
			a.Timestamp = v
		case "serial_no":
			a.Serial = v
		}
	}
	if a.MchID == "" || a.Nonce == "" || a.Signature == "" || a.Timestamp == "" || a.Serial == "" {
		return a, errors.New("Authorization lacks one of mchid, nonce_str, signature, timestamp, serial_no")
	}
	return a, nil
}

// wechatVerifyRequest checks a merchant request's Authorization against the
// merchant key.
func (s *Sandbox) wechatVerifyRequest(r *http.Request, body []byte) error {
	a, err := parseWechatAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	if a.MchID != s.keys.WechatMchID {
		return errors.New("mchid in Authorization is not this merchant")
	}
	if a.Serial != s.keys.WechatMerchantSerial {
		return errors.New("serial_no is not the merchant certificate's serial number")
	}
	ts, err := strconv.ParseInt(a.Timestamp, 10, 64)
	if err != nil {
		return errors.New("timestamp is not a number")
	}
	// Protocol timestamps are checked against the wall clock, not
	// Options.Now: tests move the sandbox's business clock, but the
	// merchant's library always signs with the real time.
	if d := time.Since(time.Unix(ts, 0)); d > wechatSkew || d < -wechatSkew {
		return errors.New("timestamp is more than five minutes off")
	}
	target := r.RequestURI
	if target == "" {
		target = r.URL.RequestURI()
	}
	target = strings.TrimPrefix(target, wechatPrefix)
	sig, err := base64.StdEncoding.DecodeString(a.Signature)
	if err != nil {
		return errors.New("signature is not base64")
	}
	key, err := cachedPrivateKey(s.keys.WechatMerchant)
	if err != nil {
		return err
	}
	msg := r.Method + "\n" + target + "\n" + a.Timestamp + "\n" + a.Nonce + "\n" + string(body) + "\n"
	sum := sha256.Sum256([]byte(msg))
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return errors.New("signature does not verify with the merchant's key")
	}
	return nil
}

// wechatSign returns the Wechatpay-* headers of a message (an answer or a
// notification body) signed with the platform key.
func (s *Sandbox) wechatSign(body []byte) (http.Header, error) {
	key, err := cachedPrivateKey(s.keys.WechatPlatform)
	if err != nil {
		return nil, err
	}
	// Wall clock, as in wechatVerifyRequest: the merchant checks it against
	// its own.
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := strings.ToUpper(randomHex(16))
	sum := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
	h.Set("Wechatpay-Serial", s.keys.WechatPlatformSerial)
	h.Set("Wechatpay-Signature-Type", wechatAuthScheme)
	return h, nil
}

// wechatReply writes a signed answer. A body that cannot be signed is a
// sandbox fault: 500 without signature, which the merchant must not trust.
func (s *Sandbox) wechatReply(w http.ResponseWriter, status int, body []byte) {
	h, err := s.wechatSign(body)
	if err != nil {
		s.log.Error("sandbox: wechat: sign answer", "err", err)
		http.Error(w, "sandbox cannot sign", http.StatusInternalServerError)
		return
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	w.Header().Set("Request-ID", randomHex(16))
	if len(body) > 0 {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Sandbox) wechatJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("sandbox: wechat: encode answer", "err", err)
		http.Error(w, "sandbox cannot encode", http.StatusInternalServerError)
		return
	}
	s.wechatReply(w, status, b)
}

// wechatError answers WeChat Pay's error object.
func (s *Sandbox) wechatError(w http.ResponseWriter, status int, code, msg string) {
	s.wechatJSON(w, status, map[string]string{"code": code, "message": msg})
}

// wechatAPI wraps a merchant API handler: it reads the body and refuses a
// request whose signature does not verify with 401 SIGN_ERROR.
func (s *Sandbox) wechatAPI(h func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			s.wechatError(w, http.StatusBadRequest, "PARAM_ERROR", "request body is unreadable or above 1 MiB")
			return
		}
		if err := s.wechatVerifyRequest(r, body); err != nil {
			s.wechatError(w, http.StatusUnauthorized, "SIGN_ERROR", err.Error())
			return
		}
		h(w, r, body)
	}
}

// wechatSeal encrypts a notification resource with AES-256-GCM under the
// APIv3 key; WeChat Pay's nonce is a 12-character string used as bytes.
func (s *Sandbox) wechatSeal(plain []byte, associated string) (ciphertext, nonce string, err error) {
	block, err := aes.NewCipher([]byte(s.keys.WechatAPIv3Key))
	if err != nil {
		return "", "", fmt.Errorf("sandbox: wechat: APIv3 key: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", "", err
	}
	nonce = randomAlnum(gcm.NonceSize())
	sealed := gcm.Seal(nil, []byte(nonce), plain, []byte(associated))
	return base64.StdEncoding.EncodeToString(sealed), nonce, nil
}

// wechatNotification builds the TRANSACTION.SUCCESS notification of a paid
// order. Every attempt is signed afresh (a retry carries a new timestamp),
// while the notification id stays that of the event.
func (s *Sandbox) wechatNotification(o *Order) (*http.Request, error) {
	tx := s.wechatTransaction(o)
	if tx.TransactionID != "" {
		// The event reports the payment as it happened; refunds made since
		// do not change what was notified.
		tx.TradeState, tx.TradeStateDesc = "SUCCESS", "支付成功"
		tx.Amount.Refund = 0
	}
	plain, err := json.Marshal(tx)
	if err != nil {
		return nil, err
	}
	ct, nonce, err := s.wechatSeal(plain, "transaction")
	if err != nil {
		return nil, err
	}
	id := sha1.Sum([]byte("wechat-notify/" + o.GatewayNo))
	h := hex.EncodeToString(id[:16])
	body, err := json.Marshal(map[string]any{
		"id":            h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:],
		"create_time":   s.now().In(s.opt.Location).Format(time.RFC3339),
		"resource_type": "encrypt-resource",
		"event_type":    "TRANSACTION.SUCCESS",
		"summary":       "支付成功",
		"resource": map[string]string{
			"original_type":   "transaction",
			"algorithm":       "AEAD_AES_256_GCM",
			"ciphertext":      ct,
			"associated_data": "transaction",
			"nonce":           nonce,
		},
	})
	if err != nil {
		return nil, err
	}
	sig, err := s.wechatSign(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, o.NotifyURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range sig {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// wechatAcked: WeChat Pay takes any 2xx answer as received (200 with
// {"code":"SUCCESS"} or 204) and retries anything else.
func wechatAcked(res *http.Response, _ []byte) bool {
	return res.StatusCode >= 200 && res.StatusCode < 300
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomAlnum(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}
