package alipay_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/channel/alipay"
	"github.com/onecard-campus/onecard/sandbox"
)

// Every test runs its own sandbox, but they share one set of keys:
// generating six RSA keys per test would dominate the run, and the tests
// that forge notifications need "Alipay's" private key, which only the
// Keys (not the Sandbox) expose.
var (
	keysOnce   sync.Once
	sharedKeys *sandbox.Keys
	keysErr    error
)

func testKeys(t testing.TB) *sandbox.Keys {
	t.Helper()
	keysOnce.Do(func() { sharedKeys, keysErr = sandbox.NewKeys() })
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return sharedKeys
}

type env struct {
	sb   *sandbox.Sandbox
	srv  *httptest.Server
	gw   *alipay.Gateway
	keys *sandbox.Keys
	cfg  channel.AlipayConfig
}

// newEnv starts a sandbox under httptest with short retry delays and an
// adapter configured from it, as `onecard serve` would be.
func newEnv(t testing.TB, now func() time.Time) *env {
	t.Helper()
	keys := testKeys(t)
	sb := sandbox.NewWithKeys(sandbox.Options{
		RetryDelays: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond},
		LateDelay:   10 * time.Millisecond,
		Now:         now,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, keys)
	srv := httptest.NewServer(sb)
	// Cleanups run last-in first-out: deliveries stop before the server.
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	sb.SetBaseURL(srv.URL)
	cfg := *sb.Config().Alipay
	gw, err := alipay.New(cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return &env{sb: sb, srv: srv, gw: gw, keys: keys, cfg: cfg}
}

// received is one notification as the merchant saw it.
type received struct {
	body  []byte
	trade *channel.Trade
	err   error
}

// merchant is OneCard's notify endpoint: it decodes each notification with
// the adapter and acknowledges it unless told to refuse the first few.
type merchant struct {
	srv  *httptest.Server
	got  chan received
	hits atomic.Int32
}

func newMerchant(t testing.TB, gw *alipay.Gateway, refuseFirst int32) *merchant {
	t.Helper()
	m := &merchant{got: make(chan received, 64)}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		tr, err := gw.Notification(r)
		n := m.hits.Add(1)
		m.got <- received{body: body, trade: tr, err: err}
		gw.Ack(w, err == nil && n > refuseFirst)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *merchant) next(t testing.TB) received {
	t.Helper()
	select {
	case r := <-m.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no notification arrived")
		return received{}
	}
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// order creates a wap order through the adapter and opens its pay URL as
// the payer's browser would, which is when Alipay (and the sandbox)
// creates the trade. It returns the checkout page's address.
func (e *env) order(t testing.TB, o channel.Order) string {
	t.Helper()
	co, err := e.gw.Create(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if co.Trade != nil || !strings.HasPrefix(co.PayURL, e.srv.URL+"/alipay/gateway.do?") {
		t.Fatalf("checkout = %+v", co)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := browser.Get(co.PayURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	want := "/sandbox/checkout/alipay/" + url.PathEscape(o.No)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
		t.Fatalf("opening the pay URL: %s to %q, want 302 to %q\n%s", res.Status, res.Header.Get("Location"), want, body)
	}
	return want
}

func (e *env) paidOrder(t testing.TB, no string, amount int64, payer string) {
	t.Helper()
	e.order(t, channel.Order{No: no, Amount: amount, Subject: "一卡通充值 " + no})
	if err := e.sb.Pay(channel.Alipay, no, payer); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t testing.TB, err error, code channel.ErrorCode) {
	t.Helper()
	if channel.Code(err) != code {
		t.Fatalf("err = %v, want *channel.Error %q", err, code)
	}
}

// signForm signs notification parameters the way Alipay documents (every
// parameter but sign and sign_type, sorted, key=value joined by &, RSA2)
// with the private key given, written independently of both the library
// and the sandbox.
func signForm(t testing.TB, v url.Values, privatePEM string) url.Values {
	t.Helper()
	key, err := sandbox.ParsePrivateKey(privatePEM)
	if err != nil {
		t.Fatal(err)
	}
	out := url.Values{}
	for k, vals := range v {
		if k != "sign" && k != "sign_type" {
			out[k] = append([]string(nil), vals...)
		}
	}
	sum := sha256.Sum256([]byte(signContent(out)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	out.Set("sign_type", "RSA2")
	out.Set("sign", base64.StdEncoding.EncodeToString(sig))
	return out
}

func signContent(v url.Values) string {
	var pairs []string
	for k, vals := range v {
		if k == "sign" || k == "sign_type" || k == "alipay_cert_sn" {
			continue
		}
		for _, x := range vals {
			pairs = append(pairs, k+"="+x)
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// validlySigned reports whether a form body carries a signature by
// "Alipay's" key, checked without the adapter.
func validlySigned(body []byte, pub *rsa.PublicKey) bool {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(v.Get("sign"))
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(signContent(v)))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
}

func notificationRequest(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/notify/alipay", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return r
}
