package payment

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// codePaymentPrefix starts the order numbers of code payments, so that a
// notification is routed to the right table.
const codePaymentPrefix = "C"

// CodeKind tells a payment code's issuer by its first two digits, as a POS
// does: 25–30 Alipay, 10–15 WeChat, 66 the one-card code.
func CodeKind(code string) (string, error) {
	if len(code) != 18 || !allDigits(code) {
		return "", onecard.Errorf(onecard.EINVALID, "A payment code has 18 digits.")
	}
	switch p := code[:2]; {
	case p == "66":
		return "onecard", nil
	case p >= "25" && p <= "30":
		return onecard.ChannelAlipay, nil
	case p >= "10" && p <= "15":
		return onecard.ChannelWechat, nil
	}
	return "", onecard.Errorf(onecard.EINVALID, "This is not an Alipay, WeChat or one-card payment code.")
}

// CodePaymentRequest is a POS charging a payment code.
type CodePaymentRequest struct {
	// No is the POS's own number for the sale; a retry with the same No
	// returns the first result. Empty makes one.
	No         string
	MerchantID int64
	TerminalID int64
	Code       string
	Amount     int64
	Terminal   string // label on the channel's statement
}

// PayByCode charges a payment code at a POS. A one-card code is drawn from
// the transition balance (seed 001); an Alipay or WeChat code is charged
// through the channel to the school's merchant account, waiting while the
// payer confirms on the phone and reversing it if they do not in time.
func (s *Service) PayByCode(ctx context.Context, req *CodePaymentRequest) (*onecard.CodePayment, error) {
	kind, err := CodeKind(req.Code)
	if err != nil {
		return nil, err
	}
	if err := onecard.ValidateAmount(req.Amount); err != nil {
		return nil, err
	}
	// The POS's sale number is unique on that POS only: the order number
	// the channel sees joins it to the terminal. Channels accept letters,
	// digits and underscores.
	no := newNo(s.cfg.Now())
	if req.No != "" {
		if len(req.No) > 32 || !alnum(req.No) {
			return nil, onecard.Errorf(onecard.EINVALID, "A sale number is 1 to 32 letters and digits.")
		}
		no = fmt.Sprintf("%s%d_%s", codePaymentPrefix, req.TerminalID, req.No)
	}
	if kind == "onecard" {
		return s.cfg.Store.PayWithCode(ctx, no, req.Code, req.MerchantID, req.TerminalID, req.Amount)
	}
	g, err := s.gateway(kind)
	if err != nil {
		return nil, err
	}
	m, err := s.cfg.Merchants.Merchant(ctx, req.MerchantID)
	if err != nil {
		return nil, err
	}
	p, err := s.cfg.Store.CreateCodePayment(ctx, &onecard.CodePayment{No: no, SchoolID: m.SchoolID, MerchantID: m.ID,
		TerminalID: req.TerminalID, Channel: kind, Amount: req.Amount})
	if err != nil {
		return nil, err
	}
	if p.State != onecard.CodePaying {
		return p, nil // a retry of a settled sale
	}
	tr, err := g.CodePay(ctx, channel.CodePayment{No: no, AuthCode: req.Code, Amount: req.Amount, Subject: m.Name, Terminal: req.Terminal})
	if channel.Code(err) == channel.ErrRefused {
		if _, serr := s.cfg.Store.SettleCodePayment(ctx, no, nil, true); serr != nil {
			return nil, serr
		}
		return nil, gatewayError(g.Name(), err)
	} else if err != nil {
		// We do not know whether it went through: find out, and reverse
		// it if it did not settle, so the payer is never charged for a
		// sale the POS shows as failed.
		tr = &channel.Trade{No: no, State: channel.StatePaying}
	}
	deadline := time.Now().Add(s.cfg.CodeWait)
	for tr.State == channel.StatePaying && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			deadline = time.Time{}
			continue
		case <-time.After(s.cfg.CodePoll):
		}
		if q, qerr := g.Query(ctx, no); qerr == nil {
			tr = q
		}
	}
	if tr.State == channel.StatePaying || tr.State == channel.StateWaiting || tr.State == channel.StateNotFound {
		if err := g.Reverse(context.WithoutCancel(ctx), no); err != nil {
			return nil, gatewayError(g.Name(), err) // stays paying; the next query settles it
		}
		tr = &channel.Trade{No: no, State: channel.StateClosed}
	}
	p, err = s.settleCode(ctx, g.Name(), p, tr)
	if err != nil {
		return nil, err
	}
	if p.State == onecard.CodeClosed {
		return p, onecard.Errorf(onecard.EINVALID, "The payer did not confirm the payment in time; it was cancelled.")
	}
	return p, nil
}

// settleCode books a channel's answer about a code payment.
func (s *Service) settleCode(ctx context.Context, ch channel.Name, p *onecard.CodePayment, tr *channel.Trade) (*onecard.CodePayment, error) {
	switch tr.State {
	case channel.StatePaid, channel.StateRefunded:
		if tr.Amount != p.Amount {
			return nil, onecard.Errorf(onecard.EINVALID, "%s reports %s for sale %s of %s.", channelTitle(ch), onecard.Yuan(tr.Amount), p.No, onecard.Yuan(p.Amount))
		}
		at := tr.PaidAt
		if at.IsZero() {
			at = s.cfg.Now()
		}
		return s.cfg.Store.SettleCodePayment(ctx, p.No, &onecard.PaidTrade{GatewayNo: tr.GatewayNo, Payer: tr.Payer, Amount: tr.Amount, At: at}, false)
	case channel.StateClosed:
		return s.cfg.Store.SettleCodePayment(ctx, p.No, nil, true)
	}
	return p, nil
}

// RefundCodePayment refunds part or all of a code payment (a merchant's
// refund): an Alipay or WeChat one back through its channel, then booked; a
// one-card one straight back to the transition balance. refundNo makes a
// retry refund once.
func (s *Service) RefundCodePayment(ctx context.Context, no, refundNo string, amount int64) (*onecard.CodePayment, error) {
	if refundNo == "" || len(refundNo) > 40 {
		return nil, onecard.Errorf(onecard.EINVALID, "A refund needs its own number (at most 40 characters).")
	}
	p, err := s.cfg.Store.CodePayment(ctx, no)
	if err != nil {
		return nil, err
	}
	if p.State != onecard.CodePaid && p.State != onecard.CodeRefunded {
		return nil, onecard.Errorf(onecard.ECONFLICT, "Sale %s is %s, not paid.", no, p.State)
	}
	if err := onecard.ValidateAmount(amount); err != nil {
		return nil, err
	}
	if amount > p.Amount-p.Refunded {
		return nil, onecard.Errorf(onecard.EINVALID, "Only %s of sale %s is left to refund.", onecard.Yuan(p.Amount-p.Refunded), no)
	}
	if p.Channel != onecard.ChannelAlipay && p.Channel != onecard.ChannelWechat {
		return s.cfg.Store.RefundCodePayment(ctx, no, refundNo, amount)
	}
	g, err := s.gateway(p.Channel)
	if err != nil {
		return nil, err
	}
	if err := g.Refund(ctx, channel.Refund{No: no, RefundNo: refundNo, Amount: amount, Total: p.Amount, Reason: "merchant refund"}); err != nil {
		return nil, gatewayError(g.Name(), err)
	}
	return s.cfg.Store.RefundCodePayment(ctx, no, refundNo, amount)
}

// newNo makes a code payment number: C + time + random digits.
func newNo(now time.Time) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return fmt.Sprintf("%s%s%s", codePaymentPrefix, now.UTC().Format("20060102150405"), b)
}

func alnum(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
