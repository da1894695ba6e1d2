package alipay_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/sandbox"
)

// genuine is a notification the sandbox signed and delivered for a paid
// order: 20.00 yuan by 2088000000000042.
func genuine(t testing.TB, e *env) []byte {
	t.Helper()
	m := newMerchant(t, e.gw, 0)
	e.order(t, channel.Order{No: "T-genuine", Amount: 2000, Subject: "充值", NotifyURL: m.srv.URL})
	if err := e.sb.Pay(channel.Alipay, "T-genuine", "2088000000000042"); err != nil {
		t.Fatal(err)
	}
	got := m.next(t)
	if got.err != nil {
		t.Fatal(got.err)
	}
	return got.body
}

func TestForgedNotifications(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	body := genuine(t, e)
	platform := e.keys.AlipayPlatform
	other := otherKeyPEM(t).private
	for _, tc := range []struct {
		name   string
		forge  func(v url.Values) url.Values
		code   channel.ErrorCode // "" when it must be accepted
		amount int64
	}{
		{"genuine", func(v url.Values) url.Values { return v }, "", 2000},
		{"amount changed after signing", func(v url.Values) url.Values { v.Set("total_amount", "2000.00"); return v }, channel.ErrSignature, 0},
		{"payer changed after signing", func(v url.Values) url.Values { v.Set("buyer_id", "2088999999999999"); return v }, channel.ErrSignature, 0},
		{"status changed after signing", func(v url.Values) url.Values { v.Set("trade_status", "TRADE_FINISHED"); return v }, channel.ErrSignature, 0},
		{"parameter added", func(v url.Values) url.Values { v.Set("refund_fee", "20.00"); return v }, channel.ErrSignature, 0},
		{"parameter repeated", func(v url.Values) url.Values { v.Add("total_amount", "0.01"); return v }, channel.ErrSignature, 0},
		{"re-signed with another key", func(v url.Values) url.Values {
			v.Set("total_amount", "2000.00")
			return signForm(t, v, other)
		}, channel.ErrSignature, 0},
		{"sign removed", func(v url.Values) url.Values { v.Del("sign"); return v }, channel.ErrSignature, 0},
		{"sign emptied", func(v url.Values) url.Values { v.Set("sign", ""); return v }, channel.ErrSignature, 0},
		{"sign not base64", func(v url.Values) url.Values { v.Set("sign", "not*base64!"); return v }, channel.ErrSignature, 0},
		{"sign truncated", func(v url.Values) url.Values { v.Set("sign", v.Get("sign")[:40]); return v }, channel.ErrSignature, 0},
		{"another application", func(v url.Values) url.Values {
			v.Set("app_id", "2021000199999999")
			return signForm(t, v, platform)
		}, channel.ErrSignature, 0},
		// Controls: the test's signer matches Alipay's scheme, so the
		// refusals above are the key's doing; and what is not signed
		// (sign_type, alipay_cert_sn) does not matter.
		{"re-signed with Alipay's key", func(v url.Values) url.Values {
			v.Set("total_amount", "2000.00")
			return signForm(t, v, platform)
		}, "", 200000},
		{"sign_type changed", func(v url.Values) url.Values { v.Set("sign_type", "RSA"); return v }, "", 2000},
		{"alipay_cert_sn added", func(v url.Values) url.Values { v.Set("alipay_cert_sn", "deadbeef"); return v }, "", 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(string(body))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := e.gw.Notification(notificationRequest([]byte(tc.forge(v).Encode())))
			if tc.code != "" {
				wantCode(t, err, tc.code)
				if tr != nil {
					t.Fatalf("forged notification decoded to %+v", tr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.No != "T-genuine" || tr.Amount != tc.amount || tr.State != channel.StatePaid {
				t.Fatalf("trade = %+v", tr)
			}
		})
	}
}

// Every decodable trade_status, signed as Alipay would.
func TestNotificationStates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	base := url.Values{"app_id": {e.cfg.AppID}, "notify_type": {"trade_status_sync"}, "out_trade_no": {"T-states"},
		"trade_no": {"2024050122000000000001"}, "total_amount": {"10.00"}, "buyer_id": {"2088000000000001"}}
	for _, tc := range []struct {
		status, refundFee, gmtPayment string
		state                         channel.State
		refunded                      int64
	}{
		{"WAIT_BUYER_PAY", "", "", channel.StateWaiting, 0},
		{"TRADE_SUCCESS", "", "2024-05-01 12:00:00", channel.StatePaid, 0},
		{"TRADE_FINISHED", "", "2024-05-01 12:00:00", channel.StatePaid, 0},
		{"TRADE_SUCCESS", "2.50", "2024-05-01 12:00:00", channel.StatePaid, 250},
		{"TRADE_CLOSED", "", "", channel.StateClosed, 0},
		{"TRADE_CLOSED", "10.00", "2024-05-01 12:00:00", channel.StateRefunded, 1000},
	} {
		t.Run(tc.status+"/"+tc.refundFee, func(t *testing.T) {
			v := url.Values{}
			for k, x := range base {
				v[k] = x
			}
			v.Set("trade_status", tc.status)
			if tc.refundFee != "" {
				v.Set("refund_fee", tc.refundFee)
			}
			if tc.gmtPayment != "" {
				v.Set("gmt_payment", tc.gmtPayment)
			}
			tr, err := e.gw.Notification(notificationRequest([]byte(signForm(t, v, e.keys.AlipayPlatform).Encode())))
			if err != nil {
				t.Fatal(err)
			}
			if tr.State != tc.state || tr.Refunded != tc.refunded || tr.Amount != 1000 || tr.GatewayNo != "2024050122000000000001" ||
				tr.Payer != "2088000000000001" || tr.PaidAt.IsZero() != (tc.gmtPayment == "") {
				t.Fatalf("trade = %+v", tr)
			}
			if tc.gmtPayment != "" && tr.PaidAt.UTC().Format("2006-01-02 15:04") != "2024-05-01 04:00" {
				t.Fatalf("gmt_payment is Beijing time; PaidAt = %v", tr.PaidAt)
			}
		})
	}
}

func TestMalformedNotifications(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	signed := func(set map[string]string, del ...string) string {
		v := url.Values{"app_id": {e.cfg.AppID}, "out_trade_no": {"T-bad"}, "trade_no": {"1"}, "total_amount": {"1.00"},
			"trade_status": {"TRADE_SUCCESS"}, "gmt_payment": {"2024-05-01 12:00:00"}}
		for k, x := range set {
			v.Set(k, x)
		}
		for _, k := range del {
			v.Del(k)
		}
		return signForm(t, v, e.keys.AlipayPlatform).Encode()
	}
	for _, tc := range []struct {
		name string
		body string
		code channel.ErrorCode
	}{
		{"empty", "", channel.ErrSignature},
		{"bad escape", "total_amount=%zz&sign=x", channel.ErrMalformed},
		{"semicolons", "a=1;b=2", channel.ErrMalformed},
		{"json", `{"trade_status":"TRADE_SUCCESS","total_amount":"1.00"}`, channel.ErrSignature},
		{"binary", "\x00\xff\xfe=\x01&&&==", channel.ErrSignature},
		{"too large", "sign=" + strings.Repeat("A", 1<<20), channel.ErrMalformed},
		{"huge signature", "sign=" + strings.Repeat("QUFB", 1<<17), channel.ErrSignature},
		{"no out_trade_no", signed(nil, "out_trade_no"), channel.ErrMalformed},
		{"no total_amount", signed(nil, "total_amount"), channel.ErrMalformed},
		{"three decimals", signed(map[string]string{"total_amount": "1.005"}), channel.ErrMalformed},
		{"negative amount", signed(map[string]string{"total_amount": "-1.00"}), channel.ErrMalformed},
		{"exponent", signed(map[string]string{"total_amount": "1e3"}), channel.ErrMalformed},
		{"bad refund_fee", signed(map[string]string{"refund_fee": "lots"}), channel.ErrMalformed},
		{"unknown status", signed(map[string]string{"trade_status": "TRADE_PENDING"}), channel.ErrMalformed},
		{"bad gmt_payment", signed(map[string]string{"gmt_payment": "yesterday"}), channel.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := e.gw.Notification(notificationRequest([]byte(tc.body)))
			wantCode(t, err, tc.code)
			if tr != nil {
				t.Fatalf("decoded %+v", tr)
			}
		})
	}
	t.Run("no body", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/notify", nil)
		r.Body = nil
		_, err := e.gw.Notification(r)
		wantCode(t, err, channel.ErrMalformed)
		_, err = e.gw.Notification(nil)
		wantCode(t, err, channel.ErrMalformed)
	})
	t.Run("unreadable body", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/notify", io.MultiReader(strings.NewReader("a=1"), errReader{}))
		_, err := e.gw.Notification(r)
		wantCode(t, err, channel.ErrMalformed)
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestAck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct {
		ok   bool
		body string
	}{{true, "success"}, {false, "fail"}} {
		w := httptest.NewRecorder()
		e.gw.Ack(w, tc.ok)
		if w.Code != http.StatusOK || w.Body.String() != tc.body {
			t.Fatalf("Ack(%v) = %d %q", tc.ok, w.Code, w.Body.String())
		}
	}
}

// FuzzNotification feeds arbitrary bodies to Notification: it must never
// panic, must answer either a trade or a *channel.Error, and may only
// answer a trade for a body carrying Alipay's valid signature, whose
// fields the trade then repeats.
func FuzzNotification(f *testing.F) {
	e := newEnv(f, nil)
	body := genuine(f, e)
	pub, err := sandbox.ParsePublicKey(e.cfg.AlipayPublicKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body)
	f.Add([]byte(""))
	f.Add([]byte("sign=&total_amount=1.00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		tr, err := e.gw.Notification(notificationRequest(body))
		if (tr == nil) == (err == nil) {
			t.Fatalf("trade %+v with error %v", tr, err)
		}
		if err != nil {
			if channel.Code(err) == "" {
				t.Fatalf("error is not a *channel.Error: %v", err)
			}
			return
		}
		if !validlySigned(body, pub) {
			t.Fatalf("accepted a body without Alipay's signature: %q", body)
		}
		v, _ := url.ParseQuery(string(body))
		if tr.No != v.Get("out_trade_no") || tr.GatewayNo != v.Get("trade_no") || tr.Payer != v.Get("buyer_id") {
			t.Fatalf("trade %+v does not repeat the signed fields %v", tr, v)
		}
	})
}

// The sandbox's delivery modes, through Alipay's notification protocol.
func TestDeliveryModes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode  sandbox.Delivery
		sends int
	}{
		{sandbox.DeliverNormal, 1},
		{sandbox.DeliverTwice, 2},
		{sandbox.DeliverLate, 1},
		{sandbox.DeliverNever, 0},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			m := newMerchant(t, e.gw, 0)
			e.sb.SetNextDelivery(channel.Alipay, tc.mode)
			e.order(t, channel.Order{No: "T-mode", Amount: 100, Subject: "充值", NotifyURL: m.srv.URL})
			if err := e.sb.Pay(channel.Alipay, "T-mode", ""); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < tc.sends; i++ {
				if got := m.next(t); got.err != nil || got.trade.No != "T-mode" || got.trade.State != channel.StatePaid {
					t.Fatalf("notification %d: %+v, %v", i+1, got.trade, got.err)
				}
			}
			if tc.sends == 0 {
				// Never: nothing was started, so nothing can arrive; the
				// merchant learns of the payment by asking.
				if o := e.sb.Order(channel.Alipay, "T-mode"); o.Notified != 0 {
					t.Fatalf("notified %d times", o.Notified)
				}
				if tr, err := e.gw.Query(ctx, "T-mode"); err != nil || tr.State != channel.StatePaid {
					t.Fatalf("query: %+v, %v", tr, err)
				}
				return
			}
			eventually(t, "all deliveries", func() bool { return e.sb.Order(channel.Alipay, "T-mode").Notified == tc.sends })
		})
	}
}
