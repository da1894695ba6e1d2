package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/sms"
)

// topUpIDNumber is the ID number a.cardholder registered h with (it
// numbers both alike).
func topUpIDNumber(t *testing.T, h *onecard.Cardholder) string {
	t.Helper()
	seq, err := strconv.Atoi(h.Number[4:])
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("1101051990%07dX", seq)
}

// topUpBind binds a channel account to h's card as the card page does:
// through the channel's authorisation.
func topUpBind(t *testing.T, p *payments, h *onecard.Cardholder, ch, account string) {
	t.Helper()
	if _, err := p.svc.BindAccount(ctx, h.ID, ch, p.sb.IssueOAuthCode(channel.Name(ch), account)); err != nil {
		t.Fatal(err)
	}
}

// topUpBindBank binds a bank card, which the sandbox bank signs.
func topUpBindBank(t *testing.T, p *payments, h *onecard.Cardholder) {
	t.Helper()
	if _, err := p.svc.BindBankCard(ctx, h.ID, &onecard.NewBankBinding{Bank: "中国建设银行", HolderName: h.Name,
		IDNumber: topUpIDNumber(t, h), CardNumber: "6217 0000 0000 0000 004", Via: "app"}); err != nil {
		t.Fatal(err)
	}
}

// topUpSend posts a form as b would and returns the answer without
// following its redirect: where a top-up sends the payer is the point.
func topUpSend(b *browser, path string, form url.Values) *http.Response {
	b.t.Helper()
	c := &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	res, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// topUpValue is the value of the named input in a page.
func topUpValue(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no input %q in the page:\n%s", name, body)
	}
	return html.UnescapeString(m[1])
}

var topUpTags = regexp.MustCompile(`(?s)<script.*?</script>|<[^>]*>`)

// topUpText is what a person reads on a page: its text without the markup
// (attributes and hidden form fields included).
func topUpText(body string) string { return html.UnescapeString(topUpTags.ReplaceAllString(body, " ")) }

// topUpElement is the text of the element with the given id.
func topUpElement(t *testing.T, body, id string) string {
	t.Helper()
	loc := regexp.MustCompile(`<(\w+)[^>]*\sid="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindStringSubmatchIndex(body)
	if loc == nil {
		t.Fatalf("no element #%s in the page:\n%s", id, body)
	}
	inner := body[loc[1]:]
	if end := strings.Index(inner, "</"+body[loc[2]:loc[3]]+">"); end >= 0 {
		inner = inner[:end]
	}
	return strings.Join(strings.Fields(topUpText(inner)), " ")
}

func topUpHas(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func topUpLacks(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("%s shows %q", what, u)
		}
	}
}

// topUpEventually polls cond for up to ten seconds.
func topUpEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The form offers the channels the cardholder can pay with (bound
// accounts, the bank card with an agreement), the school's quick amounts,
// and its limits and fees before paying.
func TestTopUpChannelsAndLimits(t *testing.T) {
	a, p := newPayApp(t, nil)
	s := a.school.Settings.WithDefaults()
	s.TopUp.FeeRates = map[string]int64{onecard.ChannelWechat: 60}
	if _, err := a.db.UpdateSettings(ctx, a.school.ID, s); err != nil {
		t.Fatal(err)
	}
	h, pin := a.cardholder(t)
	b := a.browser(t)
	b.login("nankai", h.Number, pin)

	_, body := b.get("/app/topup")
	topUpHas(t, "the page without bindings", body, `id="topup-form"`, `id="topup-bind-link"`, `href="/app/card"`,
		`id="amount-5000"`, `id="amount-10000"`, `id="amount-20000"`, `id="amount-custom"`, `id="topup-orders"`)
	topUpLacks(t, "the page without bindings", body, `id="channel-alipay"`, `id="channel-wechat"`, `id="channel-bank"`, `id="send-code"`)

	topUpBind(t, p, h, onecard.ChannelAlipay, "2088000000000001")
	_, body = b.get("/app/topup")
	topUpHas(t, "the page with Alipay bound", body, `id="channel-alipay"`, `id="topup-bind-link"`)
	topUpLacks(t, "the page with Alipay bound", body, `id="channel-wechat"`, `id="channel-bank"`)
	limits := topUpElement(t, body, "topup-limits")
	topUpHas(t, "the limits", limits, "¥10.00", "¥500.00", "¥2000.00", "0.60%", "支付宝：免手续费", "微信支付：另收手续费 0.60%")

	topUpBind(t, p, h, onecard.ChannelWechat, "o-wechat-0001")
	topUpBindBank(t, p, h)
	_, body = b.get("/app/topup")
	topUpHas(t, "the page with everything bound", body, `id="channel-alipay"`, `id="channel-wechat"`, `id="channel-bank"`,
		`id="send-code"`, `id="sms-code"`, `id="topup-submit"`, "6217 **** **** 0004")
	topUpLacks(t, "the page with everything bound", body, `id="topup-bind-link"`)
	topUpHas(t, "the limits", topUpElement(t, body, "topup-limits"), "银行卡充值与圈存机圈存合计每日不超过 ¥500.00")

	b.lang = "en"
	_, body = b.get("/app/topup")
	topUpHas(t, "the English page", body, "Bank card", "WeChat Pay: a fee of 0.60% is added", "Each top-up is between ¥10.00 and ¥500.00")
}

// A top-up from a bound account goes to the gateway's page; paying there
// credits the transition balance, which home shows as pending. The same
// form sent twice opens one order.
func TestTopUpBoundPaysAtGateway(t *testing.T) {
	for _, ch := range []string{onecard.ChannelAlipay, onecard.ChannelWechat} {
		t.Run(ch, func(t *testing.T) {
			a, p := newPayApp(t, nil)
			h, pin := a.cardholder(t)
			topUpBind(t, p, h, ch, "acct-"+ch)
			b := a.browser(t)
			b.login("nankai", h.Number, pin)
			_, body := b.get("/app/topup")
			form := url.Values{"key": {topUpValue(t, body, "key")}, "channel": {ch}, "amount": {"5000"}, "amount_custom": {""}}

			first := topUpSend(b, "/app/topup", form)
			second := topUpSend(b, "/app/topup", form) // a double click
			payURL := first.Header.Get("Location")
			if first.StatusCode != http.StatusSeeOther || !strings.HasPrefix(payURL, p.sbURL) {
				t.Fatalf("the top-up answered %d to %q, want 303 to the sandbox", first.StatusCode, payURL)
			}
			if second.Header.Get("Location") != payURL {
				t.Errorf("the second submission went to %q, the first to %q", second.Header.Get("Location"), payURL)
			}
			orders, err := a.db.TopUps(ctx, h.ID, 10)
			if err != nil || len(orders) != 1 {
				t.Fatalf("a double submission opened %d orders (%v)", len(orders), err)
			}
			no := orders[0].No
			if ch == onecard.ChannelWechat {
				// WeChat's H5 page returns to the redirect_url the merchant
				// appends: the order's page here.
				u, err := url.Parse(payURL)
				if err != nil || u.Query().Get("redirect_url") != a.srv.URL+"/app/topup/"+no {
					t.Errorf("the WeChat pay URL %q does not come back to the order's page", payURL)
				}
			}

			// The payer's page: the sandbox checkout with the amount.
			res, err := http.Get(payURL)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			checkout := res.Request.URL.String()
			if res.StatusCode != http.StatusOK || !strings.Contains(checkout, "/sandbox/checkout/"+ch+"/"+no) {
				t.Fatalf("the pay URL led to %s (%d)", checkout, res.StatusCode)
			}

			// Before paying, the order's page waits and reloads.
			_, body = b.get("/app/topup/" + no)
			topUpHas(t, "the pending order", body, `data-state="pending"`, `http-equiv="refresh" content="3"`, "¥50.00", `id="topup-pay"`)

			// The payer confirms on the checkout page (#confirm posts it).
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err = noFollow.PostForm(checkout, url.Values{"payer": {"acct-" + ch}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			// Alipay sends the payer back to the result page; WeChat's H5
			// page has no return address and stays.
			back := res.Header.Get("Location")
			if res.StatusCode != http.StatusSeeOther || (ch == onecard.ChannelAlipay && !strings.HasSuffix(back, "/pay/result/"+no)) {
				t.Fatalf("confirming answered %d to %q", res.StatusCode, back)
			}
			topUpEventually(t, "the pending hint on home", func() bool {
				_, body := b.get("/app")
				return strings.Contains(body, `id="pending-hint"`) && strings.Contains(body, "¥50.00 待圈存")
			})

			_, body = b.get("/app/topup/" + no)
			if got := topUpElement(t, body, "topup-state"); got != "充值成功" {
				t.Errorf("#topup-state is %q, want 充值成功", got)
			}
			if got := topUpElement(t, body, "topup-amount"); got != "¥50.00" {
				t.Errorf("#topup-amount is %q, want ¥50.00", got)
			}
			topUpLacks(t, "the credited order", body, "http-equiv")
			_, body = b.get("/app/topup")
			topUpHas(t, "the recent orders", topUpElement(t, body, "topup-orders")+body, "充值成功", "/app/topup/"+no)
		})
	}
}

// The custom amount, in yuan, wins over the quick amount; amounts the
// rules refuse show the service's reason and open nothing.
func TestTopUpAmounts(t *testing.T) {
	a, p := newPayApp(t, nil)
	h, pin := a.cardholder(t)
	topUpBind(t, p, h, onecard.ChannelAlipay, "2088000000000001")
	b := a.browser(t)
	b.login("nankai", h.Number, pin)

	status, body := b.post("/app/topup", url.Values{"key": {"k1"}, "channel": {"alipay"}, "amount": {"5000"}, "amount_custom": {"12.5x"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "请选择或输入充值金额") {
		t.Errorf("a mistyped amount: %d", status)
	}
	status, body = b.post("/app/topup", url.Values{"key": {"k2"}, "channel": {"alipay"}, "amount": {"5000"}, "amount_custom": {"600"}})
	if status != http.StatusBadRequest || !strings.Contains(topUpElement(t, body, "error"), "¥500.00") {
		t.Errorf("an amount above the single limit: %d", status)
	}
	topUpHas(t, "the form shown again", body, `value="600"`, `id="channel-alipay"`)
	if orders, _ := a.db.TopUps(ctx, h.ID, 10); len(orders) != 0 {
		t.Fatalf("refused amounts opened %d orders", len(orders))
	}
	res := topUpSend(b, "/app/topup", url.Values{"key": {"k3"}, "channel": {"alipay"}, "amount": {"5000"}, "amount_custom": {"12.34"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a custom amount: %d", res.StatusCode)
	}
	if orders, _ := a.db.TopUps(ctx, h.ID, 10); len(orders) != 1 || orders[0].Amount != 12_34 {
		t.Fatalf("the custom amount opened %+v, want one order of ¥12.34", orders)
	}
	status, body = b.post("/app/topup", url.Values{"key": {"k4"}, "channel": {"wechat"}, "amount": {"5000"}})
	if status != http.StatusConflict || !strings.Contains(body, `id="error"`) {
		t.Errorf("a top-up from an unbound channel: %d", status)
	}
}

// A bank top-up is confirmed with the texted code and credited at once.
func TestTopUpBank(t *testing.T) {
	a, p := newPayApp(t, nil)
	h, pin := a.cardholder(t)
	topUpBindBank(t, p, h)
	b := a.browser(t)
	b.login("nankai", h.Number, pin)
	_, body := b.get("/app/topup")
	key := topUpValue(t, body, "key")

	status, body := b.post("/app/topup/code", url.Values{"key": {key}, "channel": {"bank"}, "amount": {"10000"}})
	if status != http.StatusOK {
		t.Fatalf("send code: %d\n%s", status, body)
	}
	topUpHas(t, "the page after sending the code", topUpElement(t, body, "notice"), sms.MaskPhone(h.Phone))
	topUpHas(t, "the page after sending the code", body, `id="amount-10000" checked`, `id="channel-bank" required checked`)
	topUpLacks(t, "the page after sending the code", body, h.Phone)
	msgs := p.sms.Messages(h.Phone)
	if len(msgs) != 1 {
		t.Fatalf("%d texts to the cardholder, want 1", len(msgs))
	}
	code := regexp.MustCompile(`\d{6}`).FindString(msgs[0].Text)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	key = topUpValue(t, body, "key")
	form := url.Values{"key": {key}, "channel": {"bank"}, "amount": {"10000"}, "sms_code": {wrong}}
	if status, body := b.post("/app/topup", form); status != http.StatusBadRequest || !strings.Contains(body, `id="error"`) {
		t.Errorf("a wrong code: %d", status)
	}
	form.Set("sms_code", "")
	if status, body := b.post("/app/topup", form); status != http.StatusBadRequest || !strings.Contains(body, "请输入短信验证码") {
		t.Errorf("no code: %d", status)
	}
	form.Set("sms_code", code)
	res := topUpSend(b, "/app/topup", form)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/app/topup/T") {
		t.Fatalf("bank top-up answered %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = b.get(res.Header.Get("Location"))
	if got := topUpElement(t, body, "topup-state"); got != "充值成功" {
		t.Errorf("#topup-state is %q after a bank top-up", got)
	}
	if got := topUpElement(t, body, "topup-amount"); got != "¥100.00" {
		t.Errorf("#topup-amount is %q", got)
	}
	if bal, _ := a.db.Balance(ctx, h.ID); bal.Transition != 100_00 {
		t.Errorf("transition balance %s, want ¥100.00", onecard.Yuan(bal.Transition))
	}
	_, body = b.get("/app")
	if got := topUpElement(t, body, "balance-transition"); got != "¥100.00" {
		t.Errorf("home shows a transition balance of %q", got)
	}
}

// Another cardholder's order is not found, and never listed.
func TestTopUpOrderOfAnother(t *testing.T) {
	a, p := newPayApp(t, nil)
	h1, _ := a.cardholder(t)
	h2, pin2 := a.cardholder(t)
	topUpBind(t, p, h1, onecard.ChannelAlipay, "2088000000000001")
	tu, err := p.svc.TopUpBound(ctx, h1.ID, onecard.ChannelAlipay, 77_00, "k1")
	if err != nil {
		t.Fatal(err)
	}
	b := a.browser(t)
	b.login("nankai", h2.Number, pin2)
	status, body := b.get("/app/topup/" + tu.No)
	if status != http.StatusNotFound {
		t.Errorf("another's order: %d, want 404", status)
	}
	topUpLacks(t, "another's order", body, "¥77.00", h1.Number)
	status, body = b.get("/app/topup/T-no-such-order")
	if status != http.StatusNotFound || !strings.Contains(body, "没有找到这笔充值订单") {
		t.Errorf("an unknown order: %d", status)
	}
	_, body = b.get("/app/topup")
	topUpLacks(t, "the recent orders", body, tu.No, "¥77.00")
}

// Without the payment side the pages say so.
func TestTopUpUnavailable(t *testing.T) {
	a := newApp(t, nil)
	h, pin := a.cardholder(t)
	b := a.browser(t)
	b.login("nankai", h.Number, pin)
	for path, id := range map[string]string{"/app/topup": "topup-unavailable", "/app/paycode": "paycode-unavailable"} {
		status, body := b.get(path)
		if status != http.StatusOK || !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("%s without payments: %d", path, status)
		}
	}
	if status, body := b.post("/app/topup", url.Values{"key": {"k"}, "channel": {"alipay"}, "amount": {"5000"}}); status != http.StatusServiceUnavailable || !strings.Contains(body, "暂未开通在线充值") {
		t.Errorf("a top-up without payments: %d", status)
	}
	c := a.browser(t)
	if status, body := c.get("/topup"); status != http.StatusOK || !strings.Contains(body, `id="public-unavailable"`) {
		t.Errorf("the public page without payments: %d", status)
	}
}
