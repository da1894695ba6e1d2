package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/clientaddr"
)

// publicLookup looks a card up as the page's first form does.
func publicLookup(b *browser, name, number string) (int, string) {
	b.t.Helper()
	return b.post("/topup/lookup", url.Values{"school": {"nankai"}, "name": {name}, "number": {number}})
}

// The lookup shows whose card it is, masked, never the full name, and
// carries what was typed on to the payment form in posted fields.
func TestPublicLookup(t *testing.T) {
	a, _ := newPayApp(t, nil)
	h, _ := a.cardholder(t)
	b := a.browser(t) // a parent's phone: no login

	status, body := b.get("/topup")
	if status != http.StatusOK {
		t.Fatalf("public page: %d", status)
	}
	topUpHas(t, "the public page", body, `id="public-school"`, `<option value="nankai"`, "南开大学", `id="public-school-search"`,
		`id="public-name"`, `id="public-number"`, `id="public-lookup"`, `id="public-records"`, `/static/public.js`)
	topUpLacks(t, "the public page", body, `id="logout"`, `id="nav-home"`)

	status, body = publicLookup(b, "王小明", h.Number)
	if status != http.StatusOK {
		t.Fatalf("lookup: %d\n%s", status, body)
	}
	if got := topUpElement(t, body, "public-masked"); got != "王*明" {
		t.Errorf("#public-masked is %q, want 王*明", got)
	}
	text := topUpText(body)
	topUpLacks(t, "the page after the lookup", text, "王小明", h.Number, h.Phone)
	topUpHas(t, "the page after the lookup", text, "南开大学", "****"+h.Number[len(h.Number)-4:])
	topUpHas(t, "the payment form", body, `id="public-amount-5000"`, `id="public-amount-10000"`, `id="public-amount-20000"`,
		`id="public-amount-custom"`, `id="public-phone"`, `id="public-channel-alipay"`, `id="public-channel-wechat"`,
		`id="public-terms"`, `id="public-submit"`, `id="public-another"`)
	if topUpValue(t, body, "name") != "王小明" || topUpValue(t, body, "number") != h.Number || topUpValue(t, body, "school") != "nankai" {
		t.Error("the payment form does not carry the school, name and number")
	}

	// A wrong name is not found, like an unknown number.
	status, body = publicLookup(b, "王小红", h.Number)
	if status != http.StatusNotFound || !strings.Contains(body, `id="error"`) || strings.Contains(body, `id="public-masked"`) {
		t.Errorf("a wrong name: %d", status)
	}
	if status, _ := b.post("/topup/lookup", url.Values{"school": {"nowhere"}, "name": {"王小明"}, "number": {h.Number}}); status != http.StatusBadRequest {
		t.Errorf("an unknown school: %d", status)
	}
}

// Paying for someone else's card: the terms must be accepted; the payer
// goes to the gateway; the order's page shows its state, amount and the
// masked card only; the phone given gets the notice.
func TestPublicTopUp(t *testing.T) {
	a, p := newPayApp(t, nil)
	h, _ := a.cardholder(t)
	b := a.browser(t)
	_, body := publicLookup(b, "王小明", h.Number)
	form := url.Values{"key": {topUpValue(t, body, "key")}, "school": {"nankai"}, "name": {"王小明"}, "number": {h.Number},
		"amount": {"5000"}, "amount_custom": {""}, "channel": {"alipay"}, "phone": {"13912345678"}}

	status, body := b.post("/topup", form)
	if status != http.StatusBadRequest || !strings.Contains(topUpElement(t, body, "error"), "协议") {
		t.Errorf("without the terms: %d", status)
	}
	if got := topUpElement(t, body, "public-masked"); got != "王*明" {
		t.Errorf("the form shown again names %q", got)
	}
	if orders, _ := a.db.TopUps(ctx, h.ID, 10); len(orders) != 0 {
		t.Fatalf("a top-up without the terms opened %d orders", len(orders))
	}

	form.Set("terms", "1")
	res := topUpSend(b, "/topup", form)
	again := topUpSend(b, "/topup", form) // a double click
	payURL := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(payURL, p.sbURL) || again.Header.Get("Location") != payURL {
		t.Fatalf("public top-up answered %d to %q (again %q)", res.StatusCode, payURL, again.Header.Get("Location"))
	}
	orders, err := a.db.TopUps(ctx, h.ID, 10)
	if err != nil || len(orders) != 1 || orders[0].Kind != onecard.TopUpPublic || orders[0].Amount != 50_00 {
		t.Fatalf("orders: %+v %v", orders, err)
	}
	no := orders[0].No

	status, body = b.get("/topup/" + no)
	if status != http.StatusOK || topUpElement(t, body, "public-state") != "等待支付结果" || !strings.Contains(body, `http-equiv="refresh" content="3"`) {
		t.Errorf("the pending order's page: %d\n%s", status, body)
	}

	pay, err := http.Get(payURL) // the payer opens the gateway's page
	if err != nil {
		t.Fatal(err)
	}
	pay.Body.Close()
	if err := p.sb.Pay(channel.Alipay, no, ""); err != nil {
		t.Fatal(err)
	}
	topUpEventually(t, "the credit", func() bool {
		_, body = b.get("/topup/" + no)
		return topUpElement(t, body, "public-state") == "充值成功"
	})
	if got := topUpElement(t, body, "public-amount"); got != "¥50.00" {
		t.Errorf("#public-amount is %q", got)
	}
	topUpHas(t, "the order's page", body, "****"+h.Number[len(h.Number)-4:], `data-no="`+no+`"`)
	topUpLacks(t, "the order's page", body, "王", "小明", h.Number, h.Phone, "13912345678", "http-equiv")
	if bal, _ := a.db.Balance(ctx, h.ID); bal.Transition != 50_00 {
		t.Errorf("transition balance %s, want ¥50.00", onecard.Yuan(bal.Transition))
	}
	topUpEventually(t, "the SMS notice to the payer", func() bool { return len(p.sms.Messages("13912345678")) > 0 })

	// A cardholder's own top-up has no public page.
	topUpBind(t, p, h, onecard.ChannelAlipay, "2088000000000001")
	own, err := p.svc.TopUpBound(ctx, h.ID, onecard.ChannelAlipay, 20_00, "own")
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := b.get("/topup/" + own.No); status != http.StatusNotFound {
		t.Errorf("a bound top-up's public page: %d", status)
	}
	if status, _ := b.get("/topup/T-no-such-order"); status != http.StatusNotFound {
		t.Errorf("an unknown order's page: %d", status)
	}
}

// A page shown in answer to a form sends the language switch back to the
// form's page, which answers GET, rather than to the form's action.
func TestLanguageSwitchAfterAForm(t *testing.T) {
	a, _ := newPayApp(t, nil)
	h, _ := a.cardholder(t)
	b := a.browser(t)
	_, body := publicLookup(b, "李四", h.Number) // not the holder's name
	if !strings.Contains(body, `id="error"`) || !strings.Contains(body, `name="back" value="/topup"`) {
		t.Fatalf("the lookup's answer does not send the switch back to /topup:\n%s", body)
	}
	if status, body := b.post("/lang", url.Values{"lang": {"en"}, "back": {"/topup"}}); status != http.StatusOK || !strings.Contains(body, `lang="en"`) {
		t.Errorf("switching language from the answer: %d", status)
	}
}

// Behind the school's reverse proxy, trusted with --trusted-proxies, each
// parent's lookups count against the address the proxy forwards. Without
// that trust the header counts for nothing: a client cannot step around
// the limit by writing a new X-Forwarded-For each time.
func TestPublicRateLimitBehindProxy(t *testing.T) {
	a, _ := newPayApp(t, nil)
	h, _ := a.cardholder(t)
	exhaust := func(b *browser) {
		t.Helper()
		for range 10 { // the default allows a burst of 5
			if status, _ := publicLookup(b, "王小明", h.Number); status == http.StatusTooManyRequests {
				return
			}
		}
		t.Fatalf("no limit after 10 lookups from %s", b.forwardedFor)
	}

	res, err := clientaddr.New("127.0.0.1, ::1")
	if err != nil {
		t.Fatal(err)
	}
	proxied := httptest.NewServer(res.Handler(a.srv.Config.Handler))
	defer proxied.Close()
	parent := func(addr string) *browser {
		b := a.browser(t)
		b.base, b.forwardedFor = proxied.URL, addr
		return b
	}
	exhaust(parent("203.0.113.10"))
	if status, _ := publicLookup(parent("203.0.113.11"), "王小明", h.Number); status != http.StatusOK {
		t.Errorf("another parent behind the same proxy: %d, want 200", status)
	}
	// What a client puts left of the proxy's own entry is not its address.
	if status, _ := publicLookup(parent("198.51.100.1, 203.0.113.10"), "王小明", h.Number); status != http.StatusTooManyRequests {
		t.Errorf("a limited parent naming another address first: %d, want 429", status)
	}

	direct := a.browser(t)
	direct.forwardedFor = "203.0.113.20"
	exhaust(direct)
	direct.forwardedFor = "203.0.113.21"
	if status, _ := publicLookup(direct, "王小明", h.Number); status != http.StatusTooManyRequests {
		t.Errorf("a new X-Forwarded-For from an untrusted peer: %d, want 429", status)
	}
}

// The payment service's limit of lookups per client address shows as the
// page's own message.
func TestPublicRateLimited(t *testing.T) {
	a, _ := newPayApp(t, nil)
	h, _ := a.cardholder(t)
	b := a.browser(t)
	var status int
	var body string
	for range 10 { // the default allows a burst of 5
		if status, body = publicLookup(b, "王小明", h.Number); status == http.StatusTooManyRequests {
			break
		}
	}
	if status != http.StatusTooManyRequests || topUpElement(t, body, "error") != "查询过于频繁，请一分钟后再试。" {
		t.Fatalf("after many lookups: %d", status)
	}
	b.lang = "en"
	if _, body = publicLookup(b, "王小明", h.Number); topUpElement(t, body, "error") != "Too many lookups. Please wait a minute." {
		t.Errorf("the English page says %q", topUpElement(t, body, "error"))
	}
	// Paying counts too: it cannot be used to look around the limit.
	form := url.Values{"key": {"k"}, "school": {"nankai"}, "name": {"王小明"}, "number": {h.Number}, "amount": {"5000"}, "channel": {"alipay"}, "terms": {"1"}}
	if status, _ := b.post("/topup", form); status != http.StatusTooManyRequests {
		t.Errorf("a top-up past the limit: %d", status)
	}
}
