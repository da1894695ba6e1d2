package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// screenshotLangs are the languages the screenshots are taken in.
var screenshotLangs = []string{"zh", "en"}

// TestBrowserScreenshots writes a full-page PNG of each main page of the web
// app, in Chinese and in English, at a phone's 360×740 (pixel ratio 2), to
// the directory $ONECARD_SCREENSHOTS as {page}.{lang}.png. Without the
// variable it skips, so that a test run writes nothing into the clone. A
// relative directory is taken from the repository's root.
//
//	ONECARD_SCREENSHOTS=docs/screenshots go test -run BrowserScreenshots ./cmd/onecard
func TestBrowserScreenshots(t *testing.T) {
	dir := os.Getenv("ONECARD_SCREENSHOTS")
	if dir == "" {
		t.Skip("set ONECARD_SCREENSHOTS to a directory to write the web app's screenshots (docs/screenshots/README.md)")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // go test runs in cmd/onecard
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if chromiumPath() == "" {
		t.Skip("no chromium or chromium-browser on PATH; install Debian's chromium to take the screenshots")
	}
	s := startDemo(t)

	// Something to show: an Alipay account bound (in the first browser,
	// below), money topped up, spent at a canteen twice, and a top-up
	// waiting for the next tap.
	topUp := func(channel, amount string) {
		t.Helper()
		code, out, errOut := runBinary(t, s.env, "sim", "topup", "--server", s.base, "--school", s.school, "--name", s.name,
			"--card", s.number, "--amount", amount, "--channel", channel)
		if code != exitOK {
			t.Fatalf("sim topup: exit %d\n%s%s", code, out, errOut)
		}
	}
	topUp("alipay", "100")
	for _, amount := range []string{"12.50", "8.00"} {
		if code, out := s.pos(t, amount); code != exitOK {
			t.Fatalf("sim pos: exit %d\n%s", code, out)
		}
	}
	topUp("wechat", "50")

	pages := []struct{ name, path, wait string }{
		{"home", "/app", "#balance-total"},
		{"topup", "/app/topup", "#topup-submit"},
		{"paycode", "/app/paycode", "#paycode-digits"},
		{"bills", "/app/bills", "#bills-table"},
		{"bills-year", "/app/bills/year", "#year-summary"},
		{"card", "/app/card", "#card-state"},
		{"public-topup", "/topup", "#public-lookup"},
	}
	// A browser for each language, as a phone set to it would be.
	for _, lang := range screenshotLangs {
		t.Run(lang, func(t *testing.T) {
			b := &tab{ctx: newBrowser(t, lang), base: s.base}
			b.do(t, "a phone with pixel ratio 2", phone(2))
			setLang(t, b, lang)
			b.open(t, "/login", "#login-number")
			shoot(t, b, dir, "login", lang)
			b.loginPIN(t, s)
			if b.open(t, "/app/card", "#card-state"); b.exists(t, "#bind-alipay") {
				b.submit(t, "#bind-alipay", "#authorize")
				b.submit(t, "#authorize", "#bound-alipay")
			}
			for _, p := range pages {
				t.Run(p.name, func(t *testing.T) {
					b.open(t, p.path, p.wait)
					shoot(t, b, dir, p.name, lang)
				})
			}
			t.Run("sandbox-checkout", func(t *testing.T) {
				b.open(t, "/app/topup", "#topup-submit")
				b.click(t, "#channel-alipay", "#amount-5000")
				b.click(t, "#amount-5000", "#topup-submit")
				b.submit(t, "#topup-submit", "#confirm")
				shoot(t, b, dir, "sandbox-checkout", lang)
			})
		})
	}
	s.stopAndCheck(t)
}

// setLang sets the language cookie the app's switch sets.
func setLang(t *testing.T, b *tab, lang string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "onecard_lang", Value: lang, URL: b.base + "/"}); err != nil {
		t.Fatalf("setting the language cookie: %v", err)
	}
}

// shoot writes a full-page PNG of the tab as {page}.{lang}.png in dir.
func shoot(t *testing.T, b *tab, dir, page, lang string) {
	t.Helper()
	// The app's pages say which language they are in; the sandbox's are
	// its own.
	if want := map[string]string{"zh": "zh-CN", "en": "en"}[lang]; !strings.HasPrefix(b.path(t), "/sandbox/") {
		if got := eval[string](t, b, `document.documentElement.lang`); got != want {
			t.Errorf("%s in %s: the page is in %q", page, lang, got)
		}
	}
	// A phone as tall as the page, so that the tab bar, which is fixed to
	// the bottom of the screen, is drawn at the end of the page and not
	// across its middle.
	height := max(int64(eval[float64](t, b, `document.documentElement.scrollHeight`)), phoneHeight)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, func(ctx context.Context, tt *chromedp.Target) ([]byte, error) {
		if _, err := chromedp.EmulateViewport(phoneWidth, height, chromedp.EmulateScale(2), mobile)(ctx, tt); err != nil {
			return nil, err
		}
		return chromedp.FullScreenshot(100)(ctx, tt) // 100: PNG, not JPEG
	})
	b.do(t, "the phone's own height again", phone(2))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", page, err)
	}
	path := filepath.Join(dir, page+"."+lang+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d KiB)", path, len(png)>>10)
}
