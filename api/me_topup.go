package api

import (
	"context"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// The cardholder's top-ups from the payment channels (seeds 000, 001, 003),
// the automatic top-up and the SMS notices. Every handler acts on the
// session's cardholder and nothing the request names.

type topUpRulesOutput struct {
	Body struct {
		Rules    onecard.TopUpRules `json:"rules" doc:"The school's rules: quick amounts, limits and fees, in fen."`
		Channels []channel.Name     `json:"channels" doc:"The channels that are on: alipay, wechat, bank."`
	}
}

// meTopUpRules is what the top-up screen offers.
func (s *Server) meTopUpRules(ctx context.Context, _ *struct{}) (*topUpRulesOutput, error) {
	me := onecard.CardholderFromContext(ctx)
	if me == nil {
		return nil, onecard.Errorf(onecard.EFORBIDDEN, "Only a cardholder session may do this.")
	}
	sc, err := s.cfg.Schools.School(ctx, me.SchoolID)
	if err != nil {
		return nil, err
	}
	out := &topUpRulesOutput{}
	out.Body.Rules = sc.Settings.WithDefaults().TopUp
	out.Body.Channels = nonNil(s.cfg.Payments.Channels())
	return out, nil
}

type topUpOutput struct {
	Body *onecard.TopUp
}

type meTopUpInput struct {
	Body struct {
		Channel string `json:"channel" enum:"alipay,wechat" doc:"The bound account's channel that pays."`
		Amount  int64  `json:"amount" minimum:"1" maximum:"1000000000" doc:"Fen to credit; the channel fee, if any, is added to what the payer pays."`
		Key     string `json:"key" minLength:"1" maxLength:"64" doc:"Idempotency key: a retry with the same key returns the same order."`
	}
}

// meTopUp opens a top-up from the caller's bound Alipay or WeChat account;
// the app sends the payer to pay_url. The store keeps request keys per
// cardholder, so one cardholder's key never returns another's order.
func (s *Server) meTopUp(ctx context.Context, in *meTopUpInput) (*topUpOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	b := in.Body
	t, err := s.cfg.Payments.TopUpBound(ctx, id, b.Channel, b.Amount, b.Key)
	if err != nil {
		return nil, err
	}
	return &topUpOutput{Body: t}, nil
}

type bankCodeOutput struct {
	Body struct {
		Phone string `json:"phone" doc:"The masked phone the code was sent to."`
	}
}

// meBankCode texts the caller the code that confirms a bank top-up.
func (s *Server) meBankCode(ctx context.Context, _ *struct{}) (*bankCodeOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	phone, err := s.cfg.Payments.RequestBankCode(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &bankCodeOutput{}
	out.Body.Phone = phone
	return out, nil
}

type meBankTopUpInput struct {
	Body struct {
		Amount  int64  `json:"amount" minimum:"1" maximum:"1000000000" doc:"Fen to credit."`
		SMSCode string `json:"sms_code" pattern:"^[0-9]{6}$" patternDescription:"six digits" doc:"The code from POST /me/topups/bank/code."`
		Key     string `json:"key" minLength:"1" maxLength:"64" doc:"Idempotency key: a retry with the same key returns the same order."`
	}
}

// meBankTopUp debits the caller's bound bank card; the bank answers at
// once, so the order comes back credited (or the call fails).
func (s *Server) meBankTopUp(ctx context.Context, in *meBankTopUpInput) (*topUpOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	b := in.Body
	t, err := s.cfg.Payments.TopUpBank(ctx, id, b.Amount, b.SMSCode, b.Key)
	if err != nil {
		return nil, err
	}
	return &topUpOutput{Body: t}, nil
}

type meTopUpsInput struct {
	Limit int `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"At most this many."`
}

type topUpsOutput struct {
	Body struct {
		Items []*onecard.TopUp `json:"items" doc:"Newest first."`
	}
}

// meTopUps lists the caller's top-up orders.
func (s *Server) meTopUps(ctx context.Context, in *meTopUpsInput) (*topUpsOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := s.cfg.PaymentStore.TopUps(ctx, id, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &topUpsOutput{}
	out.Body.Items = nonNil(ts)
	return out, nil
}

// topUpNoInput names a top-up order in the path.
type topUpNoInput struct {
	No string `path:"no" minLength:"1" maxLength:"64" doc:"The order number."`
}

// meTopUpOne returns one of the caller's orders, asking its gateway first
// when it is still pending (the app polls this after the payer returns).
// Another's order is not found, as if absent, and its gateway is never
// asked.
func (s *Server) meTopUpOne(ctx context.Context, in *topUpNoInput) (*topUpOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.cfg.PaymentStore.TopUp(ctx, in.No)
	// One answer, word for word, for absent and another's: the caller
	// must not learn that a number is someone's order.
	if (err == nil && t.CardholderID != id) || onecard.ErrorCode(err) == onecard.ENOTFOUND {
		return nil, onecard.Errorf(onecard.ENOTFOUND, "You have no top-up order %s.", in.No)
	}
	if err != nil {
		return nil, err
	}
	return &topUpOutput{Body: s.settled(ctx, t)}, nil
}

// settled asks the gateway about a pending order. Whatever goes wrong
// there (a gateway out of reach, or one reporting another amount, which is
// for the operators and the log, not the payer) leaves the stored order:
// its state is still true, only perhaps not the newest, and the settle job
// catches up.
func (s *Server) settled(ctx context.Context, t *onecard.TopUp) *onecard.TopUp {
	if t.State != onecard.TopUpPending {
		return t
	}
	after, err := s.cfg.Payments.Settle(ctx, t.No)
	if err != nil || after == nil {
		loggerFrom(ctx).WarnContext(ctx, "api: top-up not settled on read", "no", t.No, "err", err)
		return t
	}
	return after
}

type autoTopUpOutput struct {
	Body *onecard.AutoTopUp
}

// meAutoTopUp returns the caller's automatic top-up setting.
func (s *Server) meAutoTopUp(ctx context.Context, _ *struct{}) (*autoTopUpOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.cfg.PaymentStore.AutoTopUp(ctx, id)
	if err != nil {
		return nil, err
	}
	return &autoTopUpOutput{Body: a}, nil
}

type setAutoTopUpInput struct {
	Body struct {
		Enabled   bool  `json:"enabled" doc:"Turning it on is the cardholder's consent to debits of the bound bank card without a code each time."`
		Threshold int64 `json:"threshold" minimum:"0" maximum:"1000000000" doc:"Top up when the total balance falls below this many fen."`
		Amount    int64 `json:"amount" minimum:"1" maximum:"1000000000" doc:"Fen to take from the bank card each time."`
	}
}

// meSetAutoTopUp changes the caller's automatic top-up. Enabling needs a
// bank card bound for top-ups; the store records the consent.
func (s *Server) meSetAutoTopUp(ctx context.Context, in *setAutoTopUpInput) (*autoTopUpOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	b := in.Body
	a, err := s.cfg.PaymentStore.SetAutoTopUp(ctx, &onecard.AutoTopUp{CardholderID: id, Enabled: b.Enabled, Threshold: b.Threshold, Amount: b.Amount})
	if err != nil {
		return nil, err
	}
	return &autoTopUpOutput{Body: a}, nil
}

type noticePrefsOutput struct {
	Body *onecard.NoticePrefs
}

// meNotices returns the SMS notices the caller asked for.
func (s *Server) meNotices(ctx context.Context, _ *struct{}) (*noticePrefsOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.cfg.PaymentStore.NoticePrefs(ctx, id)
	if err != nil {
		return nil, err
	}
	return &noticePrefsOutput{Body: p}, nil
}

type setNoticesInput struct {
	Body struct {
		TopUp           bool  `json:"top_up" doc:"Text me when a top-up reaches my card."`
		LowBalance      bool  `json:"low_balance" doc:"Text me when my balance falls below low_balance_below (once a day at most)."`
		Freeze          bool  `json:"freeze" doc:"Text me when my card is frozen."`
		LowBalanceBelow int64 `json:"low_balance_below" minimum:"0" maximum:"1000000000" doc:"Fen."`
	}
}

// meSetNotices replaces the caller's SMS notice choices.
func (s *Server) meSetNotices(ctx context.Context, in *setNoticesInput) (*noticePrefsOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	b := in.Body
	p := &onecard.NoticePrefs{TopUp: b.TopUp, LowBalance: b.LowBalance, Freeze: b.Freeze, LowBalanceBelow: b.LowBalanceBelow}
	if err := s.cfg.PaymentStore.SetNoticePrefs(ctx, id, p); err != nil {
		return nil, err
	}
	if p, err = s.cfg.PaymentStore.NoticePrefs(ctx, id); err != nil {
		return nil, err
	}
	return &noticePrefsOutput{Body: p}, nil
}
