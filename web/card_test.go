package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
)

// cardIDNumber is the ID number a.cardholder registered for the
// cardholder it made last (its own formula).
func cardIDNumber(a *app) string { return fmt.Sprintf("1101051990%07dX", a.seq) }

// cardPostTo posts a form to an absolute URL (another server's page, such
// as the sandbox's authorisation page) with the browser's cookies.
func cardPostTo(b *browser, abs string, form url.Values) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, abs, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// cardField returns the value of a form field named name in a page.
func cardField(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the page has no field %q", name)
	}
	return html.UnescapeString(m[1])
}

// cardLuhn completes a bank card number with its check digit.
func cardLuhn(prefix string) string {
	sum := 0
	for i := range len(prefix) {
		n := int(prefix[len(prefix)-1-i] - '0')
		if i%2 == 0 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return prefix + fmt.Sprint((10-sum%10)%10)
}

func cardShows(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func cardHides(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("%s shows %q", what, w)
		}
	}
}

// A loss report ends every session, this browser's and the others', and
// after logging in again the card shows lost until it is unlocked.
func TestCardReportLostAndUnlock(t *testing.T) {
	a := newApp(t, nil)
	h, pin := a.cardholder(t)
	phone, laptop := a.browser(t), a.browser(t)
	phone.login("nankai", h.Number, pin)
	laptop.login("nankai", h.Number, pin)

	status, body := phone.get("/app/card")
	if status != http.StatusOK {
		t.Fatalf("card page: %d", status)
	}
	cardShows(t, "the card page", body, h.Number, `id="card-state">正常`, `id="lost-form"`, `id="pin-form"`)
	cardHides(t, "a card page without payments or a network center", body,
		`id="bindings"`, `id="bank-form"`, `id="auto-form"`, `id="notices-form"`, `id="netfee-form"`, `id="unlock-form"`)

	status, body = phone.post("/app/card/lost", url.Values{"pin": {pin}})
	if status != http.StatusOK || !strings.Contains(body, `id="login-form"`) || !strings.Contains(body, `id="notice"`) {
		t.Fatalf("a loss report should end at the login page with a notice: %d\n%s", status, body)
	}
	cardShows(t, "the login page after the loss report", body, "卡片已挂失", "所有设备已退出登录")
	cardHides(t, "the login page after the loss report", body, `id="nav-card"`, `id="logout"`, `value="/app/card/lost"`)
	if _, body := phone.get("/login"); strings.Contains(body, `id="notice"`) {
		t.Error("the login page shows the loss report's notice again on reload")
	}
	for name, b := range map[string]*browser{"the reporting browser": phone, "the other browser": laptop} {
		if _, body := b.get("/app/card"); !strings.Contains(body, `id="login-form"`) {
			t.Errorf("%s is still logged in after the loss report", name)
		}
	}
	c, err := a.db.ActiveCard(ctx, h.ID)
	if err != nil || !c.Lost {
		t.Fatalf("the card is not lost: %+v, %v", c, err)
	}

	body = phone.login("nankai", h.Number, pin)
	cardShows(t, "the home page of a lost card", body, "已挂失")
	_, body = phone.get("/app/card")
	cardShows(t, "the card page of a lost card", body, `id="card-state">已挂失`, `id="unlock-form"`)
	cardHides(t, "the card page of a lost card", body, `id="lost-form"`)

	status, body = phone.post("/app/card/unlock", url.Values{"pin": {pin}})
	if status != http.StatusOK {
		t.Fatalf("unlock: %d", status)
	}
	cardShows(t, "the page after unlocking", body, `id="notice"`, "卡片已解挂", `id="card-state">正常`, `id="lost-form"`)
	if _, body := phone.get("/app/card"); strings.Contains(body, `id="notice"`) {
		t.Error("the notice came back on reload")
	}
	if c, _ := a.db.ActiveCard(ctx, h.ID); c.Lost {
		t.Error("the card is still lost after unlocking")
	}
	if _, body := phone.post("/app/card/unlock", url.Values{"pin": {pin}}); !strings.Contains(body, `id="error"`) {
		t.Error("unlocking a card that is not lost showed no error")
	}
}

// A wrong query PIN is refused with the attempts left, and nothing changes.
func TestCardWrongPIN(t *testing.T) {
	a := newApp(t, nil)
	h, pin := a.cardholder(t)
	b := a.browser(t)
	b.login("nankai", h.Number, pin)
	wrong := "000000"
	if wrong == pin {
		wrong = "111111"
	}
	status, body := b.post("/app/card/lost", url.Values{"pin": {wrong}})
	if status != http.StatusForbidden {
		t.Fatalf("wrong PIN: %d, want 403", status)
	}
	cardShows(t, "the page after a wrong PIN", body, `id="error"`, "attempts left", `id="card-state">正常`, `id="lost-form"`,
		`name="back" value="/app/card"`)
	if c, _ := a.db.ActiveCard(ctx, h.ID); c.Lost {
		t.Error("a wrong PIN reported the card lost")
	}
	if _, body := b.post("/app/card/lost", url.Values{"pin": {"12ab"}}); !strings.Contains(body, `id="error"`) {
		t.Error("a malformed PIN showed no error")
	}
	if _, body := b.get("/app/card"); strings.Contains(body, `id="login-form"`) {
		t.Error("a wrong PIN ended the session")
	}
}

// A PIN change ends every session; the old PIN no longer logs in, the new
// one does.
func TestCardChangePIN(t *testing.T) {
	a := newApp(t, nil)
	h, pin := a.cardholder(t)
	b, other := a.browser(t), a.browser(t)
	b.login("nankai", h.Number, pin)
	other.login("nankai", h.Number, pin)

	status, body := b.post("/app/card/pin", url.Values{"old": {pin}, "new": {"246810"}, "new2": {"246811"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "两次输入的新密码不一致") {
		t.Fatalf("mismatched new PINs: %d", status)
	}
	wrong := "000000"
	if wrong == pin {
		wrong = "111111"
	}
	if status, body := b.post("/app/card/pin", url.Values{"old": {wrong}, "new": {"246810"}, "new2": {"246810"}}); status != http.StatusForbidden || !strings.Contains(body, "attempts left") {
		t.Fatalf("wrong old PIN: %d", status)
	}
	if _, body := b.post("/app/card/pin", url.Values{"old": {pin}, "new": {"24681"}, "new2": {"24681"}}); !strings.Contains(body, "six digits") {
		t.Error("a five-digit PIN was not refused")
	}

	status, body = b.post("/app/card/pin", url.Values{"old": {pin}, "new": {"246810"}, "new2": {"246810"}})
	if status != http.StatusOK || !strings.Contains(body, `id="login-form"`) {
		t.Fatalf("PIN change should end at the login page: %d", status)
	}
	cardShows(t, "the login page after the PIN change", body, "查询密码已修改")
	if _, body := other.get("/app"); !strings.Contains(body, `id="login-form"`) {
		t.Error("the other browser is still logged in after the PIN change")
	}
	if status, _ := b.post("/login", url.Values{"school": {"nankai"}, "number": {h.Number}, "pin": {pin}}); status != http.StatusUnauthorized {
		t.Errorf("the old PIN still logs in: %d", status)
	}
	b.login("nankai", h.Number, "246810")
}

// An account is bound through the channel's authorisation page (the
// sandbox's here) and unbound from the card page.
func TestCardBindAccount(t *testing.T) {
	a, p := newPayApp(t, nil)
	h, pin := a.cardholder(t)
	b := a.browser(t)
	b.login("nankai", h.Number, pin)
	_, body := b.get("/app/card")
	cardShows(t, "the card page", body, `id="bindings"`, `id="bind-alipay"`, `id="bind-wechat"`)

	// The bind link goes to the authorisation page, which names where it
	// comes back to.
	status, body := b.get("/app/card/bind/alipay")
	if status != http.StatusOK || !strings.Contains(body, `id="authorize"`) {
		t.Fatalf("the bind link did not reach the authorisation page: %d\n%s", status, body)
	}
	redirect, state := cardField(t, body, "redirect_uri"), cardField(t, body, "state")
	if redirect != a.srv.URL+"/app/card/bind/alipay/callback" || state == "" {
		t.Fatalf("redirect_uri %q, state %q", redirect, state)
	}
	authorize := func(account, state string) (int, string) {
		return cardPostTo(b, p.sbURL+"/sandbox/oauth/alipay", url.Values{"redirect_uri": {redirect}, "state": {state}, "account": {account}})
	}

	// A code that comes back with another state binds nothing.
	if status, body := authorize("2088000000000777", "not-the-state"); status != http.StatusBadRequest || !strings.Contains(body, "授权已过期") {
		t.Fatalf("a callback with a forged state: %d", status)
	}
	if bs, _ := a.db.ChannelBindings(ctx, h.ID); len(bs) != 0 {
		t.Fatalf("a forged state bound %+v", bs)
	}
	_, body = b.get("/app/card/bind/alipay")
	state = cardField(t, body, "state")
	status, body = authorize("2088000000000777", state)
	if status != http.StatusOK {
		t.Fatalf("bind callback: %d\n%s", status, body)
	}
	cardShows(t, "the page after binding", body, "支付宝账户已绑定", "2088********0777", `id="unbind-alipay"`, `id="bind-wechat"`)
	cardHides(t, "the page after binding", body, `id="bind-alipay"`, "2088000000000777")
	if bs, _ := a.db.ChannelBindings(ctx, h.ID); len(bs) != 1 || bs[0].Account != "2088000000000777" {
		t.Fatalf("bindings: %+v", bs)
	}

	// The state is used up: replaying the callback binds nothing again.
	if status, _ := b.get("/app/card/bind/alipay/callback?auth_code=a123&state=" + url.QueryEscape(state)); status != http.StatusBadRequest {
		t.Errorf("a replayed callback: %d", status)
	}

	status, body = b.post("/app/card/unbind/alipay", nil)
	if status != http.StatusOK {
		t.Fatalf("unbind: %d", status)
	}
	cardShows(t, "the page after unbinding", body, "支付宝账户已解绑", `id="bind-alipay"`)
	if bs, _ := a.db.ChannelBindings(ctx, h.ID); len(bs) != 0 {
		t.Errorf("still bound: %+v", bs)
	}
	if _, body := b.post("/app/card/unbind/alipay", nil); !strings.Contains(body, `id="error"`) {
		t.Error("unbinding what is not bound showed no error")
	}
	if status, _ := b.post("/app/card/unbind/bank", nil); status != http.StatusNotFound {
		t.Errorf("unbind of a channel that has no accounts: %d", status)
	}
}

// A bank card is bound only with the cardholder's own name and ID number;
// it can be unbound.
func TestCardBankCard(t *testing.T) {
	a, _ := newPayApp(t, nil)
	h, pin := a.cardholder(t)
	id := cardIDNumber(a)
	b := a.browser(t)
	b.login("nankai", h.Number, pin)
	number := cardLuhn("622700123456789012")

	status, body := b.post("/app/card/bank", url.Values{"bank": {"中国建设银行"}, "holder_name": {"李四"}, "id_number": {id}, "card_number": {number}})
	if status != http.StatusBadRequest || !strings.Contains(body, `id="error"`) {
		t.Fatalf("a bank card in another's name: %d\n%s", status, body)
	}
	cardShows(t, "the form shown again", body, `id="bank-form"`, `value="李四"`, `value="中国建设银行"`)
	cardHides(t, "the form shown again", body, id, number, `id="bank-card"`)
	if _, err := a.db.BankBinding(ctx, h.ID); onecard.ErrorCode(err) != onecard.ENOTFOUND {
		t.Fatalf("a refused bank card is bound: %v", err)
	}
	if status, _ := b.post("/app/card/bank", url.Values{"bank": {"中国建设银行"}, "holder_name": {"王小明"}, "id_number": {id}, "card_number": {""}}); status != http.StatusBadRequest {
		t.Errorf("a bank card without a number: %d", status)
	}

	status, body = b.post("/app/card/bank", url.Values{"bank": {"中国建设银行"}, "holder_name": {"王小明"}, "id_number": {id}, "card_number": {number}})
	if status != http.StatusOK {
		t.Fatalf("bind bank card: %d\n%s", status, body)
	}
	cardShows(t, "the page after binding the bank card", body, "银行卡已绑定", "6227 **** **** "+number[len(number)-4:], `id="bank-unbind"`)
	cardHides(t, "the page after binding the bank card", body, number, `id="bank-form"`)

	status, body = b.post("/app/card/bank/unbind", nil)
	if status != http.StatusOK {
		t.Fatalf("unbind bank card: %d", status)
	}
	cardShows(t, "the page after unbinding the bank card", body, "银行卡已解绑", `id="bank-form"`)
}

// The automatic top-up needs a bank card bound for top-ups; with one, the
// consent is recorded and shown.
func TestCardAutoTopUp(t *testing.T) {
	a, _ := newPayApp(t, nil)
	h, pin := a.cardholder(t)
	id := cardIDNumber(a)
	b := a.browser(t)
	b.login("nankai", h.Number, pin)
	_, body := b.get("/app/card")
	cardShows(t, "the card page", body, `id="auto-form"`, `id="auto-needs-bank"`, `id="auto-consent"`, "我同意", `value="20.00"`, `value="50.00"`)

	on := url.Values{"enabled": {"1"}, "threshold": {"30"}, "amount": {"100"}}
	status, body := b.post("/app/card/auto", on)
	if status != http.StatusConflict || !strings.Contains(body, "bank card") {
		t.Fatalf("automatic top-up without a bank card: %d", status)
	}
	if au, _ := a.db.AutoTopUp(ctx, h.ID); au.Enabled {
		t.Fatal("the automatic top-up is on without a bank card")
	}
	if _, body := b.post("/app/card/auto", url.Values{"enabled": {"1"}, "threshold": {"3.333"}, "amount": {"100"}}); !strings.Contains(body, `id="error"`) || !strings.Contains(body, `value="3.333"`) {
		t.Error("a malformed threshold was not refused with the form kept")
	}

	if status, _ := b.post("/app/card/bank", url.Values{"bank": {"中国建设银行"}, "holder_name": {"王小明"}, "id_number": {id}, "card_number": {cardLuhn("622700123456789012")}}); status != http.StatusOK {
		t.Fatalf("bind bank card: %d", status)
	}
	status, body = b.post("/app/card/auto", on)
	if status != http.StatusOK {
		t.Fatalf("automatic top-up: %d\n%s", status, body)
	}
	cardShows(t, "the page after turning it on", body, "自动充值已开启", `id="auto-consent-at"`, `value="30.00"`, `value="100.00"`)
	if !regexp.MustCompile(`id="auto-enabled"\s+checked`).MatchString(body) {
		t.Error("the box is not ticked")
	}
	au, err := a.db.AutoTopUp(ctx, h.ID)
	if err != nil || !au.Enabled || au.Threshold != 30_00 || au.Amount != 100_00 || au.ConsentAt == nil {
		t.Fatalf("stored: %+v, %v", au, err)
	}

	status, body = b.post("/app/card/auto", url.Values{"threshold": {"30"}, "amount": {"100"}})
	if status != http.StatusOK || !strings.Contains(body, "自动充值已关闭") || strings.Contains(body, `id="auto-consent-at"`) {
		t.Fatalf("turning it off: %d", status)
	}
}

// The SMS notice choices come back as saved.
func TestCardNotices(t *testing.T) {
	a, _ := newPayApp(t, nil)
	h, pin := a.cardholder(t)
	b := a.browser(t)
	b.login("nankai", h.Number, pin)

	status, body := b.post("/app/card/notices", url.Values{"low_balance": {"1"}, "below": {""}})
	if status != http.StatusBadRequest || !strings.Contains(body, `id="error"`) {
		t.Fatalf("low-balance notice without a level: %d", status)
	}
	status, body = b.post("/app/card/notices", url.Values{"top_up": {"1"}, "low_balance": {"1"}, "below": {"15.5"}})
	if status != http.StatusOK {
		t.Fatalf("notices: %d", status)
	}
	cardShows(t, "the page after saving notices", body, "短信通知设置已保存", `value="15.50"`)
	for id, want := range map[string]bool{"notice-topup": true, "notice-low": true, "notice-freeze": false} {
		ticked := regexp.MustCompile(`id="` + id + `"\s+checked`).MatchString(body)
		if ticked != want {
			t.Errorf("%s ticked %v, want %v", id, ticked, want)
		}
	}
	p, err := a.db.NoticePrefs(ctx, h.ID)
	if err != nil || !p.TopUp || !p.LowBalance || p.Freeze || p.LowBalanceBelow != 15_50 {
		t.Fatalf("stored: %+v, %v", p, err)
	}
}

// The network fee moves money from the transition balance to the network
// center once, even when the form is sent twice.
func TestCardNetworkFee(t *testing.T) {
	a := newApp(t, nil)
	net := &onecard.Merchant{SchoolID: a.school.ID, Code: "net", Name: "网络中心", Kind: "network"}
	if err := a.db.CreateMerchant(ctx, net); err != nil {
		t.Fatal(err)
	}
	h, pin := a.cardholder(t)
	if _, err := a.db.Deposit(ctx, &onecard.Deposit{Key: "cash-1", CardholderID: h.ID, Amount: 100_00}); err != nil {
		t.Fatal(err)
	}
	b := a.browser(t)
	b.login("nankai", h.Number, pin)
	_, body := b.get("/app/card")
	cardShows(t, "the card page", body, `id="netfee-form"`, "网络中心", `id="netfee-balance">¥100.00`)
	token := cardField(t, body, "token")

	wrong := "000000"
	if wrong == pin {
		wrong = "111111"
	}
	if status, body := b.post("/app/card/netfee", url.Values{"amount": {"20"}, "pin": {wrong}, "token": {token}}); status != http.StatusForbidden || !strings.Contains(body, "attempts left") {
		t.Fatalf("network fee with a wrong PIN: %d", status)
	}
	if _, body := b.post("/app/card/netfee", url.Values{"amount": {"0"}, "pin": {pin}, "token": {token}}); !strings.Contains(body, `id="error"`) {
		t.Error("a zero fee was not refused")
	}
	if status, _ := b.post("/app/card/netfee", url.Values{"amount": {"20"}, "pin": {pin}, "token": {"forged"}}); status != http.StatusBadRequest {
		t.Errorf("a form without a valid token: %d", status)
	}

	pay := url.Values{"amount": {"20"}, "pin": {pin}, "token": {token}}
	for i := range 2 {
		status, body := b.post("/app/card/netfee", pay)
		if status != http.StatusOK {
			t.Fatalf("network fee, submit %d: %d\n%s", i+1, status, body)
		}
		cardShows(t, "the page after paying", body, "已缴纳网费 ¥20.00", `id="netfee-balance">¥80.00`)
	}
	bal, _ := a.db.Balance(ctx, h.ID)
	if bal.Total != 80_00 {
		t.Errorf("balance %s after one fee of ¥20.00 sent twice, want ¥80.00", onecard.Yuan(bal.Total))
	}
	acc, err := a.db.Account(ctx, net.Account)
	if err != nil || acc.Balance != 20_00 {
		t.Fatalf("the network center has %+v, %v; want ¥20.00", acc, err)
	}

	// A new form pays again.
	_, body = b.get("/app/card")
	if next := cardField(t, body, "token"); next == token {
		t.Fatal("the form's token did not change after paying")
	} else if status, _ := b.post("/app/card/netfee", url.Values{"amount": {"5.50"}, "pin": {pin}, "token": {next}}); status != http.StatusOK {
		t.Fatalf("second fee: %d", status)
	}
	if bal, _ := a.db.Balance(ctx, h.ID); bal.Total != 74_50 {
		t.Errorf("balance %s, want ¥74.50", onecard.Yuan(bal.Total))
	}
}

// Nothing of another cardholder shows on a card page, and nothing one
// does reaches another's card.
func TestCardOtherCardholder(t *testing.T) {
	a, _ := newPayApp(t, nil)
	mine, minePIN := a.cardholder(t)
	mineID := cardIDNumber(a)
	theirs, theirPIN := a.cardholder(t)
	me, them := a.browser(t), a.browser(t)
	me.login("nankai", mine.Number, minePIN)
	them.login("nankai", theirs.Number, theirPIN)

	number := cardLuhn("622700987654321098")
	if status, _ := me.post("/app/card/bank", url.Values{"bank": {"中国建设银行"}, "holder_name": {"王小明"}, "id_number": {mineID}, "card_number": {number}}); status != http.StatusOK {
		t.Fatalf("bind bank card: %d", status)
	}
	if _, err := a.db.BindChannel(ctx, mine.ID, onecard.ChannelWechat, "o-mine-0000000000000000042"); err != nil {
		t.Fatal(err)
	}
	_, mineBody := me.get("/app/card")
	masked := "6227 **** **** " + number[len(number)-4:]
	cardShows(t, "my card page", mineBody, masked, mine.Number, `id="unbind-wechat"`)

	_, body := them.get("/app/card")
	cardShows(t, "their card page", body, theirs.Number, `id="bank-form"`, `id="bind-wechat"`)
	cardHides(t, "their card page", body, mine.Number, masked, "o-mine", `id="unbind-wechat"`)

	// Their actions touch their card only.
	them.post("/app/card/unbind/wechat", nil)
	them.post("/app/card/bank/unbind", nil)
	them.post("/app/card/lost", url.Values{"pin": {theirPIN}})
	if bs, _ := a.db.ChannelBindings(ctx, mine.ID); len(bs) != 1 {
		t.Error("another cardholder's unbind removed my account")
	}
	if _, err := a.db.BankBinding(ctx, mine.ID); err != nil {
		t.Errorf("another cardholder's unbind removed my bank card: %v", err)
	}
	if c, _ := a.db.ActiveCard(ctx, mine.ID); c.Lost {
		t.Error("another cardholder's loss report blocked my card")
	}
	if _, body := me.get("/app/card"); !strings.Contains(body, `id="card-state">正常`) {
		t.Error("another cardholder's loss report ended my session or changed my card")
	}
}

// The page speaks English to an English browser.
func TestCardEnglish(t *testing.T) {
	a, _ := newPayApp(t, nil)
	h, pin := a.cardholder(t)
	b := a.browser(t)
	b.lang = "en"
	b.login("nankai", h.Number, pin)
	_, body := b.get("/app/card")
	cardShows(t, "the English card page", body, "Report lost", "Change query PIN", "Alipay", "Automatic top-up", "I agree", "SMS notices")
	cardHides(t, "the English card page", body, "确认挂失")
}

// Without the payment side, its sections are hidden and their actions
// not found.
func TestCardWithoutPayments(t *testing.T) {
	a := newApp(t, nil)
	h, pin := a.cardholder(t)
	b := a.browser(t)
	b.login("nankai", h.Number, pin)
	for _, path := range []string{"/app/card/bank", "/app/card/bank/unbind", "/app/card/auto", "/app/card/notices", "/app/card/unbind/alipay", "/app/card/netfee"} {
		if status, _ := b.post(path, url.Values{}); status != http.StatusNotFound {
			t.Errorf("POST %s without payments: %d, want 404", path, status)
		}
	}
	if status, _ := b.get("/app/card/bind/alipay"); status != http.StatusNotFound {
		t.Errorf("bind without payments: %d, want 404", status)
	}
}
