package payment

import (
	"context"

	"github.com/onecard-campus/onecard/sms"
)

// SendNotices texts the low-balance and freeze notices that are due (the
// cardholders asked for them; freeze notices are on unless turned off) and
// records each as sent, so it goes out once. It returns how many went out.
func (s *Service) SendNotices(ctx context.Context) (int, error) {
	if s.cfg.Notices == nil || s.cfg.SMS == nil {
		return 0, nil
	}
	due, err := s.cfg.Notices.DueNotices(ctx, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		text := sms.FreezeNotice(d.Reason)
		if d.Kind == "low_balance" {
			text = sms.LowBalanceNotice(d.Balance, d.Threshold)
		}
		// Recorded first: a notice recorded but not delivered is a lost
		// text; one delivered but not recorded would be sent every minute.
		if err := s.cfg.Notices.MarkNoticeSent(ctx, d); err != nil {
			return n, err
		}
		if err := s.cfg.SMS.Send(ctx, d.Phone, text); err != nil {
			s.log.Warn("payment: notice not sent", "kind", d.Kind, "phone", sms.MaskPhone(d.Phone), "err", err)
			continue
		}
		n++
	}
	return n, nil
}
