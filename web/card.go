package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// The card page (卡务, seeds 001 and 003): the card and its state, loss
// report and unlock, the query PIN, the Alipay, WeChat and bank accounts
// bound to the card, the automatic top-up, the SMS notices and the
// network fee. Every action needs the session and acts on the session's
// cardholder only; the forms carry no cardholder to act on.
//
// The actions someone holding an unlocked phone for a moment could abuse
// (a loss report, an unlock, a PIN change, the network fee) ask the query
// PIN, as the schools' apps do (seed 001: 输入6位查询密码，点击“确认挂失”);
// the consumption PIN stays the POS's. A bank card needs the holder's
// name and ID number instead, an account the channel's authorisation.

func (s *Server) cardRoutes() {
	s.mux.HandleFunc("GET /app/card", s.cardholder(s.cardPage))
	s.mux.HandleFunc("POST /app/card/lost", s.cardholder(s.cardReportLost))
	s.mux.HandleFunc("POST /app/card/unlock", s.cardholder(s.cardUnlock))
	s.mux.HandleFunc("POST /app/card/pin", s.cardholder(s.cardChangePIN))
	s.mux.HandleFunc("GET /app/card/bind/{channel}", s.cardholder(s.cardBind))
	s.mux.HandleFunc("GET /app/card/bind/{channel}/callback", s.cardholder(s.cardBindCallback))
	s.mux.HandleFunc("POST /app/card/unbind/{channel}", s.cardholder(s.cardUnbind))
	s.mux.HandleFunc("POST /app/card/bank", s.cardholder(s.cardBindBank))
	s.mux.HandleFunc("POST /app/card/bank/unbind", s.cardholder(s.cardUnbindBank))
	s.mux.HandleFunc("POST /app/card/auto", s.cardholder(s.cardAutoTopUp))
	s.mux.HandleFunc("POST /app/card/notices", s.cardholder(s.cardNotices))
	s.mux.HandleFunc("POST /app/card/netfee", s.cardholder(s.cardNetFee))
}

// cardData is the card page.
type cardData struct {
	School *onecard.School
	Card   *onecard.Card // nil when the cardholder has no active card
	State  string        // active, lost, frozen, cancelled, none

	// Accounts are the Alipay and WeChat channels that are on, with the
	// account bound to the card if any. Empty hides the section.
	Accounts []*accountView
	// BankOn shows the bank card section; Bank is the bound card.
	BankOn bool
	Bank   *onecard.BankBinding
	// AutoOn shows the automatic top-up (it needs the bank link).
	AutoOn bool
	Auto   *onecard.AutoTopUp
	// NoticesOn shows the SMS notices (the payment side sends them).
	NoticesOn bool
	Notices   *onecard.NoticePrefs
	// NetFee is the school's network center; nil hides the network fee.
	// Balance is what it is paid from.
	NetFee  *onecard.Merchant
	Balance onecard.Balance

	Form cardForm
}

// accountView is one channel of the bindings section.
type accountView struct {
	Channel string
	Binding *onecard.ChannelBinding // nil when none is bound
	CanBind bool                    // an authorisation page is configured
}

// cardForm is what the forms show: the stored settings, or what was just
// posted when it is shown again with an error. PINs, ID numbers and bank
// card numbers are never shown back.
type cardForm struct {
	BankName, BankHolder      string
	AutoEnabled               bool
	AutoThreshold, AutoAmount string // yuan, as typed
	NoticeTopUp, NoticeLow    bool
	NoticeFreeze              bool
	NoticeBelow               string // yuan, as typed
	NetFeeAmount              string
	NetFeeToken               string // the payment's idempotency token
}

// cardPage shows the page with the notice of the action just done, if any.
func (s *Server) cardPage(w http.ResponseWriter, r *http.Request) {
	notice := s.takeCardFlash(w, r)
	s.renderCard(w, r, http.StatusOK, notice, "", nil)
}

// renderCard loads the page's data and renders it; edit, when not nil,
// puts back what a form posted.
func (s *Server) renderCard(w http.ResponseWriter, r *http.Request, status int, notice, errMsg string, edit func(*cardForm)) {
	d, err := s.loadCard(r.Context(), viewer(r.Context()).Cardholder)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if edit != nil {
		edit(&d.Form)
	}
	// Shown in answer to a channel's callback (a GET carrying a one-time
	// code), the page is still the card page: the language switch comes
	// back to it, not to the callback. Forms are render's (formPage).
	r = cardAtPath(r, "/app/card")
	s.render(w, r, status, "card", &view{Title: "card.title", Nav: "card", Data: d, Notice: notice, Error: errMsg,
		Loc: d.School.Settings.Location()})
}

// loadCard gathers what the page shows of cardholder h, and nothing of
// anyone else's.
func (s *Server) loadCard(ctx context.Context, h *onecard.Cardholder) (*cardData, error) {
	d := &cardData{State: "none"}
	var err error
	if d.School, err = s.cfg.Schools.School(ctx, h.SchoolID); err != nil {
		return nil, err
	}
	d.Card, err = s.cfg.Cards.ActiveCard(ctx, h.ID)
	switch {
	case err == nil:
		d.State = d.Card.State()
	case onecard.ErrorCode(err) != onecard.ENOTFOUND:
		return nil, err
	}
	if err := s.cardLoadPayments(ctx, h, d); err != nil {
		return nil, err
	}
	if d.NetFee, err = s.cardNetworkMerchant(ctx, h.SchoolID); err != nil {
		return nil, err
	}
	if d.NetFee != nil {
		if d.Balance, err = s.cfg.Cardholders.Balance(ctx, h.ID); err != nil {
			return nil, err
		}
	}
	d.Form.NetFeeToken = newCardToken()
	return d, nil
}

// cardFlashCookie carries the notice of a done action across the redirect
// back to the page: a message name and perhaps an amount, never anything
// about the cardholder.
const cardFlashCookie = "onecard_card_flash"

// cardNoticeIDs are the notices an action may leave, by flash name.
var cardNoticeIDs = map[string]string{
	"unlocked":       "card.notice.unlocked",
	"bound.alipay":   "card.notice.bound_alipay",
	"bound.wechat":   "card.notice.bound_wechat",
	"unbound.alipay": "card.notice.unbound_alipay",
	"unbound.wechat": "card.notice.unbound_wechat",
	"bank":           "card.notice.bank_bound",
	"bank.unbound":   "card.notice.bank_unbound",
	"auto.on":        "card.notice.auto_on",
	"auto.off":       "card.notice.auto_off",
	"notices":        "card.notice.notices",
	"netfee":         "card.notice.netfee",
}

// cardDone sends the browser back to the card page with a notice.
func (s *Server) cardDone(w http.ResponseWriter, r *http.Request, flash string) {
	s.setCookie(w, cardFlashCookie, flash, time.Minute)
	http.Redirect(w, r, "/app/card", http.StatusSeeOther)
}

// takeCardFlash returns the translated notice left by the last action, and
// forgets it so that a reload does not show it again.
func (s *Server) takeCardFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(cardFlashCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	s.setCookie(w, cardFlashCookie, "", -time.Second)
	name, arg, _ := strings.Cut(c.Value, ":")
	id, ok := cardNoticeIDs[name]
	if !ok {
		return ""
	}
	l := s.i18n.localizer(r)
	if arg != "" {
		fen, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || fen <= 0 || fen > onecard.MaxAmount {
			return ""
		}
		return l.T(id, "Amount", onecard.Yuan(fen))
	}
	return l.T(id)
}

// cardFailed shows the page again with the service's message for err.
func (s *Server) cardFailed(w http.ResponseWriter, r *http.Request, err error, edit func(*cardForm)) {
	s.renderCard(w, r, cardErrStatus(err), "", s.message(s.i18n.localizer(r), err), edit)
}

// cardErrStatus is the HTTP status of a page shown again with an error.
func cardErrStatus(err error) int {
	switch onecard.ErrorCode(err) {
	case onecard.EINTERNAL:
		return http.StatusInternalServerError
	case onecard.ENOTFOUND:
		return http.StatusNotFound
	case onecard.EWRONGPIN, onecard.ELOCKED, onecard.EFORBIDDEN:
		return http.StatusForbidden
	case onecard.ECONFLICT, onecard.ECARDBLOCKED, onecard.EINSUFFICIENT:
		return http.StatusConflict
	case onecard.ERATELIMIT:
		return http.StatusTooManyRequests
	}
	return http.StatusBadRequest
}

// cardCheckPIN verifies the session's cardholder's query PIN; a wrong one
// counts towards the lockout and its error says how many tries are left.
func (s *Server) cardCheckPIN(ctx context.Context, cardholderID int64, pin string) error {
	if err := onecard.ValidatePIN(pin); err != nil {
		return err
	}
	return s.cfg.PINs.VerifyPIN(ctx, cardholderID, onecard.QueryPIN, pin)
}

// cardReportLost blocks the card after the query PIN, then ends every
// session of the cardholder (the phone may have gone with the card) and
// sends the browser to the login page: its session ended too.
func (s *Server) cardReportLost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	h := viewer(ctx).Cardholder
	if err := s.cardCheckPIN(ctx, h.ID, r.PostFormValue("pin")); err != nil {
		s.cardFailed(w, r, err, nil)
		return
	}
	c, err := s.cfg.Cards.ActiveCard(ctx, h.ID)
	if err == nil {
		_, err = s.cfg.Cards.ReportLost(ctx, c.ID)
	}
	if err != nil {
		s.cardFailed(w, r, err, nil)
		return
	}
	if err := s.cfg.Auth.RevokeCardholderSessions(ctx, h.ID); err != nil {
		s.cardFailed(w, r, err, nil)
		return
	}
	s.cardLoggedOut(w, r, "lost")
}

// cardUnlock unblocks a card reported lost, after the query PIN.
func (s *Server) cardUnlock(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	h := viewer(ctx).Cardholder
	if err := s.cardCheckPIN(ctx, h.ID, r.PostFormValue("pin")); err != nil {
		s.cardFailed(w, r, err, nil)
		return
	}
	c, err := s.cfg.Cards.ActiveCard(ctx, h.ID)
	if err == nil {
		_, err = s.cfg.Cards.Unlock(ctx, c.ID)
	}
	if err != nil {
		s.cardFailed(w, r, err, nil)
		return
	}
	s.cardDone(w, r, "unlocked")
}

// cardChangePIN changes the query PIN, then ends every session: whoever
// knew the old PIN may be logged in somewhere.
func (s *Server) cardChangePIN(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	h := viewer(ctx).Cardholder
	old, next := r.PostFormValue("old"), r.PostFormValue("new")
	if next != r.PostFormValue("new2") {
		s.renderCard(w, r, http.StatusBadRequest, "", s.i18n.localizer(r).T("card.error.pin_mismatch"), nil)
		return
	}
	if err := onecard.ValidatePIN(next); err != nil {
		s.cardFailed(w, r, err, nil)
		return
	}
	if err := s.cfg.PINs.ChangePIN(ctx, h.ID, onecard.QueryPIN, old, next); err != nil {
		s.cardFailed(w, r, err, nil)
		return
	}
	if err := s.cfg.Auth.RevokeCardholderSessions(ctx, h.ID); err != nil {
		s.cardFailed(w, r, err, nil)
		return
	}
	s.cardLoggedOut(w, r, "pin")
}

// cardLoggedOut clears this browser's session cookie (the session itself
// was revoked) and sends the browser to the login page, the school
// chosen, which says why (cardLoginNotice).
func (s *Server) cardLoggedOut(w http.ResponseWriter, r *http.Request, flash string) {
	s.clearSession(w)
	s.setCookie(w, cardLoginFlashCookie, flash, time.Minute)
	to := "/login"
	if sc, err := s.cfg.Schools.School(r.Context(), viewer(r.Context()).Cardholder.SchoolID); err == nil {
		to += "?" + url.Values{"school": {sc.Code}}.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// cardLoginFlashCookie carries to the login page why the sessions ended.
const cardLoginFlashCookie = "onecard_login_flash"

// cardLoginNotices are the login page's notices, by flash name.
var cardLoginNotices = map[string]string{
	"lost": "card.notice.lost",
	"pin":  "card.notice.pin_changed",
}

// cardLoginNotice returns the translated notice a loss report or a PIN
// change left for the login page, and forgets it.
func (s *Server) cardLoginNotice(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(cardLoginFlashCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	s.setCookie(w, cardLoginFlashCookie, "", -time.Second)
	id, ok := cardLoginNotices[c.Value]
	if !ok {
		return ""
	}
	return s.i18n.localizer(r).T(id)
}

// cardAccountChannel returns the path's channel if it is an account channel
// (alipay, wechat) that is on.
func (s *Server) cardAccountChannel(r *http.Request) (string, bool) {
	ch := r.PathValue("channel")
	if s.cfg.Payments == nil || (ch != onecard.ChannelAlipay && ch != onecard.ChannelWechat) {
		return "", false
	}
	for _, on := range s.cfg.Payments.Channels() {
		if string(on) == ch {
			return ch, true
		}
	}
	return "", false
}

// cardBankOn reports whether the bank link is configured (bank top-ups and
// automatic top-ups need it).
func (s *Server) cardBankOn() bool {
	if s.cfg.Payments == nil {
		return false
	}
	for _, on := range s.cfg.Payments.Channels() {
		if on == channel.Bank {
			return true
		}
	}
	return false
}

// newCardToken returns a random token for a form that must act once.
func newCardToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// validCardToken reports whether t looks like newCardToken's.
func validCardToken(t string) bool {
	if len(t) != 32 {
		return false
	}
	_, err := hex.DecodeString(t)
	return err == nil
}

// cardYuanInput is an amount as a form field shows it: 20.00, the currency
// sign left to the label.
func cardYuanInput(fen int64) string { return strings.TrimPrefix(onecard.Yuan(fen), "¥") }

// cardParseYuan parses an optional amount field: empty is zero.
func cardParseYuan(v string) (int64, error) {
	if strings.TrimSpace(v) == "" {
		return 0, nil
	}
	return onecard.ParseYuan(v)
}

// cardAtPath returns r as if it asked for path: what a page shown in answer to
// a form gives the language switch to come back to.
func cardAtPath(r *http.Request, path string) *http.Request {
	r = r.WithContext(r.Context())
	u := *r.URL
	u.Path, u.RawPath, u.RawQuery = path, "", ""
	r.URL = &u
	return r
}
