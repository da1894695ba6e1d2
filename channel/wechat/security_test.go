package wechat

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
)

func TestPayerID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.sb.IssueOAuthCode(channel.Wechat, "o-bound-7")
	id, err := e.gw.PayerID(ctx, code)
	if err != nil || id != "o-bound-7" {
		t.Fatalf("PayerID = %q, %v", id, err)
	}
	wrongSecret := e.gateway(func(cfg *channel.WechatConfig) { cfg.AppSecret = "not-the-secret" })
	fresh := e.sb.IssueOAuthCode(channel.Wechat, "o-bound-8")
	for _, tc := range []struct {
		name string
		gw   *Gateway
		code string
	}{
		{"code used twice", e.gw, code},
		{"no code", e.gw, ""},
		{"unknown code", e.gw, "w00000000000000000000"},
		{"Alipay's code", e.gw, e.sb.IssueOAuthCode(channel.Alipay, "2088000000000009")},
		{"wrong app secret", wrongSecret, fresh},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := tc.gw.PayerID(ctx, tc.code)
			if id != "" {
				t.Fatalf("PayerID = %q", id)
			}
			wantCode(t, err, channel.ErrRefused)
		})
	}
	// The code the wrong secret could not use is still good.
	if id, err := e.gw.PayerID(ctx, fresh); err != nil || id != "o-bound-8" {
		t.Fatalf("PayerID = %q, %v", id, err)
	}
}

// tamper is a transport that changes request bodies after the adapter
// signed them: a man in the middle.
type tamper struct{ base http.RoundTripper }

func (tr tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		b = bytes.Replace(b, []byte(`"total":100`), []byte(`"total":1`), 1)
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
	}
	return tr.base.RoundTrip(r)
}

func TestSandboxRefusesBadMerchantSignature(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	order := channel.Order{No: "M-1", Amount: 100, Subject: "x", NotifyURL: e.notifyURL()}

	// A merchant key the sandbox does not know.
	impostor := e.gateway(func(cfg *channel.WechatConfig) { cfg.PrivateKey = privatePEM(otherKey(t)) })
	_, err := impostor.Create(ctx, order)
	wantCode(t, err, channel.ErrSignature)

	// The right key, but the body changed on the way.
	cfg := e.cfg()
	mitm, err := New(cfg, &http.Client{Transport: tamper{base: e.srv.Client().Transport}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = mitm.Create(ctx, order)
	wantCode(t, err, channel.ErrSignature)
	if e.sb.Order(channel.Wechat, "M-1") != nil {
		t.Fatal("a refused request created an order")
	}

	// Requests built by hand, to reach what the library never sends.
	merchant := privateKey(t, e.keys.WechatMerchant)
	body := `{"mchid":"` + e.keys.WechatMchID + `"}`
	const path = "/v3/pay/transactions/out-trade-no/M-2/close"
	auth := func(mchid, serial, ts, signedPath, signedBody string, key *rsa.PrivateKey) string {
		nonce := "NONCE0123456789"
		sig := rsaSign(t, key, "POST\n"+signedPath+"\n"+ts+"\n"+nonce+"\n"+signedBody+"\n")
		return `WECHATPAY2-SHA256-RSA2048 mchid="` + mchid + `",nonce_str="` + nonce + `",signature="` + sig +
			`",timestamp="` + ts + `",serial_no="` + serial + `"`
	}
	now := strconv.FormatInt(time.Now().Unix(), 10)
	old := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	mch, serial := e.keys.WechatMchID, e.keys.WechatMerchantSerial
	e.order("M-2", 100)
	for _, tc := range []struct {
		name   string
		header string
		status int
	}{
		{"no Authorization", "", http.StatusUnauthorized},
		{"another scheme", "Bearer abc", http.StatusUnauthorized},
		{"missing fields", `WECHATPAY2-SHA256-RSA2048 mchid="` + mch + `"`, http.StatusUnauthorized},
		{"garbage fields", `WECHATPAY2-SHA256-RSA2048 ,,,==,"`, http.StatusUnauthorized},
		{"signature not base64", strings.Replace(auth(mch, serial, now, path, body, merchant), `signature="`, `signature="%%%`, 1), http.StatusUnauthorized},
		{"another key", auth(mch, serial, now, path, body, otherKey(t)), http.StatusUnauthorized},
		{"another merchant", auth("1999999999", serial, now, path, body, merchant), http.StatusUnauthorized},
		{"another serial", auth(mch, "0123", now, path, body, merchant), http.StatusUnauthorized},
		{"stale timestamp", auth(mch, serial, old, path, body, merchant), http.StatusUnauthorized},
		{"signed with the /wechat prefix", auth(mch, serial, now, "/wechat"+path, body, merchant), http.StatusUnauthorized},
		{"signed for another body", auth(mch, serial, now, path, `{}`, merchant), http.StatusUnauthorized},
		{"good", auth(mch, serial, now, path, body, merchant), http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/wechat"+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", res.StatusCode, answer, tc.status)
			}
			// Every answer, refusals included, is signed by "WeChat Pay".
			verifyAnswer(t, e, res.Header, answer)
			if tc.status == http.StatusUnauthorized {
				var er struct{ Code, Message string }
				if err := json.Unmarshal(answer, &er); err != nil || er.Code != "SIGN_ERROR" || er.Message == "" {
					t.Fatalf("answer %s, want SIGN_ERROR", answer)
				}
			}
		})
	}
}

func verifyAnswer(t *testing.T, e *env, h http.Header, body []byte) {
	t.Helper()
	if h.Get("Wechatpay-Serial") != e.keys.WechatPlatformSerial {
		t.Fatalf("answer serial %q", h.Get("Wechatpay-Serial"))
	}
	sig, err := base64.StdEncoding.DecodeString(h.Get("Wechatpay-Signature"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(h.Get("Wechatpay-Timestamp") + "\n" + h.Get("Wechatpay-Nonce") + "\n" + string(body) + "\n"))
	if err := rsa.VerifyPKCS1v15(&privateKey(t, e.keys.WechatPlatform).PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("answer signature: %v", err)
	}
}

func TestAnswersAreVerified(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.order("A-1", 100)
	impostorKey := otherKey(t)
	for _, tc := range []struct {
		name   string
		change func(*channel.WechatConfig)
	}{
		{"another platform key", func(cfg *channel.WechatConfig) { cfg.PlatformKey = publicPEM(impostorKey) }},
		{"another key ID", func(cfg *channel.WechatConfig) { cfg.PlatformSerial = "PUB_KEY_ID_OTHER" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := e.gateway(tc.change)
			// A success answer (gopay checks it) and "no" answers (the
			// adapter checks them): none is believed.
			_, err := gw.Query(ctx, "A-1")
			wantCode(t, err, channel.ErrSignature)
			tr, err := gw.Query(ctx, "A-NONE")
			if tr != nil {
				t.Fatalf("unverified 404 believed: %+v", tr)
			}
			wantCode(t, err, channel.ErrSignature)
			wantCode(t, gw.Close(ctx, "A-NONE"), channel.ErrSignature)
			_, err = gw.Statement(ctx, time.Now().AddDate(0, 0, -3))
			wantCode(t, err, channel.ErrSignature)
		})
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		change func(*channel.WechatConfig)
	}{
		{"no mch_id", func(c *channel.WechatConfig) { c.MchID = "" }},
		{"short APIv3 key", func(c *channel.WechatConfig) { c.APIv3Key = "short" }},
		{"no platform key", func(c *channel.WechatConfig) { c.PlatformKey = "" }},
		{"no platform serial", func(c *channel.WechatConfig) { c.PlatformSerial = "" }},
		{"bad private key", func(c *channel.WechatConfig) {
			c.PrivateKey = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		}},
		{"bad platform key", func(c *channel.WechatConfig) { c.PlatformKey = "not PEM" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.cfg()
			tc.change(&cfg)
			if _, err := New(cfg, nil); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}
