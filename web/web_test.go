package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLoginAndHome(t *testing.T) {
	a := newApp(t, nil)
	h, pin := a.cardholder(t)
	b := a.browser(t)
	if status, body := b.get("/app"); status != http.StatusOK || !strings.Contains(body, `id="login-form"`) {
		t.Fatalf("without a session /app should show the login page: %d", status)
	}
	status, body := b.post("/login", url.Values{"school": {"nankai"}, "number": {h.Number}, "pin": {"000000"}})
	if status != http.StatusUnauthorized || !strings.Contains(body, `id="error"`) {
		t.Fatalf("wrong PIN: %d", status)
	}
	body = b.login("nankai", h.Number, pin)
	for _, want := range []string{"¥0.00", "王小明", "过渡余额", "正常"} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if _, body := b.post("/lang", url.Values{"lang": {"en"}, "back": {"/app"}}); !strings.Contains(body, "Transition balance") {
		t.Error("the language switch did not switch to English")
	}
	if _, body := b.post("/logout", nil); !strings.Contains(body, `id="login-form"`) {
		t.Error("logout did not end at the login page")
	}
	if _, body := b.get("/app"); !strings.Contains(body, `id="login-form"`) {
		t.Error("the session survived logout")
	}
}

// A form posted from another site is refused before it reaches a page.
func TestCrossOriginPostRefused(t *testing.T) {
	a := newApp(t, nil)
	h, pin := a.cardholder(t)
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/login", strings.NewReader(url.Values{"school": {"nankai"}, "number": {h.Number}, "pin": {pin}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site login post: %d, want 403", res.StatusCode)
	}
}

// Browsers may ask in English: every page then speaks English.
func TestAcceptLanguage(t *testing.T) {
	a := newApp(t, nil)
	b := a.browser(t)
	b.lang = "en-US,en;q=0.9"
	if _, body := b.get("/login"); !strings.Contains(body, "Query PIN") {
		t.Error("an English browser got a Chinese login page")
	}
}
