package sandbox

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The authorisation page sends the payer back to the merchant with a code
// for the account they named and the merchant's state, and only to an
// http(s) address.
func TestOAuthPage(t *testing.T) {
	s, srv := newAlipayTestSandbox(t, nil)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	back := "https://card.example.edu/app/card/bind/alipay/callback?x=1"
	res, err := http.Get(srv.URL + "/sandbox/oauth/alipay?" + url.Values{"redirect_uri": {back}, "state": {"s1"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="authorize"`) || !strings.Contains(string(page), defaultPayer("alipay")) {
		t.Fatalf("page: %d\n%s", res.StatusCode, page)
	}

	res, err = noRedirect.PostForm(srv.URL+"/sandbox/oauth/alipay", url.Values{"redirect_uri": {back}, "state": {"s1"}, "account": {"2088000000000042"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	to, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || err != nil || to.Host != "card.example.edu" || to.Query().Get("state") != "s1" || to.Query().Get("x") != "1" {
		t.Fatalf("authorise: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if payer, ok := s.exchangeOAuthCode(to.Query().Get("auth_code")); !ok || payer != "2088000000000042" {
		t.Fatalf("the code names %q, %v", payer, ok)
	}

	for _, bad := range []string{"javascript:alert(1)", "/relative", "ftp://x.example/", ""} {
		res, err := noRedirect.PostForm(srv.URL+"/sandbox/oauth/wechat", url.Values{"redirect_uri": {bad}, "state": {"s"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("redirect_uri %q: %d, want 400", bad, res.StatusCode)
		}
	}
	if res, err := http.Get(srv.URL + "/sandbox/oauth/bank?redirect_uri=" + url.QueryEscape(back)); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("bank has no OAuth page: %v %v", res.StatusCode, err)
	}
}
