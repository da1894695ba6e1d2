package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
	"github.com/onecard-campus/onecard/web"
)

var ctx = context.Background()

// app is the web app on a real store with a school, a canteen and
// cardholders, served over HTTP.
type app struct {
	db      *store.DB
	srv     *httptest.Server
	school  *onecard.School
	canteen *onecard.Merchant
	seq     int
}

// newApp starts the app on SQLite (the pages are the same on both stores;
// the store suite runs on both). edit may change the config before New.
func newApp(t *testing.T, edit func(*web.Config)) *app {
	t.Helper()
	db := storetest.Open(t, "sqlite", store.Options{})
	a := &app{db: db}
	a.school = &onecard.School{Code: "nankai", Name: "南开大学", Campuses: []onecard.Campus{{Name: "八里台"}}}
	if err := db.CreateSchool(ctx, a.school); err != nil {
		t.Fatal(err)
	}
	a.canteen = &onecard.Merchant{SchoolID: a.school.ID, Code: "canteen-1", Name: "第一食堂", Kind: "canteen"}
	if err := db.CreateMerchant(ctx, a.canteen); err != nil {
		t.Fatal(err)
	}
	cfg := web.Config{Schools: db, Cardholders: db, Cards: db, PINs: db, Auth: db, Money: db, Merchants: db, Banks: db,
		PaymentStore: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if edit != nil {
		edit(&cfg)
	}
	a.srv = httptest.NewServer(web.New(cfg))
	t.Cleanup(a.srv.Close)
	return a
}

// cardholder registers a student with a card; it returns the cardholder
// and the initial query PIN.
func (a *app) cardholder(t *testing.T) (*onecard.Cardholder, string) {
	t.Helper()
	a.seq++
	id := fmt.Sprintf("1101051990%07dX", a.seq)
	h, err := a.db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: a.school.ID, Number: fmt.Sprintf("2025%04d", a.seq),
		Name: "王小明", Kind: onecard.Student, IDNumber: id, Phone: fmt.Sprintf("1380000%04d", a.seq)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.IssueCard(ctx, h.ID, ""); err != nil {
		t.Fatal(err)
	}
	return h, onecard.InitialPIN(onecard.PINLastSixDigits, id)
}

// browser is a phone's browser: it keeps cookies and sends the Origin
// header real browsers send with form posts.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	lang string
	// forwardedFor, when set, is sent as X-Forwarded-For, as a reverse
	// proxy (or a client pretending to be one) would.
	forwardedFor string
}

func (a *app) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: a.srv.URL, c: &http.Client{Jar: jar}}
}

// get fetches a page and returns its status and body.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

// post submits a form as the page itself would.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func (b *browser) do(req *http.Request) (int, string) {
	b.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	if b.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", b.forwardedFor)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// login logs in with the card number and PIN and fails the test if that
// does not reach the home page.
func (b *browser) login(school, number, pin string) string {
	b.t.Helper()
	status, body := b.post("/login", url.Values{"school": {school}, "number": {number}, "pin": {pin}})
	if status != http.StatusOK || !strings.Contains(body, `id="balance-total"`) {
		b.t.Fatalf("login: %d\n%s", status, body)
	}
	return body
}
