package api_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/device"
)

// publicCard is the lookup's answer.
type publicCard struct {
	School     string
	NameMasked string `json:"name_masked"`
	Number     string
}

func TestPublicLookup(t *testing.T) {
	runPay(t, func(t *testing.T, e *payEnv) {
		s := e.school()
		p := e.cardholder(s) // 张三

		var schools struct{ Items []map[string]any }
		e.ok(200, "GET", "/api/v1/public/schools?q="+url.QueryEscape(strings.ToUpper(s.Code)), "", nil, &schools)
		if len(schools.Items) != 1 || schools.Items[0]["code"] != s.Code || schools.Items[0]["settings"] != nil {
			t.Errorf("public schools: %+v", schools.Items)
		}
		e.ok(200, "GET", "/api/v1/public/schools?q=no-such-school", "", nil, &schools)
		if len(schools.Items) != 0 {
			t.Errorf("search for nothing found %+v", schools.Items)
		}

		const addr = "198.51.100.7:4000"
		var c publicCard
		r := e.doFrom(addr, "POST", "/api/v1/public/lookup", map[string]any{"school_id": s.ID, "name": "张三", "number": p.Number})
		if r.status != 200 {
			t.Fatalf("lookup: %d %s", r.status, r.body)
		}
		mustDecode(t, r.body, &c)
		if c.NameMasked != "张*" || c.Number != p.Number || c.School != s.Name || strings.Contains(string(r.body), "张三") {
			t.Errorf("lookup answered %s", r.body)
		}
		// A wrong name and an unknown number are the same not_found.
		wrong := e.doFrom(addr, "POST", "/api/v1/public/lookup", map[string]any{"school_id": s.ID, "name": "李四", "number": p.Number}).
			wantError(t, 404, onecard.ENOTFOUND)
		unknown := e.doFrom(addr, "POST", "/api/v1/public/lookup", map[string]any{"school_id": s.ID, "name": "张三", "number": "99999999"}).
			wantError(t, 404, onecard.ENOTFOUND)
		if wrong.Message != unknown.Message {
			t.Errorf("wrong name %q and unknown number %q answer differently", wrong.Message, unknown.Message)
		}

		// The lookup is limited per client address, whatever the caller
		// claims in X-Forwarded-For.
		lookup := map[string]any{"school_id": s.ID, "name": "张三", "number": p.Number}
		exhaust := func(addr string) {
			t.Helper()
			for range 20 {
				if r := e.doFrom(addr, "POST", "/api/v1/public/lookup", lookup); r.status == 429 {
					r.wantError(t, 429, onecard.ERATELIMIT)
					return
				}
			}
			t.Fatalf("20 lookups in a row from %s were never rate limited", addr)
		}
		exhaust(addr)
		r = e.doFrom(addr, "POST", "/api/v1/public/lookup", lookup, "X-Forwarded-For", "203.0.113.200")
		r.wantError(t, 429, onecard.ERATELIMIT)
		// An IPv6 host holds a whole /64: another address in it is the
		// same client.
		exhaust("[2001:db8::1]:1")
		e.doFrom("[2001:db8::2]:1", "POST", "/api/v1/public/lookup", lookup).wantError(t, 429, onecard.ERATELIMIT)
		if r := e.doFrom("203.0.113.9:5000", "POST", "/api/v1/public/lookup", lookup); r.status != 200 {
			t.Errorf("another address: %d %s", r.status, r.body)
		}
	})
}

// topUp is a top-up order as the API answers it.
type topUp struct {
	No           string
	CardholderID int64 `json:"cardholder_id"`
	Channel      string
	Kind         string
	Amount       int64
	Total        int64
	State        string
	PayURL       string `json:"pay_url"`
}

func mustDecode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

// open is the payer's browser opening a pay URL (the sandbox's checkout).
func (e *payEnv) open(payURL string) {
	e.t.Helper()
	res, err := http.Get(payURL)
	if err != nil {
		e.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		e.t.Fatalf("pay URL %s: status %d", payURL, res.StatusCode)
	}
}

// get fetches a page of the API's listener (not the handler directly), as
// a payer's browser does.
func (e *payEnv) get(path string) (int, string) {
	e.t.Helper()
	res, err := http.Get(e.url + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestPublicTopUpEndToEnd(t *testing.T) {
	runPay(t, func(t *testing.T, e *payEnv) {
		s := e.school()
		p := e.cardholder(s)
		body := map[string]any{"school_id": s.ID, "name": "张三", "number": p.Number, "channel": "alipay",
			"amount": 50_00, "phone": "13800138000", "key": "k-1", "agree_terms": true}

		noTerms := map[string]any{}
		for k, v := range body {
			noTerms[k] = v
		}
		noTerms["agree_terms"] = false
		e.do("POST", "/api/v1/public/topups", "", noTerms).wantError(t, 400, onecard.EINVALID)
		e.do("POST", "/api/v1/public/topups", "", `{"school_id": 1, "name": `).wantError(t, 400, onecard.EINVALID)

		var out struct {
			No     string
			State  string
			Amount int64
			Total  int64
			PayURL string `json:"pay_url"`
			Card   publicCard
		}
		r := e.do("POST", "/api/v1/public/topups", "", body)
		if r.status != 201 {
			t.Fatalf("public top-up: %d %s", r.status, r.body)
		}
		mustDecode(t, r.body, &out)
		if out.No == "" || out.PayURL == "" || out.State != "pending" || out.Amount != 50_00 || out.Card.NameMasked != "张*" {
			t.Fatalf("public top-up answered %s", r.body)
		}
		for _, leak := range []string{"张三", "cardholder_id", "13800138000", "transfer_id"} {
			if strings.Contains(string(r.body), leak) {
				t.Errorf("public top-up answer shows %q: %s", leak, r.body)
			}
		}
		// A retry with the same key is the same order.
		var again struct{ No string }
		e.ok(201, "POST", "/api/v1/public/topups", "", body, &again)
		if again.No != out.No {
			t.Errorf("retry opened %s, first %s", again.No, out.No)
		}

		// Pending: the state answers, the result page waits and reloads.
		var st map[string]any
		e.ok(200, "GET", "/api/v1/public/topups/"+out.No, "", nil, &st)
		if st["state"] != "pending" || st["amount"] != float64(50_00) || len(st) != 4 {
			t.Errorf("public state: %+v", st)
		}
		if card, _ := st["card"].(string); !strings.HasSuffix(card, p.Number[len(p.Number)-4:]) || strings.Contains(card, p.Number) {
			t.Errorf("public state card %q, want the number masked", st["card"])
		}
		code, page := e.get("/pay/result/" + out.No)
		if code != 200 || !strings.Contains(page, "等待支付结果") || !strings.Contains(page, `http-equiv="refresh" content="3"`) || !strings.Contains(page, "¥50.00") {
			t.Errorf("pending result page (%d):\n%s", code, page)
		}

		// The payer opens the page (Alipay's wap pay creates the trade
		// then) and pays; the sandbox notifies /pay/notify/alipay, which
		// credits the transition balance without anyone asking.
		e.open(out.PayURL)
		if err := e.sb.Pay(channel.Alipay, out.No, ""); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the notification's credit", func() bool { return e.balance(p).Transition == 50_00 })
		eventually(t, "the notification's acknowledgement", func() bool { return e.sb.Order(channel.Alipay, out.No).Acked })
		e.ok(200, "GET", "/api/v1/public/topups/"+out.No, "", nil, &st)
		if st["state"] != "credited" {
			t.Errorf("after paying: %+v", st)
		}
		code, page = e.get("/pay/result/" + out.No)
		if code != 200 || !strings.Contains(page, "充值成功") || strings.Contains(page, "refresh") || !strings.Contains(page, "¥50.00") {
			t.Errorf("credited result page (%d):\n%s", code, page)
		}
		if strings.Contains(page, "张") || strings.Contains(page, p.Number) {
			t.Errorf("the result page shows cardholder data:\n%s", page)
		}
		if code, page := e.get("/pay/result/T-no-such-order"); code != 404 || !strings.Contains(page, "订单不存在") {
			t.Errorf("unknown order page (%d):\n%s", code, page)
		}
		e.do("GET", "/api/v1/public/topups/T-no-such-order", "", nil).wantError(t, 404, onecard.ENOTFOUND)

		// A second delivery of the same notification moves nothing.
		if err := e.sb.Pay(channel.Alipay, out.No, ""); err != nil {
			t.Fatal(err)
		}
		if got := e.balance(p).Transition; got != 50_00 {
			t.Errorf("transition balance %d after a repeated payment, want 5000", got)
		}
	})
}

func TestNotifyRefusesForgedNotifications(t *testing.T) {
	runPay(t, func(t *testing.T, e *payEnv) {
		s := e.school()
		p := e.cardholder(s)
		var out struct{ No string }
		e.ok(201, "POST", "/api/v1/public/topups", "", map[string]any{"school_id": s.ID, "name": "张三", "number": p.Number,
			"channel": "alipay", "amount": 20_00, "key": "forge", "agree_terms": true}, &out)

		// A notification as Alipay would send it, signed with a made-up
		// signature.
		form := url.Values{"app_id": {"2021000000000000"}, "out_trade_no": {out.No}, "trade_no": {"2026112122001"},
			"trade_status": {"TRADE_SUCCESS"}, "total_amount": {"20.00"}, "buyer_id": {"2088000000000001"},
			"gmt_payment": {time.Now().Format("2006-01-02 15:04:05")}, "notify_time": {time.Now().Format("2006-01-02 15:04:05")},
			"sign_type": {"RSA2"}, "sign": {"Zm9yZ2Vk"}}
		res, err := http.Post(e.url+"/pay/notify/alipay", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		ack, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.TrimSpace(string(ack)) == "success" {
			t.Errorf("a forged notification was acknowledged: %d %s", res.StatusCode, ack)
		}
		// Unsigned, and for a channel that is not there.
		form.Del("sign")
		res, err = http.Post(e.url+"/pay/notify/alipay", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		res, err = http.Post(e.url+"/pay/notify/paypal", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("notification for an unknown channel: %d", res.StatusCode)
		}
		if got := e.balance(p).Total; got != 0 {
			t.Errorf("balance %d after forged notifications", got)
		}
		var tp topUp
		e.ok(200, "GET", "/api/v1/topups/"+out.No, e.admin, nil, &tp)
		if tp.State != "pending" {
			t.Errorf("order %s after forged notifications", tp.State)
		}
		if !strings.Contains(e.logs.String(), "notification refused") {
			t.Error("the forged notification was not logged")
		}
	})
}

func TestBoundTopUp(t *testing.T) {
	runPay(t, func(t *testing.T, e *payEnv) {
		s := e.school()
		x, y := e.cardholder(s), e.cardholder(s)
		tx, ty := e.login(x), e.login(y)

		var rules struct {
			Rules    onecard.TopUpRules
			Channels []string
		}
		e.ok(200, "GET", "/api/v1/me/topup-rules", tx, nil, &rules)
		if rules.Rules.Max != s.Settings.TopUp.Max || len(rules.Rules.QuickAmounts) == 0 || strings.Join(rules.Channels, ",") != "alipay,wechat,bank" {
			t.Errorf("top-up rules: %+v", rules)
		}

		// Nothing bound: a bound top-up is refused.
		e.do("POST", "/api/v1/me/topups", tx, map[string]any{"channel": "wechat", "amount": 100_00, "key": "t0"}).wantError(t, 409, onecard.ECONFLICT)

		const openid = "o-x-bound-0001"
		var b struct {
			Channel       string
			AccountMasked string `json:"account_masked"`
		}
		e.ok(201, "POST", "/api/v1/me/bindings/wechat", tx, map[string]any{"auth_code": e.sb.IssueOAuthCode(channel.Wechat, openid)}, &b)
		if b.Channel != "wechat" || b.AccountMasked == "" || b.AccountMasked == openid {
			t.Errorf("binding: %+v", b)
		}
		// A used authorisation code binds nothing.
		e.do("POST", "/api/v1/me/bindings/alipay", ty, map[string]any{"auth_code": "a-not-issued"}).wantError(t, 400, onecard.EINVALID)
		e.do("POST", "/api/v1/me/bindings/paypal", tx, map[string]any{"auth_code": "x"}).wantError(t, 400, onecard.EINVALID)

		var bindings struct {
			Channels []map[string]any
			BankCard map[string]any `json:"bank_card"`
		}
		e.ok(200, "GET", "/api/v1/me/bindings", tx, nil, &bindings)
		if len(bindings.Channels) != 1 || bindings.BankCard != nil || strings.Contains(string(mustJSON(bindings)), openid) {
			t.Errorf("bindings: %+v", bindings)
		}

		var order topUp
		e.ok(201, "POST", "/api/v1/me/topups", tx, map[string]any{"channel": "wechat", "amount": 100_00, "key": "t1"}, &order)
		if order.State != "pending" || order.PayURL == "" || order.Kind != "bound" || order.CardholderID != x.ID {
			t.Fatalf("bound top-up: %+v", order)
		}
		// Another cardholder cannot read it, nor refund it, nor see it listed.
		theirs := e.do("GET", "/api/v1/me/topups/"+order.No, ty, nil).wantError(t, 404, onecard.ENOTFOUND)
		absent := e.do("GET", "/api/v1/me/topups/T20260101000000000000", ty, nil).wantError(t, 404, onecard.ENOTFOUND)
		if strings.Replace(theirs.Message, order.No, "", 1) != strings.Replace(absent.Message, "T20260101000000000000", "", 1) {
			t.Errorf("another's order %q and an absent one %q answer differently", theirs.Message, absent.Message)
		}
		e.do("GET", "/api/v1/topups/"+order.No, ty, nil).wantError(t, 403, onecard.EFORBIDDEN)
		var list struct{ Items []topUp }
		e.ok(200, "GET", "/api/v1/me/topups", ty, nil, &list)
		if len(list.Items) != 0 {
			t.Errorf("another cardholder lists %+v", list.Items)
		}

		if err := e.sb.Pay(channel.Wechat, order.No, openid); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the credit", func() bool {
			var o topUp
			e.ok(200, "GET", "/api/v1/me/topups/"+order.No, tx, nil, &o)
			return o.State == "credited"
		})
		if got := e.balance(x).Transition; got != 100_00 {
			t.Errorf("transition balance %d, want 10000", got)
		}
		e.ok(200, "GET", "/api/v1/me/topups", tx, nil, &list)
		if len(list.Items) != 1 || list.Items[0].No != order.No {
			t.Errorf("my top-ups: %+v", list.Items)
		}

		// Paid by an account that is not the bound one: the money does not
		// reach the card and goes back.
		var other topUp
		e.ok(201, "POST", "/api/v1/me/topups", tx, map[string]any{"channel": "wechat", "amount": 50_00, "key": "t2"}, &other)
		if err := e.sb.Pay(channel.Wechat, other.No, "o-someone-else"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the rejection", func() bool {
			var o topUp
			e.ok(200, "GET", "/api/v1/me/topups/"+other.No, tx, nil, &o)
			return o.State == "returned" || o.State == "rejected"
		})
		if got := e.balance(x).Transition; got != 100_00 {
			t.Errorf("transition balance %d after a stranger paid, want 10000", got)
		}

		// Settings of the cardholder's own.
		var notices onecard.NoticePrefs
		e.ok(200, "PUT", "/api/v1/me/notices", tx, map[string]any{"top_up": true, "low_balance": true, "freeze": false, "low_balance_below": 10_00}, &notices)
		if !notices.TopUp || !notices.LowBalance || notices.LowBalanceBelow != 10_00 {
			t.Errorf("notices: %+v", notices)
		}
		e.ok(200, "GET", "/api/v1/me/notices", ty, nil, &notices)
		if notices.TopUp && notices.LowBalanceBelow == 10_00 {
			t.Errorf("another cardholder's notices changed: %+v", notices)
		}
		var auto onecard.AutoTopUp
		e.ok(200, "GET", "/api/v1/me/auto-topup", tx, nil, &auto)
		if auto.Enabled || auto.CardholderID != x.ID {
			t.Errorf("auto top-up: %+v", auto)
		}
		// Turning it on needs a bank card bound for top-ups.
		e.do("PUT", "/api/v1/me/auto-topup", tx, map[string]any{"enabled": true, "threshold": 20_00, "amount": 50_00}).wantError(t, 409, onecard.ECONFLICT)

		e.ok(204, "DELETE", "/api/v1/me/bindings/wechat", tx, nil, nil)
		e.do("DELETE", "/api/v1/me/bindings/wechat", tx, nil).wantError(t, 404, onecard.ENOTFOUND)
		e.ok(200, "GET", "/api/v1/me/bindings", tx, nil, &bindings)
		if len(bindings.Channels) != 0 {
			t.Errorf("after unbinding: %+v", bindings)
		}

		// Operators do not use /me, cardholders not the public unbind's
		// account of someone else: the code proves the account.
		e.do("GET", "/api/v1/me/bindings", e.admin, nil).wantError(t, 403, onecard.EFORBIDDEN)
		e.ok(201, "POST", "/api/v1/me/bindings/alipay", ty, map[string]any{"auth_code": e.sb.IssueOAuthCode(channel.Alipay, "2088000000000777")}, nil)
		e.ok(204, "POST", "/api/v1/public/bindings/alipay/unbind", "", map[string]any{"auth_code": e.sb.IssueOAuthCode(channel.Alipay, "2088000000000777")}, nil)
		e.ok(200, "GET", "/api/v1/me/bindings", ty, nil, &bindings)
		if len(bindings.Channels) != 0 {
			t.Errorf("after the account unbound itself: %+v", bindings)
		}
	})
}

func TestBankCardAndBankTopUp(t *testing.T) {
	runPay(t, func(t *testing.T, e *payEnv) {
		s := e.school()
		p := e.cardholder(s)
		tp := e.login(p)
		idNumber := "110105200001" + p.PIN // env.cardholder's PIN is the ID's last six digits
		card := map[string]any{"bank": "中国建设银行", "holder_name": "张三", "id_number": idNumber, "card_number": "6222 0212 3456 7890 128"}

		// The name is checked against the cardholder's: another binds nothing.
		wrong := map[string]any{}
		for k, v := range card {
			wrong[k] = v
		}
		wrong["holder_name"] = "李四"
		e.do("POST", "/api/v1/me/bank-card", tp, wrong).wantError(t, 400, onecard.EINVALID)
		e.do("POST", "/api/v1/me/topups/bank/code", tp, nil).wantError(t, 409, onecard.ECONFLICT)
		e.do("DELETE", "/api/v1/me/bank-card", tp, nil).wantError(t, 404, onecard.ENOTFOUND)

		var bb onecard.BankBinding
		e.ok(201, "POST", "/api/v1/me/bank-card", tp, card, &bb)
		if bb.BoundVia != "app" || !strings.HasSuffix(bb.CardMasked, "0128") || strings.Contains(string(mustJSON(bb)), "6222021234567890128") {
			t.Errorf("bank binding: %+v", bb)
		}
		var bindings struct {
			BankCard *onecard.BankBinding `json:"bank_card"`
		}
		e.ok(200, "GET", "/api/v1/me/bindings", tp, nil, &bindings)
		if bindings.BankCard == nil || bindings.BankCard.CardMasked != bb.CardMasked {
			t.Errorf("bindings: %+v", bindings)
		}

		// The code goes to the cardholder's phone.
		e.do("POST", "/api/v1/me/topups/bank/code", tp, nil).wantError(t, 409, onecard.ECONFLICT) // no phone yet
		e.ok(200, "PUT", fmt.Sprintf("/api/v1/cardholders/%d/phone", p.ID), e.admin, map[string]any{"phone": "13912345678"}, nil)
		var sent struct{ Phone string }
		e.ok(200, "POST", "/api/v1/me/topups/bank/code", tp, nil, &sent)
		if sent.Phone == "" || sent.Phone == "13912345678" {
			t.Errorf("code sent to %q, want the phone masked", sent.Phone)
		}
		e.do("POST", "/api/v1/me/topups/bank/code", tp, nil).wantError(t, 429, onecard.ERATELIMIT)
		code := e.sms.code(t, "13912345678")
		bad := "000000"
		if code == bad {
			bad = "111111"
		}
		e.do("POST", "/api/v1/me/topups/bank", tp, map[string]any{"amount": 60_00, "sms_code": bad, "key": "b1"}).wantError(t, 401, onecard.EWRONGPIN)
		var order topUp
		e.ok(201, "POST", "/api/v1/me/topups/bank", tp, map[string]any{"amount": 60_00, "sms_code": code, "key": "b1"}, &order)
		if order.State != "credited" || order.Channel != "bank" || order.Kind != "bank" {
			t.Errorf("bank top-up: %+v", order)
		}
		if got := e.balance(p).Transition; got != 60_00 {
			t.Errorf("transition balance %d after a bank top-up of 6000", got)
		}

		// With a bank card bound, the automatic top-up can be turned on.
		var auto onecard.AutoTopUp
		e.ok(200, "PUT", "/api/v1/me/auto-topup", tp, map[string]any{"enabled": true, "threshold": 20_00, "amount": 50_00}, &auto)
		if !auto.Enabled || auto.ConsentAt == nil || auto.Amount != 50_00 {
			t.Errorf("auto top-up: %+v", auto)
		}

		e.ok(204, "DELETE", "/api/v1/me/bank-card", tp, nil, nil)
		bindings.BankCard = nil
		e.ok(200, "GET", "/api/v1/me/bindings", tp, nil, &bindings)
		if bindings.BankCard != nil {
			t.Errorf("after unbinding: %+v", bindings.BankCard)
		}
	})
}

func TestOperatorRefundsAndCounterSales(t *testing.T) {
	runPay(t, func(t *testing.T, e *payEnv) {
		s, other := e.school(), e.school()
		p := e.cardholder(s)
		m := e.merchant(s)
		finance := e.operator(onecard.RoleFinance, s.ID)
		hall := e.operator(onecard.RoleOperator, s.ID)
		otherAdmin := e.operator(onecard.RoleAdmin, other.ID)
		auditor := e.operator(onecard.RoleAuditor, 0)

		var order struct{ No string }
		e.ok(201, "POST", "/api/v1/public/topups", "", map[string]any{"school_id": s.ID, "name": "张三", "number": p.Number,
			"channel": "wechat", "amount": 80_00, "key": "mistake", "agree_terms": true}, &order)
		refund := "/api/v1/topups/" + order.No + "/refund"
		// Not credited yet.
		e.do("POST", refund, finance, map[string]any{"reason": "wrong card"}).wantError(t, 409, onecard.ECONFLICT)
		if err := e.sb.Pay(channel.Wechat, order.No, ""); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the credit", func() bool { return e.balance(p).Transition == 80_00 })

		e.do("POST", refund, hall, map[string]any{"reason": "wrong card"}).wantError(t, 403, onecard.EFORBIDDEN)
		e.do("POST", refund, otherAdmin, map[string]any{"reason": "wrong card"}).wantError(t, 403, onecard.EFORBIDDEN)
		e.do("GET", "/api/v1/topups/"+order.No, otherAdmin, nil).wantError(t, 403, onecard.EFORBIDDEN)
		e.do("POST", refund, finance, map[string]any{}).wantError(t, 400, onecard.EINVALID)
		var tp topUp
		e.ok(200, "GET", "/api/v1/topups/"+order.No, auditor, nil, &tp)
		if tp.State != "credited" || tp.Amount != 80_00 {
			t.Errorf("operator's view: %+v", tp)
		}
		e.ok(200, "POST", refund, finance, map[string]any{"reason": "the parent topped up the wrong card"}, &tp)
		if tp.State != "refunded" {
			t.Errorf("after refund: %+v", tp)
		}
		if got := e.balance(p).Transition; got != 0 {
			t.Errorf("transition balance %d after the refund", got)
		}
		// A second refund (a retry) takes nothing more.
		if r := e.do("POST", refund, finance, map[string]any{"reason": "again"}); r.status != 200 && r.status != 409 {
			t.Errorf("second refund: %d %s", r.status, r.body)
		}
		if got := e.balance(p).Transition; got != 0 {
			t.Errorf("transition balance %d after a second refund", got)
		}
		e.do("POST", "/api/v1/topups/T-none/refund", finance, map[string]any{"reason": "x"}).wantError(t, 404, onecard.ENOTFOUND)

		// A counter sale with an Alipay code, then a partial refund.
		sale := map[string]any{"merchant_id": m.ID, "code": e.sb.IssueCode(channel.Alipay, "", false), "amount": 12_50, "no": "S1"}
		e.do("POST", "/api/v1/code-payments", otherAdmin, sale).wantError(t, 403, onecard.EFORBIDDEN)
		e.do("POST", "/api/v1/code-payments", auditor, sale).wantError(t, 403, onecard.EFORBIDDEN)
		var cp onecard.CodePayment
		e.ok(200, "POST", "/api/v1/code-payments", hall, sale, &cp)
		if cp.State != onecard.CodePaid || cp.Channel != "alipay" || cp.Amount != 12_50 || cp.MerchantID != m.ID || cp.SchoolID != s.ID {
			t.Fatalf("counter sale: %+v", cp)
		}
		var again onecard.CodePayment
		e.ok(200, "POST", "/api/v1/code-payments", hall, sale, &again)
		if again.No != cp.No {
			t.Errorf("a retried sale is %s, first %s", again.No, cp.No)
		}
		e.ok(200, "GET", "/api/v1/code-payments/"+cp.No, auditor, nil, &again)
		e.do("GET", "/api/v1/code-payments/"+cp.No, otherAdmin, nil).wantError(t, 403, onecard.EFORBIDDEN)
		cpRefund := "/api/v1/code-payments/" + cp.No + "/refund"
		e.do("POST", cpRefund, hall, map[string]any{"refund_no": "R1", "amount": 2_50}).wantError(t, 403, onecard.EFORBIDDEN)
		e.ok(200, "POST", cpRefund, finance, map[string]any{"refund_no": "R1", "amount": 2_50}, &cp)
		e.ok(200, "POST", cpRefund, finance, map[string]any{"refund_no": "R1", "amount": 2_50}, &cp)
		if cp.Refunded != 2_50 {
			t.Errorf("refunded %d after the same refund twice, want 250", cp.Refunded)
		}
		e.do("POST", cpRefund, finance, map[string]any{"refund_no": "R2", "amount": 10_01}).wantError(t, 400, onecard.EINVALID)
		e.do("POST", "/api/v1/code-payments", hall, map[string]any{"merchant_id": m.ID, "code": "123", "amount": 1_00, "no": "S2"}).
			wantError(t, 400, onecard.EINVALID)

		// A one-card code at the counter: the card's transition balance pays.
		e.deposit(p, 10_00)
		var pc onecard.PayCode
		e.ok(200, "POST", "/api/v1/me/paycode", e.login(p), nil, &pc)
		var oc onecard.CodePayment
		e.ok(200, "POST", "/api/v1/code-payments", hall, map[string]any{"merchant_id": m.ID, "code": pc.Code, "amount": 3_00, "no": "S3"}, &oc)
		if oc.State != onecard.CodePaid || oc.Channel != "onecard" || oc.CardholderID != p.ID {
			t.Errorf("one-card code at the counter: %+v", oc)
		}
		if got := e.balance(p).Total; got != 7_00 {
			t.Errorf("balance %d after a counter sale of 300 from 1000", got)
		}

		// Reconciliation is deployment-wide: platform operators only.
		day := time.Now().In(s.Settings.Location()).Format("2006-01-02")
		e.do("POST", "/api/v1/reconciliations", finance, map[string]any{"channel": "alipay", "day": day}).wantError(t, 403, onecard.EFORBIDDEN)
		e.do("POST", "/api/v1/reconciliations", e.admin, map[string]any{"channel": "alipay", "day": "2026-13-45"}).wantError(t, 400, onecard.EINVALID)
		var rec onecard.Reconciliation
		e.ok(201, "POST", "/api/v1/reconciliations", e.admin, map[string]any{"channel": "alipay", "day": day}, &rec)
		if rec.Channel != "alipay" || rec.Day != day || rec.Matched == 0 {
			t.Errorf("reconciliation: %+v", rec)
		}
		var recs struct{ Items []onecard.Reconciliation }
		e.ok(200, "GET", "/api/v1/reconciliations", auditor, nil, &recs)
		if len(recs.Items) != 1 {
			t.Errorf("reconciliations: %+v", recs.Items)
		}
		e.do("GET", "/api/v1/reconciliations", finance, nil).wantError(t, 403, onecard.EFORBIDDEN)
	})
}

func TestCodePaymentAtThePOS(t *testing.T) {
	runPay(t, func(t *testing.T, e *payEnv) {
		s := e.school()
		p := e.cardholder(s)
		m := e.merchant(s)
		e.deposit(p, 30_00)
		var reg struct {
			Terminal onecard.Terminal
			Key      string
		}
		e.ok(201, "POST", fmt.Sprintf("/api/v1/schools/%d/terminals", s.ID), e.admin,
			map[string]any{"code": "pos-9", "name": "一食堂 9号机", "kind": "pos", "merchant_id": m.ID}, &reg)
		key, err := hex.DecodeString(reg.Key)
		if err != nil {
			t.Fatal(err)
		}
		pos := &device.Client{BaseURL: e.devices, School: s.Code, Terminal: "pos-9", Key: key}
		ctx := context.Background()

		var code onecard.PayCode
		e.ok(200, "POST", "/api/v1/me/paycode", e.login(p), nil, &code)
		if !strings.HasPrefix(code.Code, "66") || len(code.Code) != 18 {
			t.Fatalf("payment code %+v", code)
		}
		res, err := pos.CodePay(ctx, &device.CodePayRequest{No: "1001", Code: code.Code, Amount: 12_00})
		if err != nil {
			t.Fatal(err)
		}
		if res.State != onecard.CodePaid || res.Channel != "onecard" || res.Amount != 12_00 || res.No == "" {
			t.Errorf("code payment: %+v", res)
		}
		if got := e.balance(p).Total; got != 18_00 {
			t.Errorf("balance %d after paying 1200 of 3000", got)
		}
		// The POS retries after losing the answer: charged once.
		again, err := pos.CodePay(ctx, &device.CodePayRequest{No: "1001", Code: code.Code, Amount: 12_00})
		if err != nil || again.No != res.No {
			t.Errorf("retry: %+v %v", again, err)
		}
		// The code is spent: another sale with it is refused in the API's
		// error shape.
		_, err = pos.CodePay(ctx, &device.CodePayRequest{No: "1002", Code: code.Code, Amount: 1_00})
		var oe *onecard.Error
		if !errors.As(err, &oe) || oe.Code != onecard.EINVALID {
			t.Errorf("a used code: %v", err)
		}
		if got := e.balance(p).Total; got != 18_00 {
			t.Errorf("balance %d after the refusals, want 1800", got)
		}
		var cp onecard.CodePayment
		e.ok(200, "GET", "/api/v1/code-payments/"+res.No, e.admin, nil, &cp)
		if cp.MerchantID != m.ID || cp.TerminalID != reg.Terminal.ID || cp.CardholderID != p.ID {
			t.Errorf("the sale as stored: %+v", cp)
		}

		// A WeChat code through the channel.
		wx, err := pos.CodePay(ctx, &device.CodePayRequest{No: "1003", Code: e.sb.IssueCode(channel.Wechat, "", false), Amount: 8_80})
		if err != nil || wx.State != onecard.CodePaid || wx.Channel != "wechat" {
			t.Errorf("wechat code payment: %+v %v", wx, err)
		}
		// Malformed JSON.
		err = pos.Do(ctx, http.MethodPost, "/device/v1/codepay", json.RawMessage(`{"no": 5}`), nil)
		if !errors.As(err, &oe) || oe.Code != onecard.EINVALID {
			t.Errorf("malformed request: %v", err)
		}
	})
}

func TestMalformedPaymentRequests(t *testing.T) {
	runPay(t, func(t *testing.T, e *payEnv) {
		s := e.school()
		tp := e.login(e.cardholder(s))
		for _, c := range []struct{ method, path, token, body string }{
			{"POST", "/api/v1/public/lookup", "", `{"school_id": 1, "name": "张三"`},
			{"POST", "/api/v1/public/topups", "", `not json`},
			{"POST", "/api/v1/me/topups", tp, `{"channel": "wechat", "amount": "ten", "key": "k"}`},
			{"PUT", "/api/v1/me/notices", tp, `{"top_up": true}`},
			{"POST", "/api/v1/me/bindings/wechat", tp, `{"auth_code": "c", "account": "o-mine"}`},
		} {
			r := e.do(c.method, c.path, c.token, c.body)
			er := r.wantError(t, 400, onecard.EINVALID)
			if er.Status != 400 || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("%s %s: %+v", c.method, c.path, er)
			}
		}
	})
}
