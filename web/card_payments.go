package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// The card page's payment side: the Alipay and WeChat accounts bound to the
// card (seed 000), the bank card (seeds 001, 003), the automatic top-up
// (seed 004) and the SMS notices (seed 002). Without Config.Payments these
// sections are hidden and their actions are not found.

// cardLoadPayments fills the payment sections of the page.
func (s *Server) cardLoadPayments(ctx context.Context, h *onecard.Cardholder, d *cardData) error {
	if s.cfg.Payments == nil {
		return nil
	}
	bound, err := s.cfg.PaymentStore.ChannelBindings(ctx, h.ID)
	if err != nil {
		return err
	}
	for _, ch := range s.cfg.Payments.Channels() {
		if ch != channel.Alipay && ch != channel.Wechat {
			continue
		}
		a := &accountView{Channel: string(ch), CanBind: s.cfg.OAuthURL != nil}
		for _, b := range bound {
			if b.Channel == string(ch) {
				a.Binding = b
			}
		}
		d.Accounts = append(d.Accounts, a)
	}
	if s.cfg.Banks != nil {
		d.BankOn = true
		d.Bank, err = s.cfg.Banks.BankBinding(ctx, h.ID)
		if onecard.ErrorCode(err) == onecard.ENOTFOUND {
			d.Bank, err = nil, nil
		}
		if err != nil {
			return err
		}
	}
	if d.AutoOn = s.cardBankOn(); d.AutoOn {
		if d.Auto, err = s.cfg.PaymentStore.AutoTopUp(ctx, h.ID); err != nil {
			return err
		}
		d.Form.AutoEnabled = d.Auto.Enabled
		d.Form.AutoThreshold, d.Form.AutoAmount = cardYuanInput(d.Auto.Threshold), cardYuanInput(d.Auto.Amount)
	}
	d.NoticesOn = true
	if d.Notices, err = s.cfg.PaymentStore.NoticePrefs(ctx, h.ID); err != nil {
		return err
	}
	d.Form.NoticeTopUp, d.Form.NoticeLow, d.Form.NoticeFreeze = d.Notices.TopUp, d.Notices.LowBalance, d.Notices.Freeze
	d.Form.NoticeBelow = cardYuanInput(d.Notices.LowBalanceBelow)
	return nil
}

// cardNotHere is the answer to an action of a section the page does not have.
func (s *Server) cardNotHere(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, onecard.Errorf(onecard.ENOTFOUND, "%s", s.i18n.localizer(r).T("card.error.not_here")))
}

// bindStateCookie holds the state of an authorisation under way: the
// channel and a random value the channel must send back, so that only an
// authorisation this browser started binds an account.
const bindStateCookie = "onecard_bind_state"

// cardBind starts binding an account: the browser goes to the channel's
// authorisation page (Config.OAuthURL), which comes back to the callback
// with a code for the account that authorised OneCard.
func (s *Server) cardBind(w http.ResponseWriter, r *http.Request) {
	ch, ok := s.cardAccountChannel(r)
	if !ok || s.cfg.OAuthURL == nil {
		s.cardNotHere(w, r)
		return
	}
	state := newCardToken()
	s.setCookie(w, bindStateCookie, ch+"."+state, 10*time.Minute)
	http.Redirect(w, r, s.cfg.OAuthURL(ch, s.cardBindCallbackURL(r, ch), state), http.StatusSeeOther)
}

// cardBindCallbackURL is where the channel sends the payer back: this
// server's callback, as the browser reached it.
func (s *Server) cardBindCallbackURL(r *http.Request, ch string) string {
	scheme := "http"
	if r.TLS != nil || s.cfg.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/app/card/bind/" + ch + "/callback"
}

// cardBindCallback binds the account the channel's code names, if the
// state is the one this browser was given.
func (s *Server) cardBindCallback(w http.ResponseWriter, r *http.Request) {
	ch, ok := s.cardAccountChannel(r)
	if !ok {
		s.cardNotHere(w, r)
		return
	}
	l := s.i18n.localizer(r)
	q := r.URL.Query()
	c, err := r.Cookie(bindStateCookie)
	s.setCookie(w, bindStateCookie, "", -time.Second) // one use
	state := q.Get("state")
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(ch+"."+state)) != 1 {
		s.renderCard(w, r, http.StatusBadRequest, "", l.T("card.error.bind_state"), nil)
		return
	}
	code := q.Get("auth_code")
	if code == "" {
		s.renderCard(w, r, http.StatusBadRequest, "", l.T("card.error.bind_cancelled"), nil)
		return
	}
	if _, err := s.cfg.Payments.BindAccount(r.Context(), viewer(r.Context()).Cardholder.ID, ch, code); err != nil {
		s.cardFailed(w, r, err, nil)
		return
	}
	s.cardDone(w, r, "bound."+ch)
}

// cardUnbind removes the card's account of a channel. It works from any
// login, not only from the bound account: how the account of a lost phone
// is unbound (seed 000, 其他支付宝解绑).
func (s *Server) cardUnbind(w http.ResponseWriter, r *http.Request) {
	ch, ok := s.cardAccountChannel(r)
	if !ok {
		s.cardNotHere(w, r)
		return
	}
	if err := s.cfg.Payments.UnbindAccount(r.Context(), viewer(r.Context()).Cardholder.ID, ch); err != nil {
		s.cardFailed(w, r, err, nil)
		return
	}
	s.cardDone(w, r, "unbound."+ch)
}

// cardBindBank binds (or rebinds) a bank card: OneCard checks the holder's
// name and ID number against the cardholder's, then the bank signs the
// debit agreement. What was typed is never logged; the name and bank come
// back in the form on an error, the ID and card numbers do not.
func (s *Server) cardBindBank(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Payments == nil || s.cfg.Banks == nil {
		s.cardNotHere(w, r)
		return
	}
	nb := &onecard.NewBankBinding{
		Bank:       strings.TrimSpace(r.PostFormValue("bank")),
		HolderName: strings.TrimSpace(r.PostFormValue("holder_name")),
		IDNumber:   strings.TrimSpace(r.PostFormValue("id_number")),
		CardNumber: strings.TrimSpace(r.PostFormValue("card_number")),
		Via:        "app",
	}
	edit := func(f *cardForm) { f.BankName, f.BankHolder = nb.Bank, nb.HolderName }
	if nb.Bank == "" || nb.HolderName == "" || nb.IDNumber == "" || nb.CardNumber == "" ||
		len(nb.Bank) > 64 || len(nb.HolderName) > 64 || len(nb.IDNumber) > 32 || len(nb.CardNumber) > 32 {
		s.renderCard(w, r, http.StatusBadRequest, "", s.i18n.localizer(r).T("card.error.bank_fields"), edit)
		return
	}
	if _, err := s.cfg.Payments.BindBankCard(r.Context(), viewer(r.Context()).Cardholder.ID, nb); err != nil {
		s.cardFailed(w, r, err, edit)
		return
	}
	s.cardDone(w, r, "bank")
}

// cardUnbindBank cancels the bank agreement and removes the bank card.
func (s *Server) cardUnbindBank(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Payments == nil || s.cfg.Banks == nil {
		s.cardNotHere(w, r)
		return
	}
	if err := s.cfg.Payments.UnbindBankCard(r.Context(), viewer(r.Context()).Cardholder.ID); err != nil {
		s.cardFailed(w, r, err, nil)
		return
	}
	s.cardDone(w, r, "bank.unbound")
}

// cardAutoTopUp changes the automatic top-up. Ticking the box next to the
// consent sentence is the consent the store records; turning it on needs
// a bank card bound for top-ups (the store's ECONFLICT says so). Empty
// amounts take the school's defaults.
func (s *Server) cardAutoTopUp(w http.ResponseWriter, r *http.Request) {
	if !s.cardBankOn() {
		s.cardNotHere(w, r)
		return
	}
	enabled := r.PostFormValue("enabled") != ""
	thresholdText, amountText := r.PostFormValue("threshold"), r.PostFormValue("amount")
	edit := func(f *cardForm) { f.AutoEnabled, f.AutoThreshold, f.AutoAmount = enabled, thresholdText, amountText }
	threshold, err := cardParseYuan(thresholdText)
	if err != nil {
		s.cardFailed(w, r, err, edit)
		return
	}
	amount, err := cardParseYuan(amountText)
	if err != nil {
		s.cardFailed(w, r, err, edit)
		return
	}
	a, err := s.cfg.PaymentStore.SetAutoTopUp(r.Context(), &onecard.AutoTopUp{
		CardholderID: viewer(r.Context()).Cardholder.ID, Enabled: enabled, Threshold: threshold, Amount: amount,
	})
	if err != nil {
		s.cardFailed(w, r, err, edit)
		return
	}
	if a.Enabled {
		s.cardDone(w, r, "auto.on")
		return
	}
	s.cardDone(w, r, "auto.off")
}

// cardNotices replaces the SMS notice choices.
func (s *Server) cardNotices(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Payments == nil {
		s.cardNotHere(w, r)
		return
	}
	p := &onecard.NoticePrefs{
		TopUp:      r.PostFormValue("top_up") != "",
		LowBalance: r.PostFormValue("low_balance") != "",
		Freeze:     r.PostFormValue("freeze") != "",
	}
	belowText := r.PostFormValue("below")
	edit := func(f *cardForm) {
		f.NoticeTopUp, f.NoticeLow, f.NoticeFreeze, f.NoticeBelow = p.TopUp, p.LowBalance, p.Freeze, belowText
	}
	var err error
	if p.LowBalanceBelow, err = cardParseYuan(belowText); err != nil {
		s.cardFailed(w, r, err, edit)
		return
	}
	if err := s.cfg.PaymentStore.SetNoticePrefs(r.Context(), viewer(r.Context()).Cardholder.ID, p); err != nil {
		s.cardFailed(w, r, err, edit)
		return
	}
	s.cardDone(w, r, "notices")
}
