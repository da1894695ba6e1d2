package wechat

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/sandbox"
)

// The tests run the adapter against the sandbox over real HTTP: the
// sandbox's WeChat Pay side checks the adapter's signatures and signs its
// answers, and notifications travel from the sandbox to a merchant server
// that decodes them with Notification.

var (
	keysOnce sync.Once
	keys     *sandbox.Keys
	keysErr  error
)

// testKeys are generated once: six 2048-bit RSA keys per test would cost
// more than the tests themselves.
func testKeys(t testing.TB) *sandbox.Keys {
	t.Helper()
	keysOnce.Do(func() { keys, keysErr = sandbox.NewKeys() })
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return keys
}

// captured is a notification as it arrived at the merchant.
type captured struct {
	header http.Header
	body   []byte
}

// decoded is what Notification made of one.
type decoded struct {
	trade *channel.Trade
	err   error
}

type env struct {
	t        *testing.T
	keys     *sandbox.Keys
	sb       *sandbox.Sandbox
	srv      *httptest.Server // the sandbox
	gw       *Gateway
	merchant *httptest.Server // receives notifications
	raw      chan captured
	got      chan decoded
	refuse   atomic.Int32 // notifications to answer FAIL before acknowledging
}

type envOption func(*sandbox.Options)

func withNow(now time.Time) envOption {
	return func(o *sandbox.Options) { o.Now = func() time.Time { return now } }
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	k := testKeys(t)
	opt := sandbox.Options{
		RetryDelays: []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond},
		LateDelay:   10 * time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&opt)
	}
	sb := sandbox.NewWithKeys(opt, k)
	srv := httptest.NewServer(sb)
	sb.SetBaseURL(srv.URL)
	e := &env{t: t, keys: k, sb: sb, srv: srv, raw: make(chan captured, 64), got: make(chan decoded, 64)}
	t.Cleanup(srv.Close)
	// The adapter exists before the merchant server that uses it starts.
	e.gw = e.gateway(nil)
	e.merchant = httptest.NewServer(http.HandlerFunc(e.notify))
	t.Cleanup(func() {
		sb.Close() // stops pending deliveries before their target goes away
		e.merchant.Close()
	})
	return e
}

// cfg is the merchant configuration the sandbox hands out.
func (e *env) cfg() channel.WechatConfig { return *e.sb.Config().Wechat }

// gateway builds an adapter on the sandbox, optionally with a changed
// configuration.
func (e *env) gateway(change func(*channel.WechatConfig)) *Gateway {
	e.t.Helper()
	cfg := e.cfg()
	if change != nil {
		change(&cfg)
	}
	g, err := New(cfg, e.srv.Client())
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

// notify is the merchant's notification endpoint.
func (e *env) notify(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	select {
	case e.raw <- captured{header: r.Header.Clone(), body: body}:
	default:
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	tr, err := e.gw.Notification(r)
	ok := err == nil && e.refuse.Add(-1) < 0
	select {
	case e.got <- decoded{trade: tr, err: err}:
	default:
	}
	e.gw.Ack(w, ok)
}

func (e *env) notifyURL() string { return e.merchant.URL + "/pay/notify/wechat" }

// order creates an H5 order at the sandbox.
func (e *env) order(no string, amount int64) {
	e.t.Helper()
	if _, err := e.gw.Create(context.Background(), channel.Order{No: no, Amount: amount, Subject: "测试大学 一卡通充值 2012345678",
		NotifyURL: e.notifyURL(), Expire: time.Now().Add(30 * time.Minute)}); err != nil {
		e.t.Fatalf("create %s: %v", no, err)
	}
}

// paid creates an order and pays it.
func (e *env) paid(no string, amount int64, payer string) {
	e.t.Helper()
	e.order(no, amount)
	if err := e.sb.Pay(channel.Wechat, no, payer); err != nil {
		e.t.Fatalf("pay %s: %v", no, err)
	}
}

const waitFor = 5 * time.Second

// next waits for the merchant to decode a notification.
func (e *env) next() decoded {
	e.t.Helper()
	select {
	case d := <-e.got:
		return d
	case <-time.After(waitFor):
		e.t.Fatal("no notification arrived")
	}
	return decoded{}
}

// nextRaw waits for a notification as it arrived.
func (e *env) nextRaw() captured {
	e.t.Helper()
	select {
	case c := <-e.raw:
		return c
	case <-time.After(waitFor):
		e.t.Fatal("no notification arrived")
	}
	return captured{}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func wantCode(t *testing.T, err error, code channel.ErrorCode) {
	t.Helper()
	if channel.Code(err) != code {
		t.Fatalf("error = %v, want *channel.Error %s", err, code)
	}
}

// --- WeChat Pay's side of the protocol, for forging and replaying ---

func privateKey(t testing.TB, p string) *rsa.PrivateKey {
	t.Helper()
	k, err := sandbox.ParsePrivateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// otherKey is a key nobody configured.
func otherKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func privatePEM(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func publicPEM(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func rsaSign(t testing.TB, k *rsa.PrivateKey, msg string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// signedHeaders signs a notification body as WeChat Pay does, at ts.
func signedHeaders(t testing.TB, k *rsa.PrivateKey, serial string, ts time.Time, body []byte) http.Header {
	t.Helper()
	h := http.Header{}
	sec := strconv.FormatInt(ts.Unix(), 10)
	nonce := "TESTNONCE0123456789ABCDEF0123456"
	h.Set("Content-Type", "application/json")
	h.Set("Wechatpay-Timestamp", sec)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Serial", serial)
	h.Set("Wechatpay-Signature", rsaSign(t, k, sec+"\n"+nonce+"\n"+string(body)+"\n"))
	return h
}

// seal encrypts a resource with the APIv3 key as WeChat Pay does.
func seal(t testing.TB, key, nonce string, plain []byte) string {
	t.Helper()
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte(nonce), plain, []byte("transaction")))
}

// request rebuilds a notification request.
func request(body []byte, h http.Header) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/pay/notify/wechat", bytes.NewReader(body))
	for k, v := range h {
		r.Header[k] = append([]string(nil), v...)
	}
	return r
}
