package alipay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/channel/alipay"
)

var ctx = context.Background()

func TestCreateCarriesTheOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	expire := time.Now().Add(30 * time.Minute)
	e.order(t, channel.Order{No: "T-create-1", Amount: 1050, Subject: "南开大学 一卡通充值 2012345678",
		NotifyURL: "https://onecard.example/notify/alipay", ReturnURL: "https://onecard.example/topup/done", Expire: expire})
	o := e.sb.Order(channel.Alipay, "T-create-1")
	if o == nil {
		t.Fatal("the sandbox has no order")
	}
	if o.Amount != 1050 || o.Subject != "南开大学 一卡通充值 2012345678" || o.State != channel.StateWaiting ||
		o.NotifyURL != "https://onecard.example/notify/alipay" || o.ReturnURL != "https://onecard.example/topup/done" {
		t.Fatalf("sandbox order = %+v", o)
	}
	// time_expire goes to the minute, rounded down.
	if want := expire.Truncate(time.Minute); !o.Expire.Equal(want) {
		t.Fatalf("expire = %v, want %v", o.Expire, want)
	}
}

func TestCreateRefusesBadAmounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, amount := range []int64{0, -100, 1_000_000_001} {
		if _, err := e.gw.Create(ctx, channel.Order{No: "T-bad", Amount: amount}); err == nil {
			t.Errorf("Create with %d fen succeeded", amount)
		}
	}
}

func TestPayNotifiesTheMerchant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	m := newMerchant(t, e.gw, 0)
	e.order(t, channel.Order{No: "T-pay-1", Amount: 2000, Subject: "充值", NotifyURL: m.srv.URL})
	if err := e.sb.Pay(channel.Alipay, "T-pay-1", "2088000000000042"); err != nil {
		t.Fatal(err)
	}
	got := m.next(t)
	if got.err != nil {
		t.Fatalf("Notification: %v", got.err)
	}
	tr := got.trade
	o := e.sb.Order(channel.Alipay, "T-pay-1")
	if tr.No != "T-pay-1" || tr.State != channel.StatePaid || tr.Amount != 2000 || tr.Refunded != 0 ||
		tr.Payer != "2088000000000042" || tr.GatewayNo != o.GatewayNo || !tr.PaidAt.Equal(o.PaidAt.Truncate(time.Second)) {
		t.Fatalf("trade = %+v, sandbox order = %+v", tr, o)
	}
	eventually(t, "the acknowledgement", func() bool { return e.sb.Order(channel.Alipay, "T-pay-1").Acked })
	if n := e.sb.Order(channel.Alipay, "T-pay-1").Notified; n != 1 {
		t.Fatalf("notified %d times, want once", n)
	}
}

func TestUnacknowledgedNotificationIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	m := newMerchant(t, e.gw, 2) // answers "fail" twice, then "success"
	e.order(t, channel.Order{No: "T-retry-1", Amount: 500, Subject: "充值", NotifyURL: m.srv.URL})
	if err := e.sb.Pay(channel.Alipay, "T-retry-1", ""); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if got := m.next(t); got.err != nil || got.trade.State != channel.StatePaid {
			t.Fatalf("attempt %d: %+v, %v", i+1, got.trade, got.err)
		}
	}
	eventually(t, "the acknowledgement", func() bool { return e.sb.Order(channel.Alipay, "T-retry-1").Acked })
	if n := e.sb.Order(channel.Alipay, "T-retry-1").Notified; n != 3 {
		t.Fatalf("notified %d times, want 3", n)
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.order(t, channel.Order{No: "T-q-wait", Amount: 100, Subject: "充值"})
	e.paidOrder(t, "T-q-paid", 12345, "2088000000000007")
	// Created but never opened: Alipay has never heard of it.
	if _, err := e.gw.Create(ctx, channel.Order{No: "T-q-unopened", Amount: 100}); err != nil {
		t.Fatal(err)
	}
	paid := e.sb.Order(channel.Alipay, "T-q-paid")
	for _, tc := range []struct {
		no     string
		state  channel.State
		amount int64
		payer  string
	}{
		{"T-q-wait", channel.StateWaiting, 100, ""},
		{"T-q-paid", channel.StatePaid, 12345, "2088000000000007"},
		{"T-q-unopened", channel.StateNotFound, 0, ""},
		{"T-q-nothing", channel.StateNotFound, 0, ""},
	} {
		t.Run(tc.no, func(t *testing.T) {
			tr, err := e.gw.Query(ctx, tc.no)
			if err != nil {
				t.Fatal(err)
			}
			if tr.No != tc.no || tr.State != tc.state || tr.Amount != tc.amount || tr.Payer != tc.payer {
				t.Fatalf("trade = %+v", tr)
			}
		})
	}
	tr, _ := e.gw.Query(ctx, "T-q-paid")
	if tr.GatewayNo != paid.GatewayNo || !tr.PaidAt.Equal(paid.PaidAt.Truncate(time.Second)) {
		t.Fatalf("paid trade = %+v, sandbox %+v", tr, paid)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.order(t, channel.Order{No: "T-close-1", Amount: 100, Subject: "充值"})
	if err := e.gw.Close(ctx, "T-close-1"); err != nil {
		t.Fatalf("closing an unpaid order: %v", err)
	}
	if tr, err := e.gw.Query(ctx, "T-close-1"); err != nil || tr.State != channel.StateClosed {
		t.Fatalf("after close: %+v, %v", tr, err)
	}
	if err := e.sb.Pay(channel.Alipay, "T-close-1", ""); err == nil {
		t.Fatal("a closed order was paid")
	}
	// Alipay refuses to close a closed trade; the adapter makes it a no-op.
	if err := e.gw.Close(ctx, "T-close-1"); err != nil {
		t.Fatalf("closing a closed order: %v", err)
	}
	if err := e.gw.Close(ctx, "T-close-unknown"); err != nil {
		t.Fatalf("closing an order Alipay never saw: %v", err)
	}
	e.paidOrder(t, "T-close-paid", 100, "")
	wantCode(t, e.gw.Close(ctx, "T-close-paid"), channel.ErrAlreadyPaid)
}

func TestRefund(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.paidOrder(t, "T-refund-1", 1000, "")
	steps := []struct {
		name     string
		refund   channel.Refund
		code     channel.ErrorCode
		refunded int64
		state    channel.State
	}{
		{"partial", channel.Refund{No: "T-refund-1", RefundNo: "R1", Amount: 300, Total: 1000, Reason: "多充"}, "", 300, channel.StatePaid},
		{"same number again", channel.Refund{No: "T-refund-1", RefundNo: "R1", Amount: 300, Total: 1000}, "", 300, channel.StatePaid},
		{"more than is left", channel.Refund{No: "T-refund-1", RefundNo: "R1b", Amount: 701, Total: 1000}, channel.ErrRefused, 300, channel.StatePaid},
		{"the rest", channel.Refund{No: "T-refund-1", RefundNo: "R2", Amount: 700, Total: 1000}, "", 1000, channel.StateRefunded},
		{"beyond the total", channel.Refund{No: "T-refund-1", RefundNo: "R3", Amount: 1, Total: 1000}, channel.ErrRefused, 1000, channel.StateRefunded},
		{"the rest again", channel.Refund{No: "T-refund-1", RefundNo: "R2", Amount: 700, Total: 1000}, "", 1000, channel.StateRefunded},
	}
	for _, st := range steps {
		err := e.gw.Refund(ctx, st.refund)
		if channel.Code(err) != st.code || (st.code == "" && err != nil) {
			t.Fatalf("%s: err = %v, want %q", st.name, err, st.code)
		}
		o := e.sb.Order(channel.Alipay, "T-refund-1")
		if o.Refunded() != st.refunded || o.State != st.state {
			t.Fatalf("%s: sandbox refunded %d (%s), want %d (%s)", st.name, o.Refunded(), o.State, st.refunded, st.state)
		}
	}
	if tr, err := e.gw.Query(ctx, "T-refund-1"); err != nil || tr.State != channel.StateRefunded || tr.Refunded != 1000 {
		t.Fatalf("query after full refund: %+v, %v", tr, err)
	}
	wantCode(t, e.gw.Refund(ctx, channel.Refund{No: "T-refund-none", RefundNo: "R9", Amount: 1}), channel.ErrNotFound)
	e.order(t, channel.Order{No: "T-refund-unpaid", Amount: 100, Subject: "充值"})
	wantCode(t, e.gw.Refund(ctx, channel.Refund{No: "T-refund-unpaid", RefundNo: "R10", Amount: 100}), channel.ErrRefused)
}

func TestCodePay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	instant := e.sb.IssueCode(channel.Alipay, "2088000000000101", false)
	confirm := e.sb.IssueCode(channel.Alipay, "2088000000000102", true)
	wechat := e.sb.IssueCode(channel.Wechat, "", false)
	for _, tc := range []struct {
		name  string
		no    string
		code  string
		state channel.State
		payer string
		err   channel.ErrorCode
	}{
		{"paid at once", "T-code-1", instant, channel.StatePaid, "2088000000000101", ""},
		{"payer confirms on the phone", "T-code-2", confirm, channel.StatePaying, "2088000000000102", ""},
		{"reused code", "T-code-3", instant, "", "", channel.ErrRefused},
		{"unknown code", "T-code-4", "280000000000000000", "", "", channel.ErrRefused},
		{"another channel's code", "T-code-5", wechat, "", "", channel.ErrRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := e.gw.CodePay(ctx, channel.CodePayment{No: tc.no, AuthCode: tc.code, Amount: 800, Subject: "食堂", Terminal: "POS-01"})
			if tc.err != "" {
				wantCode(t, err, tc.err)
				if tr != nil {
					t.Fatalf("refused payment returned %+v", tr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.No != tc.no || tr.State != tc.state || tr.Amount != 800 || tr.Payer != tc.payer || tr.GatewayNo == "" {
				t.Fatalf("trade = %+v", tr)
			}
			if tc.state == channel.StatePaid && tr.PaidAt.IsZero() {
				t.Fatal("paid trade without PaidAt")
			}
		})
	}
	// The payer confirms; the POS, querying, sees it paid.
	if tr, err := e.gw.Query(ctx, "T-code-2"); err != nil || tr.State != channel.StateWaiting {
		t.Fatalf("before confirmation: %+v, %v", tr, err)
	}
	if err := e.sb.ConfirmCode(channel.Alipay, "T-code-2"); err != nil {
		t.Fatal(err)
	}
	if tr, err := e.gw.Query(ctx, "T-code-2"); err != nil || tr.State != channel.StatePaid || tr.Payer != "2088000000000102" {
		t.Fatalf("after confirmation: %+v, %v", tr, err)
	}
	// A retried request (same order number, same code) answers the same.
	if tr, err := e.gw.CodePay(ctx, channel.CodePayment{No: "T-code-1", AuthCode: instant, Amount: 800, Subject: "食堂"}); err != nil || tr.State != channel.StatePaid {
		t.Fatalf("retried code payment: %+v, %v", tr, err)
	}
}

func TestReverse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	waiting := e.sb.IssueCode(channel.Alipay, "", true)
	if _, err := e.gw.CodePay(ctx, channel.CodePayment{No: "T-rev-1", AuthCode: waiting, Amount: 300, Subject: "食堂"}); err != nil {
		t.Fatal(err)
	}
	paid := e.sb.IssueCode(channel.Alipay, "", false)
	if _, err := e.gw.CodePay(ctx, channel.CodePayment{No: "T-rev-2", AuthCode: paid, Amount: 400, Subject: "食堂"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		no       string
		state    channel.State
		refunded int64
	}{
		{"T-rev-1", channel.StateClosed, 0},
		{"T-rev-2", channel.StateRefunded, 400},
	} {
		if err := e.gw.Reverse(ctx, tc.no); err != nil {
			t.Fatalf("%s: %v", tc.no, err)
		}
		if o := e.sb.Order(channel.Alipay, tc.no); o.State != tc.state || o.Refunded() != tc.refunded {
			t.Fatalf("%s: sandbox %s refunded %d", tc.no, o.State, o.Refunded())
		}
		if tr, err := e.gw.Query(ctx, tc.no); err != nil || tr.State != tc.state {
			t.Fatalf("%s: query %+v, %v", tc.no, tr, err)
		}
	}
	// The payer can no longer confirm a reversed payment.
	if err := e.sb.ConfirmCode(channel.Alipay, "T-rev-1"); err == nil {
		t.Fatal("a reversed payment was confirmed")
	}
	wantCode(t, e.gw.Reverse(ctx, "T-rev-none"), channel.ErrNotFound)
}

func TestPayerID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	code := e.sb.IssueOAuthCode(channel.Alipay, "2088000000000555")
	id, err := e.gw.PayerID(ctx, code)
	if err != nil || id != "2088000000000555" {
		t.Fatalf("PayerID = %q, %v", id, err)
	}
	wantCode(t, func() error { _, err := e.gw.PayerID(ctx, code); return err }(), channel.ErrRefused)
	wantCode(t, func() error { _, err := e.gw.PayerID(ctx, "a12345"); return err }(), channel.ErrRefused)
	wantCode(t, func() error { _, err := e.gw.PayerID(ctx, ""); return err }(), channel.ErrRefused)
}

// The sandbox checks the application's signature on every call, and the
// adapter checks Alipay's on every answer.
func TestSignaturesAreChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.order(t, channel.Order{No: "T-sig-1", Amount: 100, Subject: "充值"})
	other := otherKeyPEM(t)

	wrongApp := e.cfg
	wrongApp.PrivateKey = other.private
	gw, err := alipay.New(wrongApp, e.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = gw.Query(ctx, "T-sig-1")
	if err == nil || channel.Code(err) != "" || !strings.Contains(err.Error(), "isv.invalid-signature") {
		t.Fatalf("query signed with another key: %v", err)
	}
	// A pay URL signed with another key is refused to the payer's browser.
	co, err := gw.Create(ctx, channel.Order{No: "T-sig-2", Amount: 100})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.srv.Client().Get(co.PayURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 || e.sb.Order(channel.Alipay, "T-sig-2") != nil {
		t.Fatalf("forged pay URL: %s", res.Status)
	}

	wrongAlipay := e.cfg
	wrongAlipay.AlipayPublicKey = other.public
	gw, err = alipay.New(wrongAlipay, e.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = gw.Query(ctx, "T-sig-1")
	wantCode(t, err, channel.ErrSignature)
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	cfg := channel.AlipayConfig{AppID: "2021", PrivateKey: "not a key", AlipayPublicKey: otherKeyPEM(t).public}
	if _, err := alipay.New(cfg, nil); err == nil {
		t.Fatal("accepted a bad private key")
	}
	cfg.PrivateKey, cfg.AlipayPublicKey = otherKeyPEM(t).private, "not a key"
	if _, err := alipay.New(cfg, nil); err == nil {
		t.Fatal("accepted a bad public key")
	}
	if _, err := alipay.New(channel.AlipayConfig{}, nil); err == nil {
		t.Fatal("accepted an empty config")
	}
}

type pemPair struct{ private, public string }

var (
	otherOnce sync.Once
	otherPair pemPair
	otherErr  error
)

// otherKeyPEM is an RSA key that is neither the application's nor
// Alipay's.
func otherKeyPEM(t testing.TB) pemPair {
	t.Helper()
	otherOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			otherErr = err
			return
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		otherPair = pemPair{
			private: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
			public:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		}
	})
	if otherErr != nil {
		t.Fatal(otherErr)
	}
	return otherPair
}
