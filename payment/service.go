// Package payment is where the channels meet the money: it binds channel
// accounts and bank cards to cards, opens top-up orders and sends payers to
// the gateway, turns verified notifications (or, when one never comes, the
// answer to a query) into credits, charges payment codes at the POS,
// refunds, and reconciles each day against the channels' statements.
//
// It calls the gateways (package channel) and then the store
// (onecard.PaymentStore), which moves the money idempotently: a duplicate
// notification, a retried request or a job running twice never credits
// twice. The order of the two matters and is the same everywhere: the
// gateway is asked first, the ledger is written from its answer.
package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/sms"
)

// Config is what the service needs.
type Config struct {
	Store       onecard.PaymentStore
	Schools     onecard.SchoolService
	Cardholders onecard.CardholderService
	Cards       onecard.CardService
	Banks       onecard.BankBindingService
	Merchants   onecard.MerchantService
	// Gateways are the configured channels; a missing one is off.
	Gateways map[channel.Name]channel.Gateway
	// SMS sends notices and codes; nil sends none.
	SMS sms.Sender
	// Notices finds the low-balance and freeze notices due; nil sends
	// none of those.
	Notices onecard.NoticeStore
	// PublicURL is the server's address as gateways and payers reach it:
	// notifications go to PublicURL/pay/notify/{channel} and payers return
	// to PublicURL/pay/result/{no}.
	PublicURL string
	// CodeWait is how long a code payment waits for a payer confirming on
	// the phone before it is reversed: 30 s by default. CodePoll is the
	// query interval: 2 s.
	CodeWait, CodePoll time.Duration
	// LookupRate limits public card lookups per client address: 10 a
	// minute with bursts of 5 by default, so the lookup cannot list
	// cardholders.
	LookupRate  rate.Limit
	LookupBurst int
	Logger      *slog.Logger
	Now         func() time.Time
}

// Service runs the payment side. It is safe for concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	lookups map[string]*rate.Limiter // by client address
	queried map[string]time.Time     // order -> last gateway query by Settle
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.CodeWait == 0 {
		cfg.CodeWait = 30 * time.Second
	}
	if cfg.CodePoll == 0 {
		cfg.CodePoll = 2 * time.Second
	}
	if cfg.LookupRate == 0 {
		cfg.LookupRate = rate.Every(6 * time.Second)
	}
	if cfg.LookupBurst == 0 {
		cfg.LookupBurst = 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	return &Service{cfg: cfg, log: cfg.Logger, lookups: map[string]*rate.Limiter{}, queried: map[string]time.Time{}}
}

// Channels lists the channels that are on.
func (s *Service) Channels() []channel.Name {
	var out []channel.Name
	for _, n := range []channel.Name{channel.Alipay, channel.Wechat, channel.Bank} {
		if _, ok := s.cfg.Gateways[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// gateway returns a channel's gateway or EINVALID when it is off.
func (s *Service) gateway(name string) (channel.Gateway, error) {
	g, ok := s.cfg.Gateways[channel.Name(name)]
	if !ok {
		return nil, onecard.Errorf(onecard.EINVALID, "Payment channel %q is not available here.", name)
	}
	return g, nil
}

// gatewayError turns a gateway's answer into an error for the caller: a
// definite refusal is EINVALID with the gateway's words, anything else an
// internal error (the cause is logged, not shown).
func gatewayError(ch channel.Name, err error) error {
	var ce *channel.Error
	if errors.As(err, &ce) {
		switch ce.Code {
		case channel.ErrRefused:
			return onecard.Errorf(onecard.EINVALID, "%s refused: %s", channelTitle(ch), ce.Message)
		case channel.ErrNotFound:
			return onecard.Errorf(onecard.ENOTFOUND, "%s does not know this order.", channelTitle(ch))
		}
	}
	return fmt.Errorf("payment: %s: %w", ch, err) // logged by the API, shown as an internal error
}

func channelTitle(ch channel.Name) string {
	switch ch {
	case channel.Alipay:
		return "Alipay"
	case channel.Wechat:
		return "WeChat Pay"
	case channel.Bank:
		return "The bank"
	}
	return string(ch)
}

// notifyURL and returnURL are where gateways and payers come back.
func (s *Service) notifyURL(ch string) string { return s.cfg.PublicURL + "/pay/notify/" + ch }
func (s *Service) returnURL(no string) string { return s.cfg.PublicURL + "/pay/result/" + no }

// send sends an SMS if a sender is configured; failures are logged, never
// returned: a notice that did not go out must not undo a payment.
func (s *Service) send(ctx context.Context, phone, text string) {
	if s.cfg.SMS == nil || phone == "" {
		return
	}
	if err := s.cfg.SMS.Send(ctx, phone, text); err != nil {
		s.log.Warn("payment: SMS not sent", "phone", sms.MaskPhone(phone), "err", err)
	}
}

// clientLimiter returns the lookup limiter of a client address.
func (s *Service) clientLimiter(addr string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.lookups[addr]
	if !ok {
		if len(s.lookups) > 100_000 { // forget everyone rather than grow without bound
			s.lookups = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(s.cfg.LookupRate, s.cfg.LookupBurst)
		s.lookups[addr] = l
	}
	return l
}
