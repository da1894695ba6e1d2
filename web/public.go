package web

import (
	"net"
	"net/http"
	"strings"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel/wechat"
	"github.com/onecard-campus/onecard/clientaddr"
	"github.com/onecard-campus/onecard/payment"
)

// The public top-up page (seed 002): anyone who knows a card's school,
// holder name and number (a parent) tops it up with Alipay or WeChat Pay,
// without logging in. It shows the holder's name masked, never in full;
// the name and number go from the lookup to the payment in posted form
// fields, never in a URL; and an order's page shows its state, amount and
// the masked card number only.

// publicRoutes registers the public top-up.
func (s *Server) publicRoutes() {
	s.mux.HandleFunc("GET /topup", s.publicPage)
	s.mux.HandleFunc("POST /topup/lookup", s.publicLookup)
	// The language switch comes back to the page's path with a GET.
	s.mux.HandleFunc("GET /topup/lookup", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/topup", http.StatusSeeOther)
	})
	s.mux.HandleFunc("POST /topup", s.publicSubmit)
	s.mux.HandleFunc("GET /topup/{no}", s.publicOrderPage)
}

// publicData is the public page: first the school, name and number; once
// the card is found, its masked name and the payment form.
type publicData struct {
	Available bool
	Schools   []*onecard.School
	School    string // the chosen school's code
	// Name and Number are what was typed; they are written back only
	// into the form's fields.
	Name, Number string

	// Found is set once the card was found: the payment form shows.
	Found      bool
	SchoolName string
	Masked     string // the holder's name, masked: 王*明
	CardMasked string // the card number, all but its last four masked
	Tail       string // the last four characters, for the records on this phone
	Rules      onecard.TopUpRules
	Channels   []string
	Channel    string
	Amount     int64
	Custom     string
	Phone      string
	Terms      bool
	Key        string
}

func (s *Server) publicPage(w http.ResponseWriter, r *http.Request) {
	d := s.publicForm(r)
	s.renderPublic(w, r, http.StatusOK, d, "")
}

// publicForm reads what the form sent (nothing on a GET) and lists the
// schools.
func (s *Server) publicForm(r *http.Request) *publicData {
	d := &publicData{Available: s.cfg.Payments != nil, Key: newFormKey(),
		School: r.PostFormValue("school"), Name: strings.TrimSpace(r.PostFormValue("name")), Number: strings.TrimSpace(r.PostFormValue("number"))}
	if len(d.Name) > 256 {
		d.Name = d.Name[:256]
	}
	if len(d.Number) > 64 {
		d.Number = d.Number[:64]
	}
	schools, err := s.cfg.Schools.Schools(r.Context())
	if err != nil {
		s.log.Error("web: schools", "err", err)
	}
	d.Schools = schools
	return d
}

func (s *Server) renderPublic(w http.ResponseWriter, r *http.Request, status int, d *publicData, errMsg string) {
	s.render(w, r, status, "public", &view{Title: "public.title", Data: d, Error: errMsg})
}

// publicLookup finds the card and shows whose it is, masked. Each client
// address may look up only a few cards a minute (the payment service's
// limit), so the page cannot be used to list cardholders.
func (s *Server) publicLookup(w http.ResponseWriter, r *http.Request) {
	l := s.i18n.localizer(r)
	d := s.publicForm(r)
	if !d.Available {
		s.renderPublic(w, r, http.StatusServiceUnavailable, d, l.T("public.unavailable"))
		return
	}
	school, msg := s.publicSchool(r, l, d.School)
	if msg != "" {
		s.renderPublic(w, r, http.StatusBadRequest, d, msg)
		return
	}
	card, _, err := s.cfg.Payments.LookupCard(r.Context(), lookupClient(r), school.ID, d.Name, d.Number)
	if err != nil {
		s.renderPublic(w, r, topUpStatus(err), d, s.publicMessage(l, err))
		return
	}
	s.publicFound(d, school, card.NameMasked, card.Number)
	d.Amount = defaultPublicAmount(d.Rules)
	s.renderPublic(w, r, http.StatusOK, d, "")
}

// publicSubmit opens the order and sends the payer to the gateway. The
// terms must be accepted; the lookup's checks and rate limit run again.
func (s *Server) publicSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := s.i18n.localizer(r)
	d := s.publicForm(r)
	if !d.Available {
		s.renderPublic(w, r, http.StatusServiceUnavailable, d, l.T("public.unavailable"))
		return
	}
	school, msg := s.publicSchool(r, l, d.School)
	if msg != "" {
		s.renderPublic(w, r, http.StatusBadRequest, d, msg)
		return
	}
	// The card was found before this form was shown: show it as then,
	// from what the form carries, without another lookup.
	d.Channel = r.PostFormValue("channel")
	s.publicFound(d, school, payment.MaskName(d.Name), d.Number)
	d.Custom = strings.TrimSpace(r.PostFormValue("amount_custom"))
	if len(d.Custom) > 16 {
		d.Custom = d.Custom[:16]
	}
	d.Amount = topUpChoiceOf(r).Amount
	d.Phone = strings.TrimSpace(r.PostFormValue("phone"))
	if len(d.Phone) > 20 {
		d.Phone = d.Phone[:20]
	}
	d.Terms = r.PostFormValue("terms") != ""
	if key := strings.TrimSpace(r.PostFormValue("key")); key != "" && len(key) <= 64 {
		d.Key = key
	}
	amount, msg := formAmount(r, l)
	switch {
	case msg != "":
	case d.Channel != onecard.ChannelAlipay && d.Channel != onecard.ChannelWechat:
		msg = l.T("public.error.channel")
	case !d.Terms:
		msg = l.T("public.error.terms")
	}
	if msg != "" {
		s.renderPublic(w, r, http.StatusBadRequest, d, msg)
		return
	}
	addr := payerAddr(r)
	if d.Channel == onecard.ChannelWechat && net.ParseIP(addr) != nil {
		ctx = wechat.WithPayerIP(ctx, addr) // WeChat's H5 page checks the payer's address
	}
	t, _, err := s.cfg.Payments.TopUpPublic(ctx, lookupClient(r), school.ID, d.Name, d.Number, d.Channel, amount, d.Phone, d.Key)
	if err != nil {
		if onecard.ErrorCode(err) == onecard.ENOTFOUND {
			d.Found = false // the form was changed: back to the lookup
		}
		d.Key = newFormKey()
		s.renderPublic(w, r, topUpStatus(err), d, s.publicMessage(l, err))
		return
	}
	if t.State == onecard.TopUpPending && t.PayURL != "" {
		http.Redirect(w, r, s.payURL(r, t, "/topup/"+t.No), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/topup/"+t.No, http.StatusSeeOther)
}

// publicSchool finds the chosen school.
func (s *Server) publicSchool(r *http.Request, l *localizer, code string) (*onecard.School, string) {
	if code == "" || len(code) > 64 {
		return nil, l.T("public.error.school")
	}
	school, err := s.cfg.Schools.SchoolByCode(r.Context(), code)
	if onecard.ErrorCode(err) == onecard.ENOTFOUND {
		return nil, l.T("public.error.school")
	} else if err != nil {
		return nil, s.message(l, err)
	}
	return school, ""
}

// publicFound fills the payment form's part of the page for a found card.
func (s *Server) publicFound(d *publicData, school *onecard.School, masked, number string) {
	d.Found = true
	d.SchoolName = school.Name
	d.Masked = masked
	d.CardMasked = publicMaskNumber(number)
	if n := []rune(number); len(n) > 4 {
		d.Tail = string(n[len(n)-4:])
	} else {
		d.Tail = number
	}
	d.Rules = school.Settings.WithDefaults().TopUp
	for _, n := range s.cfg.Payments.Channels() {
		if ch := string(n); ch == onecard.ChannelAlipay || ch == onecard.ChannelWechat {
			d.Channels = append(d.Channels, ch)
		}
	}
	if d.Channel == "" && len(d.Channels) > 0 {
		d.Channel = d.Channels[0]
	}
}

// publicMessage is what to show of a lookup's or an order's error; the
// rate limit in the page's language.
func (s *Server) publicMessage(l *localizer, err error) string {
	if onecard.ErrorCode(err) == onecard.ERATELIMIT {
		return l.T("public.rate_limited")
	}
	return s.message(l, err)
}

// defaultPublicAmount is the amount chosen at first: ¥100 as the seed's
// page has it when the school offers it, else the first quick amount.
func defaultPublicAmount(r onecard.TopUpRules) int64 {
	for _, q := range r.QuickAmounts {
		if q == 100_00 {
			return q
		}
	}
	if len(r.QuickAmounts) > 0 {
		return r.QuickAmounts[0]
	}
	return 0
}

// lookupClient is what the lookup's rate limit counts (clientaddr.Key).
func lookupClient(r *http.Request) string { return clientaddr.Key(payerAddr(r)) }

// publicMaskNumber keeps the last four characters of a card number.
func publicMaskNumber(n string) string {
	r := []rune(n)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}
