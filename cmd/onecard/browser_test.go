package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/onecard-campus/onecard"
)

// The browser tests drive the real binary from headless Chromium at a
// phone's size, as a cardholder and a parent would. They need a Chromium
// on PATH (Debian's chromium package) and skip with a message without one.

// browserAdminPassword is the administrator's password the tests give the
// server, so that no one-time password has to be changed first.
const browserAdminPassword = "browser-test-admin-0123"

// stepTimeout bounds every wait for a page or an element. It is a limit
// on a hang, not a speed assertion: a page normally answers in
// milliseconds.
const stepTimeout = 30 * time.Second

// The phone the tests hold: 360×740 CSS pixels.
const phoneWidth, phoneHeight = 360, 740

// operatorRE matches the operator username in the demo banner.
var operatorRE = regexp.MustCompile(`Log in as an operator:\s+username (\S+),`)

// chromiumPath finds Chromium on PATH.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserLocales are the phones the tests hold: the languages the browser
// asks pages for, and its locale (which fonts it prefers).
var browserLocales = map[string]struct{ acceptLang, env string }{
	"zh": {"zh-CN,zh", "zh_CN.UTF-8"},
	"en": {"en-US,en", "en_US.UTF-8"},
}

// newBrowser starts headless Chromium for the test, set up as a phone in
// lang (zh or en) whatever the machine's locale, and returns the context of
// its first tab. It skips the test when no Chromium is installed.
func newBrowser(t *testing.T, lang string) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("no chromium or chromium-browser on PATH; install Debian's chromium to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(phoneWidth, phoneHeight),
		chromedp.Flag("accept-lang", browserLocales[lang].acceptLang),
		chromedp.Env("LANGUAGE="+browserLocales[lang].env, "LANG="+browserLocales[lang].env),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser, bound to ctx (no timeout) so that a
	// step's timeout later ends only that step.
	if err := chromedp.Do(ctx, phone(1)); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// phone sizes the tab as a phone with the given pixel ratio.
func phone(scale float64) chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateScale(scale), mobile)
}

// mobile makes an emulated viewport a phone's: the page's viewport meta
// tag applies.
func mobile(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
	p.Mobile = true
}

// newTab opens a tab in a browser context of its own (no cookies shared
// with the others), as a second person's phone.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, phone(1)); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return ctx
}

// tab is one browser tab on the demo server.
type tab struct {
	ctx  context.Context
	base string
}

// do runs actions with the step timeout and fails the test with where the
// browser was and what it showed.
func (b *tab) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, b.where())
	}
}

// where describes the page the tab shows, for a failure message.
func (b *tab) where() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		text = "(page text unavailable: " + err.Error() + ")"
	}
	if len(text) > 3000 {
		text = text[:3000] + "…"
	}
	return fmt.Sprintf("the browser was at %s showing:\n%s", loc, text)
}

// open loads a page of the server and waits for sel. A page that answers
// with an error status fails at once (a page not written yet is a 404).
func (b *tab) open(t *testing.T, path, sel string) {
	t.Helper()
	b.follow(t, "open "+path, chromedp.Navigate(b.base+path), sel)
}

// click clicks sel, which changes the page without leaving it (a radio
// button, a checkbox), and waits for next.
func (b *tab) click(t *testing.T, sel, next string) {
	t.Helper()
	b.has(t, sel)
	b.do(t, "click "+sel+", wait for "+next, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)),
		chromedp.WaitVisible(chromedp.CSS(next)))
}

// submit clicks sel, a link or a button that loads another page, waits for
// that page (after any redirects) and then for next on it. Waiting for the
// load first matters: next may be on the page the click leaves as well.
func (b *tab) submit(t *testing.T, sel, next string) {
	t.Helper()
	b.has(t, sel)
	b.do(t, "wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	b.follow(t, "click "+sel, chromedp.Click(chromedp.CSS(sel)), next)
}

// follow runs an action that loads a page, fails on an error status and
// waits for next.
func (b *tab) follow(t *testing.T, what string, action chromedp.Action[chromedp.Void], next string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, b.where())
	}
	if resp.Status >= 400 {
		t.Fatalf("%s: HTTP %d\n%s", what, resp.Status, b.where())
	}
	b.has(t, next)
	b.do(t, what+", wait for "+next, chromedp.WaitVisible(chromedp.CSS(next)))
}

// has fails the test at once when the page, loaded, has no sel: the pages
// are rendered on the server, so waiting would not make it appear.
func (b *tab) has(t *testing.T, sel string) {
	t.Helper()
	if !b.exists(t, sel) {
		t.Fatalf("the page has no %s\n%s", sel, b.where())
	}
}

// fill sets form fields by selector.
func (b *tab) fill(t *testing.T, fields ...string) {
	t.Helper()
	var actions []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		actions = append(actions, chromedp.WaitVisible(chromedp.CSS(fields[i])), chromedp.SetValue(chromedp.CSS(fields[i]), fields[i+1]))
	}
	b.do(t, fmt.Sprintf("fill %q", fields), actions...)
}

// text returns the visible text of sel, trimmed.
func (b *tab) text(t *testing.T, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v\n%s", sel, err, b.where())
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, b *tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v\n%s", expr, err, b.where())
	}
	return v
}

// exists reports whether the page has an element matching sel now,
// without waiting.
func (b *tab) exists(t *testing.T, sel string) bool {
	t.Helper()
	return eval[bool](t, b, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
}

// path is the path of the page the tab shows.
func (b *tab) path(t *testing.T) string {
	t.Helper()
	return eval[string](t, b, `location.pathname`)
}

// amount reads an amount shown as ¥12.50 or -¥12.50 in sel.
func (b *tab) amount(t *testing.T, sel string) int64 {
	t.Helper()
	s := b.text(t, sel)
	neg := strings.HasPrefix(s, "-")
	fen, err := onecard.ParseYuan(strings.TrimPrefix(s, "-"))
	if err != nil {
		t.Fatalf("%s shows %q, not an amount: %v", sel, s, err)
	}
	if neg {
		fen = -fen
	}
	return fen
}

// balances are the three amounts of the home page.
type balances struct{ total, purse, transition int64 }

func (b *tab) home(t *testing.T) balances {
	t.Helper()
	b.open(t, "/app", "#balance-total")
	return balances{b.amount(t, "#balance-total"), b.amount(t, "#balance-purse"), b.amount(t, "#balance-transition")}
}

// demoServer is a running `serve --demo` with what its banner printed.
type demoServer struct {
	*child
	base, dir, state string
	env              []string
	school, number   string // the sample cardholder
	pin, name        string
	operator         string
}

// startDemo starts `serve --demo` on a fresh data directory with a known
// administrator password.
func startDemo(t *testing.T) *demoServer {
	t.Helper()
	s := &demoServer{dir: filepath.Join(t.TempDir(), "data"), state: filepath.Join(t.TempDir(), "sim")}
	s.env = childEnv("ONECARD_DATA_DIR="+s.dir, "HOME="+t.TempDir(), "ONECARD_ADMIN_PASSWORD="+browserAdminPassword)
	s.child = startChild(t, s.env, "serve", "--demo", "--addr", "127.0.0.1:0")
	s.base = s.serving(demoLoadTimeout)
	out := s.stdout.String()
	login, topUp, op := cardholderLoginRE.FindStringSubmatch(out), simTopUpRE.FindStringSubmatch(out), operatorRE.FindStringSubmatch(out)
	if login == nil || topUp == nil || op == nil {
		t.Fatalf("serve --demo did not print the cardholder, parent and operator logins:\n%s", out)
	}
	s.school, s.number, s.pin, s.name, s.operator = login[1], login[2], login[3], topUp[3], op[1]
	if topUp[4] != s.number {
		t.Fatalf("the banner's top-up card %s is not the sample card %s", topUp[4], s.number)
	}
	return s
}

// pos taps the sample card at the demo's first canteen POS, as
// TestSimAgainstServeDemo does.
func (s *demoServer) pos(t *testing.T, amount string) (code int, out string) {
	t.Helper()
	code, stdout, stderr := runBinary(t, s.env, "sim", "pos", "--server", s.base, "--state", s.state, "--card", s.number, "--amount", amount)
	return code, stdout + stderr
}

// stopAndCheck stops the server and runs `onecard check` on its database.
func (s *demoServer) stopAndCheck(t *testing.T) {
	t.Helper()
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d after SIGTERM", code)
	}
	code, out, errOut := runBinary(t, s.env, "check", "--db", filepath.Join(s.dir, "onecard.db"))
	if code != exitOK || !strings.Contains(out, "OK:") {
		t.Fatalf("check after the browser: exit %d\n%s%s", code, out, errOut)
	}
}

// loginPIN logs in with school, card number and query PIN.
func (b *tab) loginPIN(t *testing.T, s *demoServer) {
	t.Helper()
	b.open(t, "/login", "#login-number")
	b.fill(t, "#login-school", s.school, "#login-number", s.number, "#login-pin", s.pin)
	b.submit(t, "#login-submit", "#balance-total")
}

// ssoLink is the id of the login page's unified identity link, "" when the
// page has none.
func (b *tab) ssoLink(t *testing.T) string {
	t.Helper()
	b.open(t, "/login", "#login-number")
	return eval[string](t, b, `(document.querySelector('a[id^="login-sso-"]') || {id: ""}).id`)
}

// loginSSO logs in through the school's identity provider: the login
// page's link, the provider's own page with the development password it
// shows, and back home.
func (b *tab) loginSSO(t *testing.T, s *demoServer, link string) {
	t.Helper()
	b.submit(t, "#"+link, "#username")
	// The development provider shows its one password in a <code>.
	password := eval[string](t, b, `(document.querySelector('code') || {textContent: ""}).textContent.trim()`)
	if password == "" {
		t.Fatalf("the identity provider's page shows no development password\n%s", b.where())
	}
	b.fill(t, "#username", s.number, "#password", password)
	b.follow(t, "submit the identity provider's form", chromedp.Submit(chromedp.CSS("#username")), "#balance-total")
}

// TestBrowserCardholder is a cardholder's week in the web app, in a real
// browser against the real binary: log in (unified identity when the
// school has it), bind Alipay, top up, tap the card so the top-up moves
// onto it, report it lost and find it refused, log in again and unlock
// it, pay with the payment code, read the bill; then a parent tops up the
// card from the public page. `onecard check` passes afterwards.
func TestBrowserCardholder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary and a browser")
	}
	browser := newBrowser(t, "zh")
	s := startDemo(t)
	b := &tab{ctx: browser, base: s.base}
	started := time.Now()

	// Each step is a subtest, so that a broken page fails its own step and
	// the rest still run; without a login nothing can.
	if !t.Run("login", func(t *testing.T) {
		if link := b.ssoLink(t); link != "" {
			t.Logf("the login page offers unified identity (%s): logging in through the identity provider", link)
			b.loginSSO(t, s, link)
		} else {
			t.Log("the login page offers no unified identity: logging in with the query PIN")
			b.loginPIN(t, s)
		}
		if p := b.path(t); p != "/app" {
			t.Errorf("after login the browser is at %s, want /app", p)
		}
	}) {
		return
	}

	t.Run("language", func(t *testing.T) {
		// A Chinese phone gets Chinese; the switch changes the language and
		// comes back to the same page.
		b.open(t, "/app", "#lang-switch")
		if got := eval[string](t, b, `document.documentElement.lang`); got != "zh-CN" {
			t.Errorf("home is in %q for a Chinese phone, want zh-CN", got)
		}
		b.submit(t, "#lang-switch", `html[lang="en"] #balance-total`)
		if p := b.path(t); p != "/app" {
			t.Errorf("the language switch went to %s, want /app", p)
		}
		b.submit(t, "#lang-switch", `html[lang="zh-CN"] #balance-total`)
	})

	t.Run("bind-alipay", func(t *testing.T) {
		b.open(t, "/app/card", "#bind-alipay")
		b.submit(t, "#bind-alipay", "#authorize") // the sandbox's authorisation page
		b.submit(t, "#authorize", "#bound-alipay")
		if p := b.path(t); p != "/app/card" {
			t.Errorf("after authorising the browser is at %s, want /app/card", p)
		}
		// The sandbox's default Alipay account is 2088000000000001.
		if got := b.text(t, "#bindings #bound-alipay"); !strings.Contains(got, "0001") {
			t.Errorf("#bound-alipay shows %q, want the sandbox account", got)
		}
	})

	t.Run("topup", func(t *testing.T) {
		before := b.home(t)
		b.open(t, "/app/topup", "#topup-submit")
		b.click(t, "#channel-alipay", "#amount-5000")
		b.click(t, "#amount-5000", "#topup-submit")
		b.submit(t, "#topup-submit", "#confirm") // the sandbox's checkout
		b.submit(t, "#confirm", "#topup-state")  // back on the order's page
		b.waitState(t, "#topup-state", "credited")
		b.submit(t, "#topup-home", "#balance-total")
		after := balances{b.amount(t, "#balance-total"), b.amount(t, "#balance-purse"), b.amount(t, "#balance-transition")}
		if after.transition != before.transition+5000 || after.purse != before.purse {
			t.Errorf("home after a ¥50.00 top-up: %+v, before %+v", after, before)
		}
		if !b.exists(t, "#pending-hint") {
			t.Errorf("home shows no #pending-hint with %s in transition\n%s", onecard.Yuan(after.transition), b.where())
		}
	})

	// The bills page shows the school's current month. The months around
	// the two purchases below are noted, so that a month ending just before
	// the bills step does not hide them.
	loc := onecard.DefaultSettings().Location()
	schoolMonth := func() string { return time.Now().In(loc).Format("2006-01") }
	var months []string // before and after each purchase

	t.Run("tap", func(t *testing.T) {
		before := b.home(t)
		months = append(months, schoolMonth())
		code, out := s.pos(t, "12.50")
		months = append(months, schoolMonth())
		if code != exitOK || !strings.Contains(out, "claim") {
			t.Fatalf("sim pos: exit %d\n%s", code, out)
		}
		after := b.home(t)
		if after.transition != 0 || after.purse != before.purse+before.transition-1250 || after.purse <= before.purse {
			t.Errorf("home after a ¥12.50 tap: %+v, before %+v; want the transition moved onto the card", after, before)
		}
	})

	t.Run("report-lost", func(t *testing.T) {
		b.open(t, "/app/card", "#lost-pin")
		b.fill(t, "#lost-pin", s.pin)
		b.submit(t, "#lost-submit", "#login-number")
		if p := b.path(t); p != "/login" {
			t.Errorf("after the loss report the browser is at %s, want the login page", p)
		}
		b.open(t, "/app", "#login-number") // the session is gone on the server too
		if code, out := s.pos(t, "3.00"); code == exitOK {
			t.Errorf("sim pos with a card reported lost: exit 0\n%s", out)
		} else {
			t.Logf("the POS refused the lost card: exit %d\n%s", code, out)
		}
	})

	t.Run("unlock", func(t *testing.T) {
		b.loginPIN(t, s)
		b.open(t, "/app/card", "#unlock-pin")
		b.fill(t, "#unlock-pin", s.pin)
		b.submit(t, "#unlock-submit", "#card-state")
		b.open(t, "/app", "#card-state")
		if !eval[bool](t, b, `document.querySelector('#card-status').classList.contains('status-active')`) {
			t.Errorf("home after unlocking shows the card %q, want active", b.text(t, "#card-state"))
		}
	})

	t.Run("paycode", func(t *testing.T) {
		before := b.home(t)
		b.open(t, "/app/paycode", "#paycode-digits")
		code := strings.Join(strings.Fields(b.text(t, "#paycode-digits")), "")
		if len(code) != 18 {
			t.Fatalf("#paycode-digits shows %q, want 18 digits", code)
		}
		api := newAPIClient(s.base)
		api.loginOperator(t, s.operator, browserAdminPassword)
		canteen := canteenMerchant(t, api, onlySchool(t, api, s.school))
		var sale struct {
			No, State string
			Amount    int64
		}
		months = append(months, schoolMonth())
		api.must(t, "POST", "/api/v1/code-payments", map[string]any{"merchant_id": canteen, "code": code, "amount": 880, "no": "BROWSER1"}, &sale)
		months = append(months, schoolMonth())
		if sale.State != "paid" || sale.Amount != 880 {
			t.Errorf("the code payment: %+v, want paid ¥8.80", sale)
		}
		after := b.home(t)
		if after.total != before.total-880 {
			t.Errorf("home after an ¥8.80 code payment: %+v, before %+v", after, before)
		}
	})

	t.Run("bills", func(t *testing.T) {
		if len(months) != 4 {
			t.Skip("a purchase step failed before its purchase")
		}
		if len(slices.Compact(slices.Clone(months))) != 1 {
			t.Skipf("the month turned around the purchases (%q): their bills are on two pages", months)
		}
		page := "/app/bills"
		if schoolMonth() != months[0] {
			page += "?month=" + months[0] // the default page is now the new month's
		}
		b.open(t, page, "#bills-table .bill")
		rows := eval[[]string](t, b, `Array.from(document.querySelectorAll('#bills-table .bill')).map(r => r.innerText)`)
		canteen := func(amount string) bool {
			for _, r := range rows {
				if strings.Contains(r, amount) && (strings.Contains(r, "食堂") || strings.Contains(r, "Canteen")) {
					return true
				}
			}
			return false
		}
		if !canteen("¥12.50") {
			t.Errorf("no bill row for the ¥12.50 canteen purchase at the POS in %q", rows)
		}
		if !canteen("¥8.80") {
			t.Errorf("no bill row for the ¥8.80 payment by code at the canteen in %q", rows)
		}
		for _, chart := range []string{"#chart-week", "#chart-merchant"} {
			if !b.exists(t, chart) {
				t.Errorf("/app/bills has no %s", chart)
			}
		}
	})

	t.Run("parent-topup", func(t *testing.T) {
		before := b.home(t)
		p := &tab{ctx: newTab(t, browser), base: s.base}
		p.open(t, "/topup", "#public-lookup")
		p.fill(t, "#public-school", s.school, "#public-name", s.name, "#public-number", s.number)
		p.submit(t, "#public-lookup", "#public-masked")
		masked := p.text(t, "#public-masked")
		last := []rune(s.name)[len([]rune(s.name))-1]
		if strings.Contains(masked, s.name) || !strings.ContainsRune(masked, last) {
			t.Errorf("#public-masked shows %q for %s", masked, s.name)
		}
		p.click(t, "#public-amount-5000", "#public-channel-wechat")
		p.click(t, "#public-channel-wechat", "#public-terms")
		p.click(t, "#public-terms", "#public-submit")
		p.submit(t, "#public-submit", "#confirm")
		p.submit(t, "#confirm", "#public-state")
		p.waitState(t, "#public-state", "credited")
		// The cardholder sees the parent's money waiting for the next tap.
		if after := b.home(t); after.transition != before.transition+5000 {
			t.Errorf("the cardholder's home after a parent's ¥50.00: %+v, before %+v", after, before)
		}
	})

	t.Logf("browser steps took %s", time.Since(started).Round(time.Millisecond))
	s.stopAndCheck(t)
}

// waitState waits on an order's page until sel's data-state is state: the
// page refreshes itself while the payment notification is on its way.
func (b *tab) waitState(t *testing.T, sel, state string) {
	t.Helper()
	b.waitUntil(t, fmt.Sprintf("%s to say %s", sel, state),
		fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.dataset.state === %q; })()`, sel, state))
}

// waitUntil evaluates expr until it is true, across reloads of the page,
// for at most the step timeout.
func (b *tab) waitUntil(t *testing.T, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	for {
		// A page being replaced answers with an error; the next try sees
		// the new one.
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v\n%s", what, ctx.Err(), b.where())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// canteenMerchant returns the ID of the school's first canteen.
func canteenMerchant(t *testing.T, c *apiClient, school int64) int64 {
	t.Helper()
	var ms struct {
		Items []struct {
			ID         int64
			Code, Kind string
		}
	}
	c.must(t, "GET", fmt.Sprintf("/api/v1/schools/%d/merchants", school), nil, &ms)
	for _, m := range ms.Items {
		if m.Kind == "canteen" {
			return m.ID
		}
	}
	t.Fatalf("the demo school has no canteen: %+v", ms.Items)
	return 0
}
