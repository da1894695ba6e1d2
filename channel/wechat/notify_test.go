package wechat

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/sandbox"
)

func TestCreatePayNotify(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	co, err := e.gw.Create(WithPayerIP(ctx, "10.1.2.3"), channel.Order{No: "T1001", Amount: 1234,
		Subject: "测试大学 一卡通充值 2012345678", NotifyURL: e.notifyURL(), Expire: time.Now().Add(15 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if want := e.srv.URL + "/sandbox/checkout/wechat/T1001"; co.PayURL != want || co.Trade != nil {
		t.Fatalf("checkout = %+v, want PayURL %s", co, want)
	}
	res, err := e.srv.Client().Get(co.PayURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "T1001") {
		t.Fatalf("checkout page: %d %s", res.StatusCode, page)
	}

	// Creating again is idempotent; another amount under the number is not.
	if again, err := e.gw.Create(ctx, channel.Order{No: "T1001", Amount: 1234, Subject: "x", NotifyURL: e.notifyURL()}); err != nil || again.PayURL != co.PayURL {
		t.Fatalf("create again = %+v, %v", again, err)
	}
	_, err = e.gw.Create(ctx, channel.Order{No: "T1001", Amount: 999, Subject: "x", NotifyURL: e.notifyURL()})
	wantCode(t, err, channel.ErrRefused)

	if err := e.sb.Pay(channel.Wechat, "T1001", "o-openid-42"); err != nil {
		t.Fatal(err)
	}
	d := e.next()
	if d.err != nil {
		t.Fatalf("notification refused: %v", d.err)
	}
	o := e.sb.Order(channel.Wechat, "T1001")
	tr := d.trade
	if tr.No != "T1001" || tr.State != channel.StatePaid || tr.Amount != 1234 || tr.Payer != "o-openid-42" ||
		tr.GatewayNo != o.GatewayNo || !tr.PaidAt.Equal(o.PaidAt.Truncate(time.Second)) {
		t.Fatalf("trade = %+v, order = %+v", tr, o)
	}
	eventually(t, "the acknowledgement", func() bool { return e.sb.Order(channel.Wechat, "T1001").Acked })

	// A paid order cannot be created again.
	_, err = e.gw.Create(ctx, channel.Order{No: "T1001", Amount: 1234, Subject: "x", NotifyURL: e.notifyURL()})
	wantCode(t, err, channel.ErrAlreadyPaid)
}

func TestNotificationRetriedUntilAcknowledged(t *testing.T) {
	e := newEnv(t)
	e.refuse.Store(2)
	e.paid("T2001", 500, "")
	eventually(t, "the acknowledgement", func() bool { return e.sb.Order(channel.Wechat, "T2001").Acked })
	if n := e.sb.Order(channel.Wechat, "T2001").Notified; n != 3 {
		t.Fatalf("notified %d times, want 3 (two refused, one acknowledged)", n)
	}
	for i := 0; i < 3; i++ {
		if d := e.next(); d.err != nil || d.trade.No != "T2001" {
			t.Fatalf("attempt %d: %+v", i+1, d)
		}
	}
}

func TestNotificationDeliveries(t *testing.T) {
	for _, tc := range []struct {
		mode sandbox.Delivery
		want int
	}{
		{sandbox.DeliverNormal, 1},
		{sandbox.DeliverTwice, 2},
		{sandbox.DeliverLate, 1},
		{sandbox.DeliverNever, 0},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			e := newEnv(t)
			e.sb.SetNextDelivery(channel.Wechat, tc.mode)
			e.paid("T3001", 800, "")
			for i := 0; i < tc.want; i++ {
				if d := e.next(); d.err != nil || d.trade.State != channel.StatePaid {
					t.Fatalf("notification %d: %+v", i+1, d)
				}
			}
			if tc.want == 0 {
				// Nothing comes; the merchant finds out by querying.
				tr, err := e.gw.Query(context.Background(), "T3001")
				if err != nil || tr.State != channel.StatePaid {
					t.Fatalf("query = %+v, %v", tr, err)
				}
				if n := e.sb.Order(channel.Wechat, "T3001").Notified; n != 0 {
					t.Fatalf("notified %d times", n)
				}
			}
		})
	}
}

// validNotification pays an order and returns its notification as it
// arrived, for the tests to tamper with.
func validNotification(t *testing.T, e *env) captured {
	t.Helper()
	e.paid("T4001", 2500, "o-victim")
	c := e.nextRaw()
	if d := e.next(); d.err != nil {
		t.Fatalf("the genuine notification is refused: %v", d.err)
	}
	return c
}

// withResource returns body with resource fields changed.
func withResource(t *testing.T, body []byte, change func(res map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	change(m["resource"].(map[string]any))
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func flip(s string) string {
	b := []byte(s)
	if b[10] == 'A' {
		b[10] = 'B'
	} else {
		b[10] = 'A'
	}
	return string(b)
}

func TestNotificationForgeriesRefused(t *testing.T) {
	e := newEnv(t)
	c := validNotification(t, e)
	platform := privateKey(t, e.keys.WechatPlatform)
	serial := e.keys.WechatPlatformSerial
	changed := withResource(t, c.body, func(res map[string]any) { res["ciphertext"] = flip(res["ciphertext"].(string)) })
	without := func(names ...string) http.Header {
		h := c.header.Clone()
		for _, n := range names {
			h.Del(n)
		}
		return h
	}
	wrongKey := e.gateway(func(cfg *channel.WechatConfig) { cfg.APIv3Key = strings.Repeat("k", 32) })

	for _, tc := range []struct {
		name   string
		gw     *Gateway
		body   []byte
		header http.Header
	}{
		{"changed ciphertext", nil, changed, c.header},
		{"changed ciphertext, re-signed", nil, changed, signedHeaders(t, platform, serial, time.Now(), changed)},
		{"changed envelope", nil, []byte(strings.Replace(string(c.body), "TRANSACTION.SUCCESS", "TRANSACTION.SUCCESS ", 1)), c.header},
		{"signed with another key", nil, c.body, signedHeaders(t, otherKey(t), serial, time.Now(), c.body)},
		{"unknown serial", nil, c.body, func() http.Header { h := c.header.Clone(); h.Set("Wechatpay-Serial", "PUB_KEY_ID_0000"); return h }()},
		{"no signature", nil, c.body, without("Wechatpay-Signature")},
		{"no timestamp", nil, c.body, without("Wechatpay-Timestamp")},
		{"no nonce", nil, c.body, without("Wechatpay-Nonce")},
		{"no serial", nil, c.body, without("Wechatpay-Serial")},
		{"no headers", nil, c.body, without("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial")},
		{"old timestamp", nil, c.body, signedHeaders(t, platform, serial, time.Now().Add(-6*time.Minute), c.body)},
		{"future timestamp", nil, c.body, signedHeaders(t, platform, serial, time.Now().Add(6*time.Minute), c.body)},
		{"wrong APIv3 key", wrongKey, c.body, c.header},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := tc.gw
			if gw == nil {
				gw = e.gw
			}
			tr, err := gw.Notification(request(tc.body, tc.header))
			if tr != nil {
				t.Fatalf("forged notification accepted: %+v", tr)
			}
			wantCode(t, err, channel.ErrSignature)
		})
	}

	// Sanity: the untouched notification, replayed at once, still decodes
	// (the window is what stops a later replay; the payment package
	// deduplicates).
	if _, err := e.gw.Notification(request(c.body, c.header)); err != nil {
		t.Fatalf("genuine notification: %v", err)
	}
}

func TestNotificationMalformed(t *testing.T) {
	e := newEnv(t)
	platform := privateKey(t, e.keys.WechatPlatform)
	serial := e.keys.WechatPlatformSerial
	key := e.keys.WechatAPIv3Key
	const nonce = "0123456789ab"
	envelope := func(res map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"id": "x", "create_time": time.Now().Format(time.RFC3339),
			"event_type": "TRANSACTION.SUCCESS", "resource_type": "encrypt-resource", "resource": res})
		return b
	}
	sealed := func(plain string) []byte {
		return envelope(map[string]any{"algorithm": "AEAD_AES_256_GCM", "ciphertext": seal(t, key, nonce, []byte(plain)),
			"associated_data": "transaction", "original_type": "transaction", "nonce": nonce})
	}
	tx := func(mchid, state string) string {
		b, _ := json.Marshal(map[string]any{"mchid": mchid, "appid": e.keys.WechatAppID, "out_trade_no": "T5001",
			"transaction_id": "4200", "trade_state": state, "amount": map[string]any{"total": 100}})
		return string(b)
	}

	for _, tc := range []struct {
		name   string
		body   []byte
		signed bool
		want   channel.ErrorCode
	}{
		{"empty", nil, false, channel.ErrMalformed},
		{"not JSON", []byte("{"), false, channel.ErrMalformed},
		{"array", []byte("[1,2]"), false, channel.ErrMalformed},
		{"unsigned object", []byte(`{"event_type":"TRANSACTION.SUCCESS"}`), false, channel.ErrSignature},
		{"signed, not JSON", []byte("<xml/>"), true, channel.ErrMalformed},
		{"signed null", []byte("null"), true, channel.ErrMalformed},
		{"signed, no resource", []byte(`{"event_type":"TRANSACTION.SUCCESS"}`), true, channel.ErrMalformed},
		{"signed, refund event", []byte(`{"event_type":"REFUND.SUCCESS","resource":{}}`), true, channel.ErrMalformed},
		{"signed, short nonce", envelope(map[string]any{"algorithm": "AEAD_AES_256_GCM", "ciphertext": "AAAA", "nonce": "x"}), true, channel.ErrMalformed},
		{"signed, other algorithm", envelope(map[string]any{"algorithm": "ROT13", "ciphertext": "AAAA", "nonce": nonce}), true, channel.ErrMalformed},
		{"signed, ciphertext not base64", envelope(map[string]any{"algorithm": "AEAD_AES_256_GCM", "ciphertext": "%%%", "nonce": nonce}), true, channel.ErrSignature},
		{"signed, plaintext not JSON", sealed("not json"), true, channel.ErrMalformed},
		{"signed, unknown trade_state", sealed(tx(e.keys.WechatMchID, "MAYBE")), true, channel.ErrMalformed},
		{"signed, another merchant", sealed(tx("1999999999", "SUCCESS")), true, channel.ErrMalformed},
		{"signed, no order number", sealed(`{"mchid":"` + e.keys.WechatMchID + `","trade_state":"SUCCESS"}`), true, channel.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.signed {
				h = signedHeaders(t, platform, serial, time.Now(), tc.body)
			}
			tr, err := e.gw.Notification(request(tc.body, h))
			if tr != nil {
				t.Fatalf("accepted: %+v", tr)
			}
			wantCode(t, err, tc.want)
		})
	}

	// A request without a body at all.
	r := request(nil, nil)
	r.Body = nil
	if _, err := e.gw.Notification(r); channel.Code(err) != channel.ErrMalformed {
		t.Fatalf("nil body: %v", err)
	}
	if _, err := e.gw.Notification(nil); channel.Code(err) != channel.ErrMalformed {
		t.Fatalf("nil request: %v", err)
	}

	// And the well-formed one the cases above break, to show they break
	// only what they name.
	good := sealed(tx(e.keys.WechatMchID, "SUCCESS"))
	if tr, err := e.gw.Notification(request(good, signedHeaders(t, platform, serial, time.Now(), good))); err != nil || tr.No != "T5001" || tr.Amount != 100 {
		t.Fatalf("well-formed: %+v, %v", tr, err)
	}
}

func TestAck(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		ok     bool
		status int
		code   string
	}{{true, http.StatusOK, "SUCCESS"}, {false, http.StatusInternalServerError, "FAIL"}} {
		w := httptest.NewRecorder()
		e.gw.Ack(w, tc.ok)
		var body struct{ Code, Message string }
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != tc.status || body.Code != tc.code || body.Message == "" {
			t.Fatalf("Ack(%v) = %d %s", tc.ok, w.Code, w.Body)
		}
	}
}
