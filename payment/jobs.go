package payment

import (
	"context"
	"time"
)

// Run runs the payment side's background work until ctx ends: settling
// pending orders every 30 seconds, the automatic top-ups and the
// low-balance and freeze notices every minute, and
// at 02:00 (loc) reconciling the day before for every channel.
func (s *Service) Run(ctx context.Context, loc *time.Location) {
	settle := time.NewTicker(30 * time.Second)
	auto := time.NewTicker(time.Minute)
	defer settle.Stop()
	defer auto.Stop()
	lastRecon := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-settle.C:
			if _, err := s.SettlePending(ctx); err != nil {
				s.log.Error("payment: settle pending orders", "err", err)
			}
		case <-auto.C:
			if _, err := s.RunAutoTopUps(ctx); err != nil {
				s.log.Error("payment: automatic top-ups", "err", err)
			}
			if _, err := s.SendNotices(ctx); err != nil {
				s.log.Error("payment: notices", "err", err)
			}
			now := s.cfg.Now().In(loc)
			if day := now.Format("2006-01-02"); now.Hour() >= 2 && day != lastRecon {
				lastRecon = day
				for _, ch := range s.Channels() {
					r, err := s.Reconcile(ctx, string(ch), now.AddDate(0, 0, -1), loc)
					if err != nil {
						s.log.Error("payment: reconciliation", "channel", ch, "err", err)
						continue
					}
					if len(r.Issues) > 0 {
						s.log.Warn("payment: reconciliation found differences", "channel", ch, "day", r.Day, "issues", len(r.Issues))
					}
				}
			}
		}
	}
}
