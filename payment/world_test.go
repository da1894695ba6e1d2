package payment_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/payment"
	"github.com/onecard-campus/onecard/sandbox"
	"github.com/onecard-campus/onecard/sms"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

var ctx = context.Background()

// The sandbox's RSA keys take a while to make; every world shares one set.
var (
	keysOnce sync.Once
	keys     *sandbox.Keys
)

func sharedKeys(t *testing.T) *sandbox.Keys {
	keysOnce.Do(func() {
		var err error
		if keys, err = sandbox.NewKeys(); err != nil {
			panic(err)
		}
	})
	return keys
}

// world is a school with a canteen, a sandbox gateway speaking the three
// protocols over real HTTP, and the payment service whose notification
// endpoint the sandbox calls. Every notification the endpoint receives is
// kept, so tests can replay and tamper with them.
type world struct {
	db      *store.DB
	clock   *storetest.Clock
	sb      *sandbox.Sandbox
	svc     *payment.Service
	texts   *sms.Log
	school  *onecard.School
	canteen *onecard.Merchant
	notify  string // the notification URL prefix
	seq     int
	ids     map[int64]string // cardholder -> ID number

	mu       sync.Mutex
	received []capturedNotice
}

type capturedNotice struct {
	channel string
	header  http.Header
	body    []byte
}

// each runs fn on every store. The store and the service share a clock
// that starts at worldStart(now) and that tests move on, e.g. past an SMS
// code's rate limit.
func each(t *testing.T, fn func(t *testing.T, w *world)) {
	t.Helper()
	var clock *storetest.Clock
	storetest.EachWith(t, store.Options{Now: func() time.Time { return clock.Now() }}, func(t *testing.T, db *store.DB) {
		clock = storetest.NewClock(worldStart(time.Now()))
		fn(t, newWorld(t, db, clock))
	})
}

// worldStart is when a world's clock starts: now, or the school's next
// midnight when its day ends within the hour. A test moves its clock on by
// minutes, and one that crossed midnight on the way would find its daily
// limits begun again halfway through. The sandbox keeps real time, so the
// clock may run ahead of it but never behind: the sandbox would find every
// order already expired. The clock is in UTC, as a server's usually is,
// whatever the test machine's zone, so that code reading the day off it
// without the school's zone fails here too.
func worldStart(now time.Time) time.Time {
	loc := onecard.DefaultSettings().Location()
	l := now.In(loc)
	if l.Hour() < 23 {
		return now.UTC()
	}
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc).UTC()
}

func newWorld(t *testing.T, db *store.DB, clock *storetest.Clock) *world {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &world{db: db, clock: clock, ids: map[int64]string{}}
	w.sb = sandbox.NewWithKeys(sandbox.Options{
		RetryDelays: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond},
		LateDelay:   300 * time.Millisecond, Logger: quiet,
	}, sharedKeys(t))
	sbSrv := httptest.NewServer(w.sb)
	w.sb.SetBaseURL(sbSrv.URL)

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { w.sb.Close(); sbSrv.Close(); srv.Close() })
	w.notify = srv.URL + "/pay/notify/"

	gateways, err := payment.Gateways(w.sb.Config(), sbSrv.Client())
	if err != nil {
		t.Fatal(err)
	}
	w.texts = sms.NewLog(quiet, 100)
	w.svc = payment.New(payment.Config{
		Store: db, Schools: db, Cardholders: db, Cards: db, Banks: db, Merchants: db,
		Gateways: gateways, SMS: w.texts, Notices: db, PublicURL: srv.URL, Logger: quiet,
		CodeWait: 3 * time.Second, CodePoll: 20 * time.Millisecond, Now: clock.Now,
	})
	handler := w.svc.NotifyHandler()
	mux.Handle("POST /pay/notify/{channel}", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		w.received = append(w.received, capturedNotice{channel: r.PathValue("channel"), header: r.Header.Clone(), body: body})
		w.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		handler.ServeHTTP(rw, r)
	}))

	w.school = &onecard.School{Code: "nankai", Name: "南开大学", Campuses: []onecard.Campus{{Name: "八里台"}}}
	if err := db.CreateSchool(ctx, w.school); err != nil {
		t.Fatal(err)
	}
	w.canteen = &onecard.Merchant{SchoolID: w.school.ID, Code: "canteen-1", Name: "第一食堂", Kind: "canteen"}
	if err := db.CreateMerchant(ctx, w.canteen); err != nil {
		t.Fatal(err)
	}
	return w
}

// cardholder registers a student with a card and a phone.
func (w *world) cardholder(t *testing.T) (*onecard.Cardholder, string) {
	t.Helper()
	w.seq++
	id := fmt.Sprintf("1101051990%07dX", w.seq)
	h, err := w.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: w.school.ID, Number: fmt.Sprintf("2025%04d", w.seq),
		Name: "王小明", Kind: onecard.Student, IDNumber: id, Phone: fmt.Sprintf("1380000%04d", w.seq)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.IssueCard(ctx, h.ID, ""); err != nil {
		t.Fatal(err)
	}
	w.ids[h.ID] = id
	return h, id
}

func (w *world) idOf(h *onecard.Cardholder) string { return w.ids[h.ID] }

func (w *world) key() string {
	w.seq++
	return fmt.Sprint("k", w.seq)
}

func (w *world) balance(t *testing.T, h *onecard.Cardholder) onecard.Balance {
	t.Helper()
	b, err := w.db.Balance(ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (w *world) account(t *testing.T, id int64) int64 {
	t.Helper()
	a, err := w.db.Account(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

func (w *world) system(t *testing.T, kind string) int64 {
	t.Helper()
	id, err := w.db.SystemAccount(ctx, w.school.ID, kind)
	if err != nil {
		t.Fatal(err)
	}
	return w.account(t, id)
}

// pay is the payer opening the order's page (where Alipay first learns of
// the order, as the real one does) and confirming it as payer.
func (w *world) pay(t *testing.T, tu *onecard.TopUp, payer string) {
	t.Helper()
	res, err := http.Get(tu.PayURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the payer's page answered %d", res.StatusCode)
	}
	if err := w.sb.Pay(channel.Name(tu.Channel), tu.No, payer); err != nil {
		t.Fatal(err)
	}
}

// waitState polls a top-up until it reaches state.
func (w *world) waitState(t *testing.T, no string, state onecard.TopUpState) *onecard.TopUp {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tu, err := w.db.TopUp(ctx, no)
		if err != nil {
			t.Fatal(err)
		}
		if tu.State == state {
			return tu
		}
		if time.Now().After(deadline) {
			t.Fatalf("top-up %s is %s, want %s", no, tu.State, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitNotices waits until n notifications have reached the endpoint.
func (w *world) waitNotices(t *testing.T, n int) []capturedNotice {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		got := append([]capturedNotice(nil), w.received...)
		w.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d notifications arrived, want %d", len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// post sends a captured (possibly altered) notification again and returns
// the status.
func (w *world) post(t *testing.T, n capturedNotice) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.notify+n.channel, bytes.NewReader(n.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = n.header.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// check runs the ledger checker: whatever a test did, no money was made or
// lost.
func (w *world) check(t *testing.T) {
	t.Helper()
	var rep *ledger.Report
	err := w.db.Audit(ctx, func(a ledger.Auditor) error {
		var err error
		rep, err = ledger.Check(ctx, a)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("ledger.Check: %v", rep.Violations)
	}
}

var smsCode = regexp.MustCompile(`验证码(\d{6})`)

// lastCode reads the verification code last texted to a phone.
func (w *world) lastCode(t *testing.T, phone string) string {
	t.Helper()
	// The newest code text, not the newest text: a top-up notice can land
	// after a later code request when the gateway's notification, rather
	// than the direct answer, credited the order and is still texting.
	msgs := w.texts.Messages(phone)
	for i := len(msgs) - 1; i >= 0; i-- {
		if m := smsCode.FindStringSubmatch(msgs[i].Text); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no code among %d SMS to %s", len(msgs), phone)
	return ""
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := onecard.ErrorCode(err); (err == nil && code != "") || (err != nil && got != code) {
		t.Fatalf("error %v (%s), want %q", err, got, code)
	}
}
