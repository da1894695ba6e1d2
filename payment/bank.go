package payment

import (
	"context"
	"fmt"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/sms"
)

// smsBankTopUp is the purpose of the SMS code that confirms a bank top-up.
const smsBankTopUp = "bank_topup"

// RequestBankCode texts the cardholder a code that confirms a bank top-up
// and returns the masked phone it went to. ECONFLICT without a phone or a
// bound bank card; ERATELIMIT within a minute of the last code.
func (s *Service) RequestBankCode(ctx context.Context, cardholderID int64) (string, error) {
	if _, err := s.bankAgreement(ctx, cardholderID); err != nil {
		return "", err
	}
	code, phone, err := s.cfg.Store.IssueSMSCode(ctx, cardholderID, smsBankTopUp)
	if err != nil {
		return "", err
	}
	s.send(ctx, phone, sms.VerificationCode(code, "银行卡充值"))
	return sms.MaskPhone(phone), nil
}

// TopUpBank debits the bound bank card after the SMS code checks out. The
// bank answers at once, so the order comes back credited or refused.
func (s *Service) TopUpBank(ctx context.Context, cardholderID, amount int64, code, key string) (*onecard.TopUp, error) {
	agreement, err := s.bankAgreement(ctx, cardholderID)
	if err != nil {
		return nil, err
	}
	// A retry (a double tap on the button) finds the order the first try
	// opened: its code is used by then, and asking for it again would
	// turn a success into an error.
	if key != "" {
		if t, err := s.cfg.Store.TopUpByKey(ctx, cardholderID, key); err == nil && t.Kind == onecard.TopUpBank && t.Amount == amount {
			return t, nil
		}
	}
	if err := s.cfg.Store.CheckSMSCode(ctx, cardholderID, smsBankTopUp, code); err != nil {
		return nil, err
	}
	return s.openOrder(ctx, &onecard.NewTopUp{Key: key, CardholderID: cardholderID, Channel: onecard.ChannelBank,
		Kind: onecard.TopUpBank, Amount: amount, Payer: agreement})
}

// RunAutoTopUps makes the automatic top-ups that are due: a cardholder
// whose total balance fell below their threshold, who consented and had
// none today, is topped up from the bound bank card. The key is the
// cardholder and the school day, so a second run the same day does nothing.
func (s *Service) RunAutoTopUps(ctx context.Context) (int, error) {
	due, err := s.cfg.Store.DueAutoTopUps(ctx, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	days := map[int64]string{} // school → today's date there
	for _, a := range due {
		agreement, err := s.bankAgreement(ctx, a.CardholderID)
		if err != nil {
			continue
		}
		day, err := s.schoolDay(ctx, a.CardholderID, days)
		if err != nil {
			s.log.Error("payment: automatic top-up not made", "cardholder", a.CardholderID, "err", err)
			continue
		}
		key := fmt.Sprintf("auto:%d:%s", a.CardholderID, day)
		t, err := s.openOrder(ctx, &onecard.NewTopUp{Key: key, CardholderID: a.CardholderID, Channel: onecard.ChannelBank,
			Kind: onecard.TopUpAuto, Amount: a.Amount, Payer: agreement})
		if err != nil {
			s.log.Info("payment: automatic top-up not made", "cardholder", a.CardholderID, "err", err)
			continue
		}
		if t.State == onecard.TopUpCredited {
			n++
		}
	}
	return n, nil
}

// schoolDay returns today's date in the time zone of the cardholder's
// school, remembering each school's date in days. The date in the server's
// own zone would not do: on a server in UTC it changes at 08:00 in Shanghai,
// so the key of a top-up made at 23:30 would come back at 00:30 and the
// next school day's top-up would find the last one instead of being made.
func (s *Service) schoolDay(ctx context.Context, cardholderID int64, days map[int64]string) (string, error) {
	h, err := s.cfg.Cardholders.Cardholder(ctx, cardholderID)
	if err != nil {
		return "", err
	}
	if day, ok := days[h.SchoolID]; ok {
		return day, nil
	}
	school, err := s.cfg.Schools.School(ctx, h.SchoolID)
	if err != nil {
		return "", err
	}
	days[h.SchoolID] = s.cfg.Now().In(school.Settings.Location()).Format("2006-01-02")
	return days[h.SchoolID], nil
}

// bankAgreement returns the cardholder's bank agreement or ECONFLICT.
func (s *Service) bankAgreement(ctx context.Context, cardholderID int64) (string, error) {
	if _, err := s.gateway(onecard.ChannelBank); err != nil {
		return "", err
	}
	a, err := s.cfg.Store.BankAgreement(ctx, cardholderID)
	if onecard.ErrorCode(err) == onecard.ENOTFOUND || (err == nil && a == "") {
		return "", onecard.Errorf(onecard.ECONFLICT, "No bank card is bound to this card for top-ups. Bind one first.")
	}
	return a, err
}
