package api

import (
	"context"
	"strconv"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/payment"
)

// The operators' side of the payment channels: refunding a mistaken
// top-up (seed 004), a counter sale by payment code and its refund, and
// the daily reconciliation against the channels' statements. Top-ups and
// code payments carry their school, and an operator limited to one school
// sees only that school's.

// scopedTopUp returns a top-up of a school the operator may see.
func (s *Server) scopedTopUp(ctx context.Context, no string) (*onecard.TopUp, error) {
	t, err := s.cfg.PaymentStore.TopUp(ctx, no)
	if err != nil {
		return nil, err
	}
	if err := inSchool(ctx, t.SchoolID); err != nil {
		return nil, err
	}
	return t, nil
}

// scopedCodePayment returns a code payment of a school the operator may see.
func (s *Server) scopedCodePayment(ctx context.Context, no string) (*onecard.CodePayment, error) {
	p, err := s.cfg.PaymentStore.CodePayment(ctx, no)
	if err != nil {
		return nil, err
	}
	if err := inSchool(ctx, p.SchoolID); err != nil {
		return nil, err
	}
	return p, nil
}

// getTopUp returns an order as it is stored: reading asks no gateway, so
// an auditor's look changes nothing.
func (s *Server) getTopUp(ctx context.Context, in *topUpNoInput) (*topUpOutput, error) {
	t, err := s.scopedTopUp(ctx, in.No)
	if err != nil {
		return nil, err
	}
	return &topUpOutput{Body: t}, nil
}

type refundTopUpInput struct {
	No   string `path:"no" minLength:"1" maxLength:"64" doc:"The order number."`
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"256" doc:"Why, for the audit log: e.g. the parent topped up the wrong card."`
	}
}

// refundTopUp takes a mistakenly credited top-up back off the transition
// balance into refunds payable; the money is paid back to the payer outside
// the channel. Refused with insufficient_funds when the cardholder already
// spent it.
func (s *Server) refundTopUp(ctx context.Context, in *refundTopUpInput) (*topUpOutput, error) {
	if _, err := s.scopedTopUp(ctx, in.No); err != nil {
		return nil, err
	}
	t, err := s.cfg.PaymentStore.RefundTopUp(ctx, in.No, in.Body.Reason)
	if err != nil {
		return nil, err
	}
	return &topUpOutput{Body: t}, nil
}

type codePaymentOutput struct {
	Body *onecard.CodePayment
}

type counterSaleInput struct {
	Body struct {
		MerchantID int64  `json:"merchant_id" minimum:"1" doc:"The merchant paid."`
		Code       string `json:"code" pattern:"^[0-9]{18}$" patternDescription:"18 digits" doc:"The payment code read from the payer's phone: Alipay, WeChat or the one-card code."`
		Amount     int64  `json:"amount" minimum:"1" maximum:"1000000000" doc:"Fen."`
		No         string `json:"no" pattern:"^[0-9A-Za-z]{1,16}$" patternDescription:"1 to 16 letters and digits" doc:"The counter's own number for the sale; a retry with the same number returns the first result and charges once."`
	}
}

// counterSale charges a payment code at the counter, for a merchant of the
// operator's school. It may wait while the payer confirms on the phone.
func (s *Server) counterSale(ctx context.Context, in *counterSaleInput) (*codePaymentOutput, error) {
	b := in.Body
	m, err := s.cfg.Merchants.Merchant(ctx, b.MerchantID)
	if err != nil {
		return nil, err
	}
	if err := inSchool(ctx, m.SchoolID); err != nil {
		return nil, err
	}
	// The counter has no terminal, so the payment service would number
	// every counter's sales alike: the merchant in the number keeps one
	// counter's sale 1 from answering another's retry. With the service's
	// "C0_" the whole stays within WeChat's 32-character order number.
	no := "M" + strconv.FormatInt(m.ID, 10) + "N" + b.No
	p, err := s.cfg.Payments.PayByCode(ctx, &payment.CodePaymentRequest{
		No: no, MerchantID: m.ID, Code: b.Code, Amount: b.Amount, Terminal: "counter",
	})
	if err != nil {
		return nil, err
	}
	return &codePaymentOutput{Body: p}, nil
}

// codePaymentNoInput names a code payment in the path.
type codePaymentNoInput struct {
	No string `path:"no" minLength:"1" maxLength:"64" doc:"The code payment's number, as the sale answered it."`
}

// getCodePayment returns a code payment.
func (s *Server) getCodePayment(ctx context.Context, in *codePaymentNoInput) (*codePaymentOutput, error) {
	p, err := s.scopedCodePayment(ctx, in.No)
	if err != nil {
		return nil, err
	}
	return &codePaymentOutput{Body: p}, nil
}

type refundCodePaymentInput struct {
	No   string `path:"no" minLength:"1" maxLength:"64" doc:"The code payment's number, as the sale answered it."`
	Body struct {
		RefundNo string `json:"refund_no" minLength:"1" maxLength:"40" doc:"The refund's own number: a retry with it refunds once."`
		Amount   int64  `json:"amount" minimum:"1" maximum:"1000000000" doc:"Fen to refund, at most what is left of the sale."`
	}
}

// refundCodePayment refunds part or all of an Alipay or WeChat sale back
// through its channel; the merchant pays it back.
func (s *Server) refundCodePayment(ctx context.Context, in *refundCodePaymentInput) (*codePaymentOutput, error) {
	if _, err := s.scopedCodePayment(ctx, in.No); err != nil {
		return nil, err
	}
	p, err := s.cfg.Payments.RefundCodePayment(ctx, in.No, in.Body.RefundNo, in.Body.Amount)
	if err != nil {
		return nil, err
	}
	return &codePaymentOutput{Body: p}, nil
}

type reconcileInput struct {
	Body struct {
		Channel string `json:"channel" enum:"alipay,wechat,bank" doc:"The channel whose statement is compared."`
		Day     string `json:"day" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" patternDescription:"YYYY-MM-DD" doc:"The day, e.g. 2026-11-21, in the deployment's time zone."`
	}
}

type reconciliationOutput struct {
	Body *onecard.Reconciliation
}

// reconcile compares a channel's day with OneCard's records and stores the
// report. The channels' merchant accounts serve the whole deployment, so
// this is for platform operators only (see routes), and the day is read in
// the deployment's zone: the first school's, or China's.
func (s *Server) reconcile(ctx context.Context, in *reconcileInput) (*reconciliationOutput, error) {
	loc, err := s.deploymentZone(ctx)
	if err != nil {
		return nil, err
	}
	day, err := time.ParseInLocation("2006-01-02", in.Body.Day, loc)
	if err != nil {
		return nil, onecard.Errorf(onecard.EINVALID, "%q is not a day (YYYY-MM-DD).", in.Body.Day)
	}
	r, err := s.cfg.Payments.Reconcile(ctx, in.Body.Channel, day, loc)
	if err != nil {
		return nil, err
	}
	return &reconciliationOutput{Body: r}, nil
}

// deploymentZone is the time zone channel days are counted in.
func (s *Server) deploymentZone(ctx context.Context) (*time.Location, error) {
	all, err := s.cfg.Schools.Schools(ctx)
	if err != nil {
		return nil, err
	}
	// The first school created: listing order is by name, which a new
	// school could change under a running deployment.
	var first *onecard.School
	for _, sc := range all {
		if first == nil || sc.ID < first.ID {
			first = sc
		}
	}
	if first != nil {
		return first.Settings.Location(), nil
	}
	return onecard.DefaultSettings().Location(), nil
}

type reconciliationsOutput struct {
	Body struct {
		Items []*onecard.Reconciliation `json:"items" doc:"Newest first, at most 50."`
	}
}

// listReconciliations lists the latest reports.
func (s *Server) listReconciliations(ctx context.Context, _ *struct{}) (*reconciliationsOutput, error) {
	rs, err := s.cfg.PaymentStore.Reconciliations(ctx, 0, 50)
	if err != nil {
		return nil, err
	}
	out := &reconciliationsOutput{}
	out.Body.Items = nonNil(rs)
	return out, nil
}
