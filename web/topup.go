package web

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel/wechat"
	"github.com/onecard-campus/onecard/clientaddr"
)

// topUpRoutes registers the cardholder's top-up (the form, the bank code,
// the submission and one order's page) and the payment code.
func (s *Server) topUpRoutes() {
	s.mux.HandleFunc("GET /app/topup", s.cardholder(s.topUpPage))
	s.mux.HandleFunc("POST /app/topup", s.cardholder(s.topUpSubmit))
	s.mux.HandleFunc("POST /app/topup/code", s.cardholder(s.topUpCode))
	// The language switch comes back to the page's path with a GET.
	s.mux.HandleFunc("GET /app/topup/code", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/app/topup", http.StatusSeeOther)
	})
	s.mux.HandleFunc("GET /app/topup/{no}", s.cardholder(s.topUpOrderPage))
	s.payCodeRoutes()
}

// topUpData is the top-up page: what the school allows, the channels this
// cardholder can pay with, what was chosen (after an error) and the
// recent orders.
type topUpData struct {
	Available bool // the payment side is on
	Rules     onecard.TopUpRules
	Channels  []string // offered: bound alipay/wechat, bank with an agreement
	Unbound   []string // on, but no account bound: bind under Card
	BankOn    bool     // the bank link is on (its daily limit applies)
	BankCard  string   // the bound bank card, masked
	Fees      []topUpFee
	Key       string // idempotency key of the next submission
	Channel   string // chosen channel
	Amount    int64  // chosen quick amount, fen
	Custom    string // custom amount typed, yuan
	Orders    []*onecard.TopUp
}

// topUpFee is one channel's fee, as a rate ("0.60%"); "" when free.
type topUpFee struct {
	Channel string
	Rate    string
}

// topUpChoice is what the form sent, kept to fill it again after an error.
type topUpChoice struct {
	Channel, Custom string
	Amount          int64
}

func (s *Server) topUpPage(w http.ResponseWriter, r *http.Request) {
	s.renderTopUp(w, r, http.StatusOK, topUpChoice{}, "", "")
}

// renderTopUp shows the form with a notice or an error. A fresh key goes
// with every rendering: a submission after an error is a new request,
// while a double click sends the same key twice and opens one order.
func (s *Server) renderTopUp(w http.ResponseWriter, r *http.Request, status int, c topUpChoice, notice, errMsg string) {
	ctx := r.Context()
	h := viewer(ctx).Cardholder
	school, err := s.cfg.Schools.School(ctx, h.SchoolID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &topUpData{Rules: school.Settings.WithDefaults().TopUp, Key: newFormKey(), Channel: c.Channel, Amount: c.Amount, Custom: c.Custom}
	if s.cfg.Payments != nil {
		d.Available = true
		if err := s.topUpChannels(r, h.ID, d); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if s.cfg.PaymentStore != nil {
		if d.Orders, err = s.cfg.PaymentStore.TopUps(ctx, h.ID, 10); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if d.Channel == "" && len(d.Channels) > 0 {
		d.Channel = d.Channels[0]
	}
	if d.Amount == 0 && d.Custom == "" && len(d.Rules.QuickAmounts) > 0 {
		d.Amount = d.Rules.QuickAmounts[0]
	}
	s.render(w, r, status, "topup", &view{Title: "topup.title", Nav: "topup", Data: d, Notice: notice, Error: errMsg,
		Loc: school.Settings.Location()})
}

// topUpChannels fills the channels the cardholder can pay with: Alipay and
// WeChat only from a bound account (the order names it, seed 000), the
// bank only with a signed agreement; and every channel's fee.
func (s *Server) topUpChannels(r *http.Request, cardholderID int64, d *topUpData) error {
	ctx := r.Context()
	bound := map[string]bool{}
	bindings, err := s.cfg.PaymentStore.ChannelBindings(ctx, cardholderID)
	if err != nil {
		return err
	}
	for _, b := range bindings {
		bound[b.Channel] = true
	}
	for _, n := range s.cfg.Payments.Channels() {
		ch := string(n)
		d.Fees = append(d.Fees, topUpFee{Channel: ch, Rate: feeRate(d.Rules.FeeRates[ch])})
		switch {
		case ch == onecard.ChannelBank:
			d.BankOn = true
			a, err := s.cfg.PaymentStore.BankAgreement(ctx, cardholderID)
			if err != nil && onecard.ErrorCode(err) != onecard.ENOTFOUND {
				return err
			}
			if a == "" {
				continue
			}
			d.Channels = append(d.Channels, ch)
			if s.cfg.Banks != nil {
				if b, err := s.cfg.Banks.BankBinding(ctx, cardholderID); err == nil {
					d.BankCard = b.CardMasked
				}
			}
		case bound[ch]:
			d.Channels = append(d.Channels, ch)
		default:
			d.Unbound = append(d.Unbound, ch)
		}
	}
	return nil
}

// topUpSubmit opens the order: Alipay and WeChat send the payer to the
// gateway's page, the bank answers at once and the order's page shows it.
func (s *Server) topUpSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := s.i18n.localizer(r)
	h := viewer(ctx).Cardholder
	c := topUpChoiceOf(r)
	if s.cfg.Payments == nil {
		s.renderTopUp(w, r, http.StatusServiceUnavailable, c, "", l.T("topup.unavailable"))
		return
	}
	amount, msg := formAmount(r, l)
	if msg != "" {
		s.renderTopUp(w, r, http.StatusBadRequest, c, "", msg)
		return
	}
	key := strings.TrimSpace(r.PostFormValue("key"))
	if key == "" {
		key = newFormKey()
	}
	switch c.Channel {
	case onecard.ChannelAlipay, onecard.ChannelWechat:
		if ip := payerAddr(r); c.Channel == onecard.ChannelWechat && net.ParseIP(ip) != nil {
			ctx = wechat.WithPayerIP(ctx, ip) // WeChat's H5 page checks the payer's address
		}
		t, err := s.cfg.Payments.TopUpBound(ctx, h.ID, c.Channel, amount, key)
		if err != nil {
			s.renderTopUp(w, r, topUpStatus(err), c, "", s.message(l, err))
			return
		}
		if t.State == onecard.TopUpPending && t.PayURL != "" {
			http.Redirect(w, r, s.payURL(r, t, "/app/topup/"+t.No), http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/app/topup/"+t.No, http.StatusSeeOther)
	case onecard.ChannelBank:
		code := strings.TrimSpace(r.PostFormValue("sms_code"))
		if code == "" {
			s.renderTopUp(w, r, http.StatusBadRequest, c, "", l.T("topup.error.code"))
			return
		}
		t, err := s.cfg.Payments.TopUpBank(ctx, h.ID, amount, code, key)
		if err != nil {
			s.renderTopUp(w, r, topUpStatus(err), c, "", s.message(l, err))
			return
		}
		http.Redirect(w, r, "/app/topup/"+t.No, http.StatusSeeOther)
	default:
		s.renderTopUp(w, r, http.StatusBadRequest, c, "", l.T("topup.error.channel"))
	}
}

// payURL is where the payer pays an order. Alipay's page sends the payer
// back to the payment result page by itself; WeChat's H5 page returns to
// the redirect_url the merchant appends, which is back here at the
// order's page (path).
func (s *Server) payURL(r *http.Request, t *onecard.TopUp, path string) string {
	if t.Channel != onecard.ChannelWechat {
		return t.PayURL
	}
	u, err := url.Parse(t.PayURL)
	if err != nil {
		return t.PayURL
	}
	scheme := "http"
	if r.TLS != nil || s.cfg.SecureCookies {
		scheme = "https"
	}
	q := u.Query()
	q.Set("redirect_url", scheme+"://"+r.Host+path)
	u.RawQuery = q.Encode()
	return u.String()
}

// topUpCode texts the code that confirms a bank top-up and shows the form
// again as it was, with the masked phone the code went to.
func (s *Server) topUpCode(w http.ResponseWriter, r *http.Request) {
	l := s.i18n.localizer(r)
	c := topUpChoiceOf(r)
	c.Channel = onecard.ChannelBank
	if s.cfg.Payments == nil {
		s.renderTopUp(w, r, http.StatusServiceUnavailable, c, "", l.T("topup.unavailable"))
		return
	}
	phone, err := s.cfg.Payments.RequestBankCode(r.Context(), viewer(r.Context()).Cardholder.ID)
	if err != nil {
		s.renderTopUp(w, r, topUpStatus(err), c, "", s.message(l, err))
		return
	}
	s.renderTopUp(w, r, http.StatusOK, c, l.T("topup.code_sent", "Phone", phone), "")
}

func topUpChoiceOf(r *http.Request) topUpChoice {
	c := topUpChoice{Channel: r.PostFormValue("channel"), Custom: strings.TrimSpace(r.PostFormValue("amount_custom"))}
	if len(c.Custom) > 16 {
		c.Custom = c.Custom[:16]
	}
	c.Amount, _ = strconv.ParseInt(r.PostFormValue("amount"), 10, 64)
	return c
}

// formAmount reads the amount in fen: the custom amount in yuan when one
// was typed, else the chosen quick amount. The second result is what to
// show when there is none or it is not an amount.
func formAmount(r *http.Request, l *localizer) (int64, string) {
	if custom := strings.TrimSpace(r.PostFormValue("amount_custom")); custom != "" {
		fen, err := onecard.ParseYuan(custom)
		if err != nil || fen <= 0 {
			return 0, l.T("topup.error.amount")
		}
		return fen, ""
	}
	fen, err := strconv.ParseInt(r.PostFormValue("amount"), 10, 64)
	if err != nil || fen <= 0 || fen > onecard.MaxAmount {
		return 0, l.T("topup.error.amount")
	}
	return fen, ""
}

// topUpStatus is the status of a form answered with a service's error.
func topUpStatus(err error) int {
	switch onecard.ErrorCode(err) {
	case onecard.EINTERNAL:
		return http.StatusInternalServerError
	case onecard.ERATELIMIT:
		return http.StatusTooManyRequests
	case onecard.ECONFLICT, onecard.ECARDBLOCKED:
		return http.StatusConflict
	case onecard.ENOTFOUND:
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// feeRate shows basis points as a percentage: 60 is "0.60%"; none is "".
func feeRate(bp int64) string {
	if bp <= 0 {
		return ""
	}
	return fmt.Sprintf("%d.%02d%%", bp/100, bp%100)
}

// newFormKey is a form's idempotency key: random, so that only the same
// form sent twice shares it.
func newFormKey() string { return rand.Text() }

// payerAddr is the client's address: the connection's, or behind the
// school's trusted proxies the one they forwarded (see clientaddr).
func payerAddr(r *http.Request) string { return clientaddr.Of(r.Context(), r.RemoteAddr) }
