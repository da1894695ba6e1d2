package web_test

import (
	"bytes"
	"encoding/base64"
	"html"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/payment"
)

// payCodeImage decodes the PNG of an <img> with the given id.
func payCodeImage(t *testing.T, body, id string) (width, height int) {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `" src="data:image/png;base64,([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no PNG image #%s in the page:\n%s", id, body)
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("#%s: %v", id, err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

// The payment code page shows the code as a QR code, a barcode and grouped
// digits, with the balance it draws from; the code pays once at a POS.
func TestPayCode(t *testing.T) {
	a, p := newPayApp(t, nil)
	h, pin := a.cardholder(t)
	if _, err := a.db.Deposit(ctx, &onecard.Deposit{Key: "d1", CardholderID: h.ID, Amount: 20_00}); err != nil {
		t.Fatal(err)
	}
	b := a.browser(t)
	b.login("nankai", h.Number, pin)

	status, body := b.get("/app/paycode")
	if status != http.StatusOK {
		t.Fatalf("pay code page: %d", status)
	}
	digits := topUpElement(t, body, "paycode-digits")
	if !regexp.MustCompile(`^66\d{2} \d{4} \d{4} \d{4} \d{2}$`).MatchString(digits) {
		t.Fatalf("#paycode-digits is %q, want 18 digits grouped 4-4-4-4-2", digits)
	}
	code := strings.ReplaceAll(digits, " ", "")
	if w, h := payCodeImage(t, body, "paycode-qr"); w != h || w < 200 {
		t.Errorf("the QR code is %dx%d", w, h)
	}
	if w, h := payCodeImage(t, body, "paycode-barcode"); w <= h {
		t.Errorf("the barcode is %dx%d", w, h)
	}
	if strings.Contains(body, code) {
		t.Error("the page holds the code as one string (in a URL or attribute)")
	}
	topUpHas(t, "the pay code page", body, `http-equiv="refresh" content="60"`, `id="paycode-countdown"`, `/static/paycode.js`)
	topUpHas(t, "the balance line", topUpElement(t, body, "paycode-balance"), "过渡余额", "¥20.00", "-¥50.00")

	pay, err := p.svc.PayByCode(ctx, &payment.CodePaymentRequest{No: "S1", MerchantID: a.canteen.ID, TerminalID: 1, Code: code, Amount: 12_50})
	if err != nil || pay.Channel != "onecard" {
		t.Fatalf("paying with the code: %+v %v", pay, err)
	}
	if _, err := p.svc.PayByCode(ctx, &payment.CodePaymentRequest{No: "S2", MerchantID: a.canteen.ID, TerminalID: 1, Code: code, Amount: 1_00}); onecard.ErrorCode(err) != onecard.EINVALID {
		t.Errorf("a used code paid again: %v", err)
	}
	if bal, _ := a.db.Balance(ctx, h.ID); bal.Transition != 7_50 {
		t.Errorf("transition balance %s, want ¥7.50", onecard.Yuan(bal.Transition))
	}

	// The next page shows a new code and the new balance.
	_, body = b.get("/app/paycode")
	if next := strings.ReplaceAll(topUpElement(t, body, "paycode-digits"), " ", ""); next == code {
		t.Error("the page showed the used code again")
	}
	topUpHas(t, "the balance line", topUpElement(t, body, "paycode-balance"), "¥7.50")

	b.lang = "en"
	_, body = b.get("/app/paycode")
	topUpHas(t, "the English page", topUpElement(t, body, "paycode-balance"), "transition balance", "down to -¥50.00")
}

// A card reported lost gets no code: the page says why.
func TestPayCodeLostCard(t *testing.T) {
	a, _ := newPayApp(t, nil)
	h, pin := a.cardholder(t)
	card, err := a.db.ActiveCard(ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.ReportLost(ctx, card.ID); err != nil {
		t.Fatal(err)
	}
	b := a.browser(t)
	b.login("nankai", h.Number, pin)
	status, body := b.get("/app/paycode")
	if status != http.StatusOK {
		t.Fatalf("pay code page of a lost card: %d", status)
	}
	topUpHas(t, "the page of a lost card", body, `id="paycode-blocked"`, "reported lost")
	topUpLacks(t, "the page of a lost card", body, `id="paycode-qr"`, `id="paycode-barcode"`, `id="paycode-digits"`, "http-equiv")
}
