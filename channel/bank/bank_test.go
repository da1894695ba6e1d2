package bank_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/channel/bank"
	"github.com/onecard-campus/onecard/sandbox"
)

// Cards that pass the Luhn check and are nobody's mismatch.
const (
	card1 = "6217000000000000004"
	card2 = "6222020000000000018"
	card3 = "6225880000000001232"
)

// testKeys are generated once: 2048-bit keys take a while, and every test
// needs a sandbox.
var testKeys = sync.OnceValue(func() *sandbox.Keys {
	k, err := sandbox.NewKeys()
	if err != nil {
		panic(err)
	}
	return k
})

// env is a sandbox bank, the client pointed at it and a merchant server
// receiving the bank's notifications through the client.
type env struct {
	sb    *sandbox.Sandbox
	srv   *httptest.Server
	g     *bank.Gateway
	cfg   channel.BankConfig
	inbox *inbox
}

type note struct {
	header http.Header
	body   []byte
	trade  *channel.Trade
	err    error
}

type inbox struct {
	mu    sync.Mutex
	notes []note
	srv   *httptest.Server
}

func (in *inbox) all() []note {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]note(nil), in.notes...)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	sb := sandbox.NewWithKeys(sandbox.Options{
		RetryDelays: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, testKeys())
	srv := httptest.NewServer(sb)
	sb.SetBaseURL(srv.URL)
	e := &env{sb: sb, srv: srv, cfg: *sb.Config().Bank, inbox: &inbox{}}
	g, err := bank.New(e.cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	e.g = g
	e.inbox.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		tr, err := g.Notification(r)
		e.inbox.mu.Lock()
		e.inbox.notes = append(e.inbox.notes, note{header: r.Header.Clone(), body: body, trade: tr, err: err})
		e.inbox.mu.Unlock()
		g.Ack(w, err == nil)
	}))
	// Stop the sandbox's deliveries before the servers they talk to.
	t.Cleanup(func() { sb.Close(); e.inbox.srv.Close(); srv.Close() })
	return e
}

func (e *env) sign(t *testing.T, card string) string {
	t.Helper()
	ag, err := e.g.Sign(context.Background(), "张三", "110101200001011234", card)
	if err != nil {
		t.Fatalf("sign %s: %v", card, err)
	}
	return ag
}

func (e *env) order(no, agreement string, amount int64) channel.Order {
	return channel.Order{No: no, Amount: amount, Subject: "南开大学 一卡通充值 2012345678",
		NotifyURL: e.inbox.srv.URL + "/notify/bank", Payer: agreement}
}

// waitFor polls cond until it holds or five seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wantCode(t *testing.T, err error, code channel.ErrorCode) {
	t.Helper()
	if channel.Code(err) != code {
		t.Fatalf("err = %v, want *channel.Error %s", err, code)
	}
}

func TestSign(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ag := e.sign(t, card1)
	if !strings.HasPrefix(ag, "AG") {
		t.Errorf("agreement number %q", ag)
	}
	// Spaces as a person types them are fine, and signing again returns the
	// same agreement.
	again, err := e.g.Sign(ctx, "张三", "110101200001011234", "6217 0000 0000 0000 004")
	if err != nil || again != ag {
		t.Errorf("sign again = %q, %v; want %q", again, err, ag)
	}

	_, err = e.g.Sign(ctx, "李四", "110101200001015678", sandbox.MismatchedCards[0])
	wantCode(t, err, channel.ErrRefused)
	if !strings.Contains(err.Error(), "not the holder's") {
		t.Errorf("mismatch message: %v", err)
	}
	_, err = e.g.Sign(ctx, "李四", "110101200001015678", "6217000000000000005") // check digit off by one
	wantCode(t, err, channel.ErrRefused)
	// Someone else naming a card already signed is not its holder either.
	_, err = e.g.Sign(ctx, "李四", "110101200001015678", card1)
	wantCode(t, err, channel.ErrRefused)
	_, err = e.g.Sign(ctx, "", "", card2)
	wantCode(t, err, channel.ErrMalformed)

	if err := e.g.Unsign(ctx, ag); err != nil {
		t.Fatal(err)
	}
	if err := e.g.Unsign(ctx, ag); err != nil {
		t.Errorf("unsign twice: %v", err)
	}
	wantCode(t, e.g.Unsign(ctx, "AG-nope"), channel.ErrNotFound)
	// The card is free again: signing gives a new agreement.
	if ag2 := e.sign(t, card1); ag2 == ag {
		t.Errorf("re-signed card kept the cancelled agreement %s", ag)
	}
}

func TestDebitPaidAndNotified(t *testing.T) {
	e := newEnv(t)
	ag := e.sign(t, card1)
	co, err := e.g.Create(context.Background(), e.order("T1001", ag, 5000))
	if err != nil {
		t.Fatal(err)
	}
	if co.PayURL != "" || co.Trade == nil {
		t.Fatalf("checkout %+v: want no PayURL and a trade", co)
	}
	tr := co.Trade
	if tr.State != channel.StatePaid || tr.No != "T1001" || tr.Amount != 5000 || tr.Payer != ag || tr.GatewayNo == "" || tr.PaidAt.IsZero() {
		t.Errorf("trade %+v", tr)
	}
	if bal, _ := e.sb.BankBalance(ag); bal != sandbox.DefaultBankBalance-5000 {
		t.Errorf("card balance %d", bal)
	}

	waitFor(t, "the notification", func() bool { return len(e.inbox.all()) > 0 })
	n := e.inbox.all()[0]
	if n.err != nil {
		t.Fatalf("notification refused: %v", n.err)
	}
	if n.trade.No != "T1001" || n.trade.State != channel.StatePaid || n.trade.Amount != 5000 || n.trade.Payer != ag || n.trade.GatewayNo != tr.GatewayNo {
		t.Errorf("notified trade %+v", n.trade)
	}
	waitFor(t, "the sandbox to see the ack", func() bool { return e.sb.Order(channel.Bank, "T1001").Acked })

	// The same order again is the same debit, not a second one.
	co2, err := e.g.Create(context.Background(), e.order("T1001", ag, 5000))
	if err != nil || co2.Trade.GatewayNo != tr.GatewayNo {
		t.Errorf("create again = %+v, %v", co2, err)
	}
	if bal, _ := e.sb.BankBalance(ag); bal != sandbox.DefaultBankBalance-5000 {
		t.Errorf("card debited twice: balance %d", bal)
	}
	_, err = e.g.Create(context.Background(), e.order("T1001", ag, 6000))
	wantCode(t, err, channel.ErrRefused)
	_, err = e.g.Create(context.Background(), e.order("T1002", "", 6000))
	wantCode(t, err, channel.ErrMalformed)
}

// A duplicate delivery is signed afresh, so the merchant verifies both and
// its idempotent handling takes care of the duplicate.
func TestDebitNotifiedTwice(t *testing.T) {
	e := newEnv(t)
	ag := e.sign(t, card1)
	e.sb.SetNextDelivery(channel.Bank, sandbox.DeliverTwice)
	if _, err := e.g.Create(context.Background(), e.order("T1101", ag, 100)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two notifications", func() bool { return len(e.inbox.all()) >= 2 })
	for i, n := range e.inbox.all() {
		if n.err != nil || n.trade.No != "T1101" {
			t.Errorf("notification %d: %+v, %v", i, n.trade, n.err)
		}
	}
}

func TestDebitInsufficientFunds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ag := e.sign(t, card1)
	e.sb.SetBankBalance(ag, 999)
	_, err := e.g.Create(ctx, e.order("T2001", ag, 1000))
	wantCode(t, err, channel.ErrRefused)
	if !strings.Contains(err.Error(), "insufficient funds") {
		t.Errorf("message: %v", err)
	}
	if o := e.sb.Order(channel.Bank, "T2001"); o != nil {
		t.Errorf("refused debit left an order: %+v", o)
	}
	if bal, _ := e.sb.BankBalance(ag); bal != 999 {
		t.Errorf("balance %d after a refused debit", bal)
	}
	tr, err := e.g.Query(ctx, "T2001")
	if err != nil || tr.State != channel.StateNotFound {
		t.Errorf("query = %+v, %v; want not found", tr, err)
	}
	// The whole balance can be spent.
	if _, err := e.g.Create(ctx, e.order("T2002", ag, 999)); err != nil {
		t.Errorf("debit of the whole balance: %v", err)
	}
}

func TestDebitCancelledAgreement(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ag := e.sign(t, card1)
	if err := e.g.Unsign(ctx, ag); err != nil {
		t.Fatal(err)
	}
	_, err := e.g.Create(ctx, e.order("T3001", ag, 100))
	wantCode(t, err, channel.ErrRefused)
	if !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("message: %v", err)
	}
	_, err = e.g.Create(ctx, e.order("T3002", "AG-unknown", 100))
	wantCode(t, err, channel.ErrRefused)
	if e.sb.Order(channel.Bank, "T3001") != nil || e.sb.Order(channel.Bank, "T3002") != nil {
		t.Error("refused debits left orders")
	}
}

func TestQuery(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ag := e.sign(t, card1)
	co, err := e.g.Create(ctx, e.order("T4001", ag, 1234))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := e.g.Query(ctx, "T4001")
	if err != nil {
		t.Fatal(err)
	}
	if tr.State != channel.StatePaid || tr.Amount != 1234 || tr.Payer != ag || tr.GatewayNo != co.Trade.GatewayNo || !tr.PaidAt.Equal(co.Trade.PaidAt) {
		t.Errorf("query %+v, created %+v", tr, co.Trade)
	}
	tr, err = e.g.Query(ctx, "T4999")
	if err != nil || tr.State != channel.StateNotFound || tr.No != "T4999" {
		t.Errorf("unknown order: %+v, %v", tr, err)
	}
}

func TestClose(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ag := e.sign(t, card1)
	if _, err := e.g.Create(ctx, e.order("T5001", ag, 100)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.g.Close(ctx, "T5001"), channel.ErrAlreadyPaid)

	// An order the bank never debited closes, twice, and stays closed: a
	// debit request for it arriving late is refused.
	if err := e.g.Close(ctx, "T5002"); err != nil {
		t.Fatal(err)
	}
	if err := e.g.Close(ctx, "T5002"); err != nil {
		t.Errorf("close twice: %v", err)
	}
	_, err := e.g.Create(ctx, e.order("T5002", ag, 100))
	wantCode(t, err, channel.ErrRefused)
}

func TestRefundSameNumberOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ag := e.sign(t, card1)
	if _, err := e.g.Create(ctx, e.order("T6001", ag, 1000)); err != nil {
		t.Fatal(err)
	}
	r := channel.Refund{No: "T6001", RefundNo: "R6001-1", Amount: 300, Total: 1000, Reason: "多充"}
	for i := 0; i < 2; i++ {
		if err := e.g.Refund(ctx, r); err != nil {
			t.Fatalf("refund attempt %d: %v", i+1, err)
		}
	}
	if o := e.sb.Order(channel.Bank, "T6001"); o.Refunded() != 300 || len(o.Refunds) != 1 {
		t.Errorf("sandbox refunded %d in %d refunds, want 300 in 1", o.Refunded(), len(o.Refunds))
	}
	if bal, _ := e.sb.BankBalance(ag); bal != sandbox.DefaultBankBalance-1000+300 {
		t.Errorf("card balance %d: the refund went back more than once", bal)
	}
	tr, err := e.g.Query(ctx, "T6001")
	if err != nil || tr.Refunded != 300 || tr.State != channel.StatePaid {
		t.Errorf("query %+v, %v", tr, err)
	}
	// The same number for another amount, and more than is left, are refused.
	wantCode(t, e.g.Refund(ctx, channel.Refund{No: "T6001", RefundNo: "R6001-1", Amount: 400}), channel.ErrRefused)
	wantCode(t, e.g.Refund(ctx, channel.Refund{No: "T6001", RefundNo: "R6001-2", Amount: 701}), channel.ErrRefused)
	wantCode(t, e.g.Refund(ctx, channel.Refund{No: "T6999", RefundNo: "R6999", Amount: 1}), channel.ErrNotFound)
	if err := e.g.Refund(ctx, channel.Refund{No: "T6001", RefundNo: "R6001-2", Amount: 700}); err != nil {
		t.Fatal(err)
	}
	if tr, _ := e.g.Query(ctx, "T6001"); tr.State != channel.StateRefunded {
		t.Errorf("fully refunded trade is %s", tr.State)
	}
}

func TestCodePayAndReverse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.g.CodePay(ctx, channel.CodePayment{No: "T7000", AuthCode: "280000000000000000", Amount: 100})
	wantCode(t, err, channel.ErrRefused)

	ag := e.sign(t, card1)
	if _, err := e.g.Create(ctx, e.order("T7001", ag, 800)); err != nil {
		t.Fatal(err)
	}
	if err := e.g.Refund(ctx, channel.Refund{No: "T7001", RefundNo: "R7001", Amount: 100}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := e.g.Reverse(ctx, "T7001"); err != nil {
			t.Fatalf("reverse %d: %v", i+1, err)
		}
	}
	if o := e.sb.Order(channel.Bank, "T7001"); o.State != channel.StateRefunded || o.Refunded() != 800 {
		t.Errorf("reversed order %s refunded %d", o.State, o.Refunded())
	}
	// An order never debited is closed by a reverse.
	if err := e.g.Reverse(ctx, "T7002"); err != nil {
		t.Fatal(err)
	}
	_, err = e.g.Create(ctx, e.order("T7002", ag, 100))
	wantCode(t, err, channel.ErrRefused)
}

func TestStatement(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ag := e.sign(t, card1)
	if _, err := e.g.Create(ctx, e.order("T8001", ag, 2500)); err != nil {
		t.Fatal(err)
	}
	if err := e.g.Refund(ctx, channel.Refund{No: "T8001", RefundNo: "R8001", Amount: 500}); err != nil {
		t.Fatal(err)
	}
	o := e.sb.Order(channel.Bank, "T8001")
	e.sb.Plant(channel.Bank, channel.StatementLine{Kind: channel.StatementPayment, No: "PLANTED-1", GatewayNo: "B-PLANTED", Amount: 4200, At: o.PaidAt})

	// Ask for the day of every event: a run straddling midnight in
	// Shanghai puts them on two statements.
	days := map[string]time.Time{}
	for _, at := range []time.Time{o.PaidAt, o.Refunds[0].At} {
		days[at.In(shanghai()).Format(time.DateOnly)] = at
	}
	var lines []channel.StatementLine
	for _, at := range days {
		ls, err := e.g.Statement(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, ls...)
	}
	got := map[string]channel.StatementLine{}
	for _, l := range lines {
		got[string(l.Kind)+"/"+l.No+"/"+l.RefundNo] = l
	}
	if len(lines) != 3 {
		t.Errorf("%d lines, want 3: %+v", len(lines), lines)
	}
	if l := got["payment/T8001/"]; l.Amount != 2500 || l.GatewayNo != o.GatewayNo || !l.At.Equal(o.PaidAt.Truncate(time.Second)) {
		t.Errorf("payment line %+v", l)
	}
	if l := got["refund/T8001/R8001"]; l.Amount != 500 || l.GatewayNo != o.GatewayNo {
		t.Errorf("refund line %+v", l)
	}
	if l := got["payment/PLANTED-1/"]; l.Amount != 4200 || l.GatewayNo != "B-PLANTED" {
		t.Errorf("planted line %+v", l)
	}
	// A day with nothing is an empty statement, not an error.
	ls, err := e.g.Statement(ctx, o.PaidAt.AddDate(0, 0, -3))
	if err != nil || len(ls) != 0 {
		t.Errorf("empty day: %+v, %v", ls, err)
	}
}

func shanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

func TestNewRefusesBadConfig(t *testing.T) {
	good := *sandbox.NewWithKeys(sandbox.Options{BaseURL: "http://127.0.0.1:1"}, testKeys()).Config().Bank
	for name, mod := range map[string]func(c *channel.BankConfig){
		"no merchant":     func(c *channel.BankConfig) { c.MerchantID = "" },
		"no URL":          func(c *channel.BankConfig) { c.BaseURL = "" },
		"relative URL":    func(c *channel.BankConfig) { c.BaseURL = "/bank" },
		"bad private key": func(c *channel.BankConfig) { c.PrivateKey = "not a key" },
		"bad bank key":    func(c *channel.BankConfig) { c.BankPublicKey = c.PrivateKey },
	} {
		c := good
		mod(&c)
		if _, err := bank.New(c, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := bank.New(good, nil); err != nil {
		t.Errorf("good config: %v", err)
	}
}

// signWith signs "timestamp\nnonce\nbody" as the protocol says, written
// again here so that the test does not trust the code it tests.
func signWith(h http.Header, merchant string, key *rsa.PrivateKey, at time.Time, nonce string, body []byte) {
	ts := strconv.FormatInt(at.Unix(), 10)
	sum := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	h.Set("X-Bank-Merchant", merchant)
	h.Set("X-Bank-Timestamp", ts)
	h.Set("X-Bank-Nonce", nonce)
	h.Set("X-Bank-Signature", base64.StdEncoding.EncodeToString(sig))
}

func mustKey(t testing.TB, pemKey string) *rsa.PrivateKey {
	t.Helper()
	k, err := sandbox.ParsePrivateKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var nonceSeq struct {
	sync.Mutex
	n int
}

func freshNonce() string {
	nonceSeq.Lock()
	defer nonceSeq.Unlock()
	nonceSeq.n++
	return "test-nonce-" + strconv.Itoa(nonceSeq.n) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// A fake bank answers Query with a well-formed trade signed as the test
// says: only the real bank's key, a fresh timestamp and an unseen nonce
// make the client believe it.
func TestForgedAnswersRejected(t *testing.T) {
	keys := testKeys()
	bankKey := mustKey(t, keys.BankPlatform)
	wrongKey := mustKey(t, keys.BankMerchant) // a real key, just not the bank's
	body := []byte(`{"order_no":"T9001","bank_no":"B1","state":"paid","amount":100,"refunded":0,"agreement_no":"AG1","paid_at":"2026-01-02T10:00:00+08:00"}`)

	var mu sync.Mutex
	var answer func(w http.ResponseWriter)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		answer(w)
	}))
	defer fake.Close()
	cfg := *sandbox.NewWithKeys(sandbox.Options{BaseURL: fake.URL}, keys).Config().Bank
	g, err := bank.New(cfg, fake.Client())
	if err != nil {
		t.Fatal(err)
	}
	serve := func(f func(w http.ResponseWriter)) {
		mu.Lock()
		answer = f
		mu.Unlock()
	}
	signed := func(key *rsa.PrivateKey, at time.Time, nonce string, b []byte) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			signWith(w.Header(), cfg.MerchantID, key, at, nonce, b)
			_, _ = w.Write(body)
		}
	}

	// The fake is faithful: signed by the bank's key, the answer passes.
	serve(signed(bankKey, time.Now(), freshNonce(), body))
	if tr, err := g.Query(context.Background(), "T9001"); err != nil || tr.State != channel.StatePaid {
		t.Fatalf("genuine answer: %+v, %v", tr, err)
	}

	replayNonce := freshNonce()
	cases := []struct {
		name string
		f    func(w http.ResponseWriter)
	}{
		{"wrong key", signed(wrongKey, time.Now(), freshNonce(), body)},
		{"tampered", signed(bankKey, time.Now(), freshNonce(), bytes.Replace(body, []byte(`"amount":100`), []byte(`"amount":1`), 1))},
		{"stale", signed(bankKey, time.Now().Add(-6*time.Minute), freshNonce(), body)},
		{"unsigned", func(w http.ResponseWriter) { _, _ = w.Write(body) }},
		{"replay (first use)", signed(bankKey, time.Now(), replayNonce, body)},
		{"replay", signed(bankKey, time.Now(), replayNonce, body)},
		{"forged refusal", func(w http.ResponseWriter) {
			b := []byte(`{"code":"REFUSED","message":"insufficient funds"}`)
			signWith(w.Header(), cfg.MerchantID, wrongKey, time.Now(), freshNonce(), b)
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write(b)
		}},
	}
	for _, c := range cases {
		serve(c.f)
		tr, err := g.Query(context.Background(), "T9001")
		if c.name == "replay (first use)" {
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			continue
		}
		if !errors.Is(err, bank.ErrUnverifiedAnswer) || channel.Code(err) != "" {
			t.Errorf("%s: got %+v, %v; want ErrUnverifiedAnswer and no *channel.Error", c.name, tr, err)
		}
	}

	// A genuine answer about another order does not pass for this one.
	serve(signed(bankKey, time.Now(), freshNonce(), body))
	if _, err := g.Query(context.Background(), "T9002"); !errors.Is(err, bank.ErrUnverifiedAnswer) {
		t.Errorf("answer about another order: %v", err)
	}
}

// recorder keeps the last request a client sent, so that a test can send
// it again byte for byte.
type recorder struct {
	mu     sync.Mutex
	method string
	url    string
	header http.Header
	body   []byte
}

func (rc *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	rc.mu.Lock()
	rc.method, rc.url, rc.header, rc.body = r.Method, r.URL.String(), r.Header.Clone(), body
	rc.mu.Unlock()
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(r2)
}

// bankAnswerCode sends a raw request to the sandbox bank and returns the
// status and the protocol's error code of the answer, checking that the
// refusal is signed by the bank like any answer.
func bankAnswerCode(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("X-Bank-Signature") == "" {
		t.Error("refusal is not signed")
	}
	var e struct {
		Code string `json:"code"`
	}
	_ = json.NewDecoder(res.Body).Decode(&e)
	return res.StatusCode, e.Code
}

func TestReplayedRequestRefused(t *testing.T) {
	e := newEnv(t)
	rc := &recorder{}
	g, err := bank.New(e.cfg, &http.Client{Transport: rc})
	if err != nil {
		t.Fatal(err)
	}
	ag := e.sign(t, card1)
	if _, err := g.Create(context.Background(), e.order("T9101", ag, 100)); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	req, _ := http.NewRequest(rc.method, rc.url, bytes.NewReader(rc.body))
	req.Header = rc.header.Clone()
	rc.mu.Unlock()
	if status, code := bankAnswerCode(t, req); status != http.StatusUnauthorized || code != "REPLAYED" {
		t.Errorf("replayed debit: %d %s, want 401 REPLAYED", status, code)
	}
	if bal, _ := e.sb.BankBalance(ag); bal != sandbox.DefaultBankBalance-100 {
		t.Errorf("balance %d", bal)
	}

	// Requests the merchant did not sign, or signed too long ago, are
	// refused the same way, before anything else is looked at.
	keys := testKeys()
	body := []byte(`{"order_no":"T9102","agreement_no":"` + ag + `","amount":100}`)
	for _, c := range []struct {
		name string
		key  *rsa.PrivateKey
		at   time.Time
		want string
	}{
		{"wrong key", mustKey(t, keys.BankPlatform), time.Now(), "SIGNATURE"},
		{"stale", mustKey(t, keys.BankMerchant), time.Now().Add(-6 * time.Minute), "EXPIRED"},
		{"from the future", mustKey(t, keys.BankMerchant), time.Now().Add(6 * time.Minute), "EXPIRED"},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.cfg.BaseURL+"/debits", bytes.NewReader(body))
		signWith(req.Header, e.cfg.MerchantID, c.key, c.at, freshNonce(), body)
		if status, code := bankAnswerCode(t, req); status != http.StatusUnauthorized || code != c.want {
			t.Errorf("%s: %d %s, want 401 %s", c.name, status, code, c.want)
		}
	}
	if e.sb.Order(channel.Bank, "T9102") != nil {
		t.Error("a refused request debited")
	}
	// Signed properly by the test, the same request goes through: the
	// refusals above were about the signatures only.
	req, _ = http.NewRequest(http.MethodPost, e.cfg.BaseURL+"/debits", bytes.NewReader(body))
	signWith(req.Header, e.cfg.MerchantID, mustKey(t, keys.BankMerchant), time.Now(), freshNonce(), body)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("properly signed request: HTTP %d", res.StatusCode)
	}
}

// notification builds a notification request as the bank would send it.
func notification(t testing.TB, key *rsa.PrivateKey, merchant string, at time.Time, nonce string, body []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/notify/bank", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	signWith(r.Header, merchant, key, at, nonce, body)
	return r
}

func noteBody(merchant string) []byte {
	return []byte(`{"merchant_id":"` + merchant + `","order_no":"T9201","bank_no":"B20260102000001","state":"paid","amount":2000,"refunded":0,"agreement_no":"AG1","paid_at":"2026-01-02T10:00:00+08:00"}`)
}

func TestNotificationRefusals(t *testing.T) {
	e := newEnv(t)
	keys := testKeys()
	bankKey, wrongKey := mustKey(t, keys.BankPlatform), mustKey(t, keys.BankMerchant)
	m := e.cfg.MerchantID
	body := noteBody(m)

	tr, err := e.g.Notification(notification(t, bankKey, m, time.Now(), freshNonce(), body))
	if err != nil || tr.No != "T9201" || tr.State != channel.StatePaid || tr.Amount != 2000 || tr.Payer != "AG1" || tr.PaidAt.IsZero() {
		t.Fatalf("genuine notification: %+v, %v", tr, err)
	}

	replayed := notification(t, bankKey, m, time.Now(), freshNonce(), body)
	replayBody := body
	if _, err := e.g.Notification(replayed); err != nil {
		t.Fatal(err)
	}
	again := httptest.NewRequest(http.MethodPost, "/notify/bank", bytes.NewReader(replayBody))
	again.Header = replayed.Header.Clone()

	tampered := notification(t, bankKey, m, time.Now(), freshNonce(), body)
	tampered.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte(`"amount":2000`), []byte(`"amount":200000`), 1)))
	renonced := notification(t, bankKey, m, time.Now(), freshNonce(), body)
	renonced.Header.Set("X-Bank-Nonce", freshNonce())
	unsigned := httptest.NewRequest(http.MethodPost, "/notify/bank", bytes.NewReader(body))
	badBase64 := notification(t, bankKey, m, time.Now(), freshNonce(), body)
	badBase64.Header.Set("X-Bank-Signature", "!!!")

	for name, r := range map[string]*http.Request{
		"wrong key":        notification(t, wrongKey, m, time.Now(), freshNonce(), body),
		"tampered body":    tampered,
		"changed nonce":    renonced,
		"replayed":         again,
		"stale":            notification(t, bankKey, m, time.Now().Add(-6*time.Minute), freshNonce(), body),
		"unsigned":         unsigned,
		"bad base64":       badBase64,
		"another merchant": notification(t, bankKey, "BK9999999999", time.Now(), freshNonce(), noteBody("BK9999999999")),
	} {
		if tr, err := e.g.Notification(r); channel.Code(err) != channel.ErrSignature {
			t.Errorf("%s: %+v, %v; want ErrSignature", name, tr, err)
		}
	}
	for name, b := range map[string]string{
		"not JSON":      `paid!`,
		"unknown state": `{"merchant_id":"` + m + `","order_no":"T1","state":"maybe","amount":1}`,
		"no amount":     `{"merchant_id":"` + m + `","order_no":"T1","state":"paid"}`,
		"bad time":      `{"merchant_id":"` + m + `","order_no":"T1","state":"paid","amount":1,"paid_at":"yesterday"}`,
	} {
		if tr, err := e.g.Notification(notification(t, bankKey, m, time.Now(), freshNonce(), []byte(b))); channel.Code(err) != channel.ErrMalformed {
			t.Errorf("%s: %+v, %v; want ErrMalformed", name, tr, err)
		}
	}
}

// A notification the sandbox really sent, captured and sent again, is
// refused: the merchant has seen its nonce.
func TestSandboxNotificationReplayed(t *testing.T) {
	e := newEnv(t)
	ag := e.sign(t, card1)
	if _, err := e.g.Create(context.Background(), e.order("T9301", ag, 100)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the notification", func() bool { return len(e.inbox.all()) > 0 })
	n := e.inbox.all()[0]
	if n.err != nil {
		t.Fatal(n.err)
	}
	r := httptest.NewRequest(http.MethodPost, "/notify/bank", bytes.NewReader(n.body))
	r.Header = n.header.Clone()
	_, err := e.g.Notification(r)
	wantCode(t, err, channel.ErrSignature)

	rec := httptest.NewRecorder()
	e.g.Ack(rec, false)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("nack status %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	e.g.Ack(rec, true)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"code":"OK"}` {
		t.Errorf("ack %d %s", rec.Code, rec.Body)
	}
}

// An unacknowledged notification is sent again, signed afresh, until the
// merchant acknowledges it.
func TestNotificationRetried(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	calls := 0
	var trades []*channel.Trade
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr, err := e.g.Notification(r)
		mu.Lock()
		calls++
		first := calls == 1
		if err == nil {
			trades = append(trades, tr)
		}
		mu.Unlock()
		e.g.Ack(w, err == nil && !first) // the first attempt "fails to process"
	}))
	defer merchant.Close()
	ag := e.sign(t, card1)
	o := e.order("T9401", ag, 100)
	o.NotifyURL = merchant.URL
	if _, err := e.g.Create(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the acknowledged retry", func() bool { return e.sb.Order(channel.Bank, "T9401").Acked })
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 || len(trades) != 2 {
		t.Errorf("%d attempts, %d verified; want 2 and 2", calls, len(trades))
	}
}
