package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/api"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/channel/alipay"
	"github.com/onecard-campus/onecard/channel/bank"
	"github.com/onecard-campus/onecard/channel/wechat"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/payment"
	"github.com/onecard-campus/onecard/sandbox"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// payEnv is env with the payment side on: a real payment service whose
// gateways talk to a sandbox over HTTP, the API listening on a real port so
// that the sandbox's notifications reach /pay/notify, and the device API
// with code payments.
type payEnv struct {
	*env
	db      *store.DB
	sb      *sandbox.Sandbox
	pay     *payment.Service
	sms     *smsBox
	url     string // the API's address, the payment service's PublicURL
	devices string // the device API's address
}

// runPay runs fn once per store dialect with the payment side on.
func runPay(t *testing.T, fn func(t *testing.T, e *payEnv)) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) { fn(t, newPaymentServer(t, dialect)) })
	}
}

func newPaymentServer(t *testing.T, dialect string) *payEnv {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	db := storetest.Open(t, dialect, store.Options{Logger: logger})
	l := ledger.New(db, ledger.Options{Logger: logger})
	t.Cleanup(func() { l.Close() })

	sb, err := sandbox.New(sandbox.Options{RetryDelays: []time.Duration{50 * time.Millisecond}, LateDelay: 200 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	sbSrv := httptest.NewServer(sb)
	t.Cleanup(sbSrv.Close)
	sb.SetBaseURL(sbSrv.URL)
	cfg := sb.Config()
	hc := &http.Client{Timeout: 10 * time.Second}
	ali, err := alipay.New(*cfg.Alipay, hc)
	if err != nil {
		t.Fatal(err)
	}
	wx, err := wechat.New(*cfg.Wechat, hc)
	if err != nil {
		t.Fatal(err)
	}
	bk, err := bank.New(*cfg.Bank, hc)
	if err != nil {
		t.Fatal(err)
	}

	// The API's address must be known before the service that hands it to
	// the gateways, and the service before the API: listen first, serve
	// once both exist.
	apiSrv := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + apiSrv.Listener.Addr().String()
	box := &smsBox{}
	pay := payment.New(payment.Config{
		SMS:   box,
		Store: db, Schools: db, Cardholders: db, Cards: db, Banks: db, Merchants: db,
		Gateways:  map[channel.Name]channel.Gateway{channel.Alipay: ali, channel.Wechat: wx, channel.Bank: bk},
		PublicURL: publicURL,
		CodeWait:  2 * time.Second, CodePoll: 50 * time.Millisecond,
		Logger: logger,
	})
	h := api.New(api.Config{
		Schools: db, Cardholders: db, Cards: db, PINs: db, Auth: db, Operators: db,
		Merchants: db, Money: db, Terminals: db, Ledger: l, Accounts: db, Balances: db, Logger: logger,
		Payments: pay, PaymentStore: db,
	})
	apiSrv.Config.Handler = h
	apiSrv.Start()
	t.Cleanup(apiSrv.Close)

	devSrv := httptest.NewServer(device.New(device.Config{Terminals: db, Cards: db, Backend: db, CodePayer: pay, Logger: logger}))
	t.Cleanup(devSrv.Close)
	// Last registered, first run: no notification is in flight when the
	// servers and the store go.
	t.Cleanup(sb.Close)

	e := &env{t: t, h: h, logs: logs}
	once, err := db.EnsureAdmin(context.Background(), "")
	if err != nil || once == "" {
		t.Fatalf("EnsureAdmin: %q, %v", once, err)
	}
	e.admin = e.loginOperator("admin", once)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &payEnv{env: e, db: db, sb: sb, pay: pay, sms: box, url: apiSrv.URL, devices: devSrv.URL}
}

// doFrom sends a request as if from the client address addr ("ip:port"):
// the public lookup's rate limit counts per address.
// header is name, value pairs.
func (e *payEnv) doFrom(addr, method, path string, body any, header ...string) *response {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, r)
	req.RemoteAddr = addr
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return &response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// eventually polls cond until it holds or 10 seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// smsBox keeps the texts the payment service sends.
type smsBox struct {
	mu    sync.Mutex
	texts map[string][]string // by phone
}

func (b *smsBox) Send(_ context.Context, phone, text string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.texts == nil {
		b.texts = map[string][]string{}
	}
	b.texts[phone] = append(b.texts[phone], text)
	return nil
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// code returns the verification code in the last text to phone.
func (b *smsBox) code(t *testing.T, phone string) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	texts := b.texts[phone]
	if len(texts) == 0 {
		t.Fatalf("no text to %s", phone)
	}
	c := sixDigits.FindString(texts[len(texts)-1])
	if c == "" {
		t.Fatalf("no code in %q", texts[len(texts)-1])
	}
	return c
}
