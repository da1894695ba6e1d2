package payment

import (
	"context"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/channel/wechat"
	"github.com/onecard-campus/onecard/sms"
)

// TopUpBound opens a top-up from the cardholder's bound Alipay or WeChat
// account and returns the order with the page where the payer pays. The
// order names the bound account: if another account pays, the money does
// not reach the card and is refunded (see credit).
func (s *Service) TopUpBound(ctx context.Context, cardholderID int64, ch string, amount int64, key string) (*onecard.TopUp, error) {
	bindings, err := s.cfg.Store.ChannelBindings(ctx, cardholderID)
	if err != nil {
		return nil, err
	}
	var account string
	for _, b := range bindings {
		if b.Channel == ch {
			account = b.Account
		}
	}
	if account == "" {
		return nil, onecard.Errorf(onecard.ECONFLICT, "No %s account is bound to this card. Bind one first.", channelTitle(channel.Name(ch)))
	}
	return s.openOrder(ctx, &onecard.NewTopUp{Key: key, CardholderID: cardholderID, Channel: ch, Kind: onecard.TopUpBound, Amount: amount, Payer: account})
}

// PublicCard is what a payer sees of a card before paying a public top-up:
// enough to know it is the right one, not enough to learn who holds it.
type PublicCard struct {
	School     string `json:"school"`
	NameMasked string `json:"name_masked"` // 王*明
	Number     string `json:"number"`      // as normalised
}

// LookupCard finds a card for a public top-up (seed 002) by school, the
// holder's name and the card number; both must match. The answer is the
// same for an unknown number and a wrong name, and each client address may
// ask only a few times a minute (ERATELIMIT).
func (s *Service) LookupCard(ctx context.Context, client string, schoolID int64, name, number string) (*PublicCard, *onecard.Cardholder, error) {
	if !s.clientLimiter(client).Allow() {
		return nil, nil, onecard.Errorf(onecard.ERATELIMIT, "Too many lookups from this address; please wait a minute.")
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 || strings.TrimSpace(number) == "" || len(number) > 32 {
		return nil, nil, onecard.Errorf(onecard.EINVALID, "Enter the holder's name and the card number.")
	}
	school, err := s.cfg.Schools.School(ctx, schoolID)
	if err != nil {
		return nil, nil, err
	}
	h, err := s.cfg.Cardholders.CardholderByNumber(ctx, schoolID, number)
	if err != nil && onecard.ErrorCode(err) != onecard.ENOTFOUND && onecard.ErrorCode(err) != onecard.EINVALID {
		return nil, nil, err
	}
	if h == nil || h.Name != name || h.Status == onecard.CardholderClosed {
		return nil, nil, onecard.Errorf(onecard.ENOTFOUND, "No card of %s matches this name and number.", school.Name)
	}
	return &PublicCard{School: school.Name, NameMasked: MaskName(h.Name), Number: h.Number}, h, nil
}

// TopUpPublic opens a top-up anyone may pay (a parent, seed 002) after
// LookupCard's checks; phone, when given, gets an SMS when it is credited.
func (s *Service) TopUpPublic(ctx context.Context, client string, schoolID int64, name, number, ch string, amount int64, phone, key string) (*onecard.TopUp, *PublicCard, error) {
	if ch != onecard.ChannelAlipay && ch != onecard.ChannelWechat {
		return nil, nil, onecard.Errorf(onecard.EINVALID, "A public top-up is paid with Alipay or WeChat Pay.")
	}
	if phone != "" && !sms.ValidPhone(phone) {
		return nil, nil, onecard.Errorf(onecard.EINVALID, "%q is not a mainland mobile number.", phone)
	}
	card, h, err := s.LookupCard(ctx, client, schoolID, name, number)
	if err != nil {
		return nil, nil, err
	}
	if ip := net.ParseIP(client); ip != nil {
		// WeChat's H5 payment checks the payer's address against the
		// browser that opens its page.
		ctx = wechat.WithPayerIP(ctx, ip.String())
	}
	t, err := s.openOrder(ctx, &onecard.NewTopUp{Key: key, CardholderID: h.ID, Channel: ch, Kind: onecard.TopUpPublic, Amount: amount, Phone: phone})
	return t, card, err
}

// openOrder stores the order, then asks the gateway for the payer's page.
// A gateway failure leaves a pending order that the settle job closes.
func (s *Service) openOrder(ctx context.Context, n *onecard.NewTopUp) (*onecard.TopUp, error) {
	g, err := s.gateway(n.Channel)
	if err != nil {
		return nil, err
	}
	t, err := s.cfg.Store.CreateTopUp(ctx, n)
	if err != nil {
		return nil, err
	}
	if t.State != onecard.TopUpPending || t.PayURL != "" {
		return t, nil // a retry of an order already under way
	}
	h, err := s.cfg.Cardholders.Cardholder(ctx, t.CardholderID)
	if err != nil {
		return nil, err
	}
	school, err := s.cfg.Schools.School(ctx, t.SchoolID)
	if err != nil {
		return nil, err
	}
	co, err := g.Create(ctx, channel.Order{No: t.No, Amount: t.Total, Subject: school.Name + " 一卡通充值 " + h.Number,
		NotifyURL: s.notifyURL(t.Channel), ReturnURL: s.returnURL(t.No), Expire: t.ExpiresAt, Payer: t.Payer})
	if err != nil {
		if channel.Code(err) == channel.ErrRefused {
			if _, cerr := s.cfg.Store.CloseTopUp(ctx, t.No); cerr != nil {
				s.log.Error("payment: close refused order", "no", t.No, "err", cerr)
			}
		}
		return nil, gatewayError(channel.Name(t.Channel), err)
	}
	if co.Trade != nil { // the bank answers at once
		return s.apply(ctx, t, co.Trade)
	}
	if err := s.cfg.Store.SetTopUpPayURL(ctx, t.No, co.PayURL); err != nil {
		return nil, err
	}
	t.PayURL = co.PayURL
	return t, nil
}

// apply books what a gateway says of an order: paid credits it (or rejects
// it when another account paid, then refunds that account), closed or
// unknown after expiry closes it. Anything else leaves it pending.
func (s *Service) apply(ctx context.Context, t *onecard.TopUp, tr *channel.Trade) (*onecard.TopUp, error) {
	switch tr.State {
	case channel.StatePaid, channel.StateRefunded:
		return s.credit(ctx, t, tr)
	case channel.StateClosed:
		return s.cfg.Store.CloseTopUp(ctx, t.No)
	case channel.StateNotFound:
		if s.cfg.Now().After(t.ExpiresAt) {
			return s.cfg.Store.CloseTopUp(ctx, t.No)
		}
	}
	return t, nil
}

// credit books a paid trade and sends the notices.
func (s *Service) credit(ctx context.Context, t *onecard.TopUp, tr *channel.Trade) (*onecard.TopUp, error) {
	wasPending := t.State == onecard.TopUpPending || t.State == onecard.TopUpClosed
	paidAt := tr.PaidAt
	if paidAt.IsZero() {
		paidAt = s.cfg.Now()
	}
	t, err := s.cfg.Store.CreditTopUp(ctx, t.No, onecard.PaidTrade{GatewayNo: tr.GatewayNo, Payer: tr.Payer, Amount: tr.Amount, At: paidAt})
	if err != nil {
		return nil, err
	}
	switch {
	case t.State == onecard.TopUpRejected:
		return s.returnRejected(ctx, t)
	case t.State == onecard.TopUpCredited && wasPending:
		s.noticeCredited(ctx, t)
	}
	return t, nil
}

// returnRejected refunds a rejected order's money through its channel and
// books the refund. If the channel cannot be reached the order stays
// rejected (the money sits in refunds payable) and the settle job retries.
func (s *Service) returnRejected(ctx context.Context, t *onecard.TopUp) (*onecard.TopUp, error) {
	g, err := s.gateway(t.Channel)
	if err != nil {
		return nil, err
	}
	err = g.Refund(ctx, channel.Refund{No: t.No, RefundNo: "R" + t.No, Amount: t.Total, Total: t.Total,
		Reason: "paid by an account not bound to the card"})
	if err != nil {
		s.log.Warn("payment: refund of a rejected top-up failed; will retry", "no", t.No, "err", err)
		return t, nil
	}
	return s.cfg.Store.ReturnRejected(ctx, t.No)
}

// noticeCredited texts the payer's phone (public top-ups) or the
// cardholder's, when they asked for top-up notices.
func (s *Service) noticeCredited(ctx context.Context, t *onecard.TopUp) {
	if s.cfg.SMS == nil {
		return
	}
	h, err := s.cfg.Cardholders.Cardholder(ctx, t.CardholderID)
	if err != nil {
		return
	}
	bal, err := s.cfg.Cardholders.Balance(ctx, h.ID)
	if err != nil {
		return
	}
	text := sms.TopUpNotice(maskNumber(h.Number), t.Amount, bal.Total)
	if t.Phone != "" {
		s.send(ctx, t.Phone, text)
	}
	if p, err := s.cfg.Store.NoticePrefs(ctx, h.ID); err == nil && p.TopUp && h.Phone != "" && h.Phone != t.Phone {
		s.send(ctx, h.Phone, text)
	}
}

// MaskName keeps the first and last characters of a name: 王*明, 李*, J***n.
func MaskName(name string) string {
	r := []rune(name)
	switch len(r) {
	case 0, 1:
		return name
	case 2:
		return string(r[0]) + "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
}

// maskNumber keeps the last four characters of a card number.
func maskNumber(n string) string {
	if len(n) <= 4 {
		return n
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}
