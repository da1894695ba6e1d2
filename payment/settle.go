package payment

import (
	"context"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// settleAfter is how old a pending order must be before the settle job
// asks its gateway: younger ones are still being paid or notified.
const settleAfter = time.Minute

// SettlePending asks the gateways about pending orders: a paid one whose
// notification never came is credited, one past its expiry is closed at
// the gateway (so it can no longer be paid) and then here. It returns how
// many orders changed.
func (s *Service) SettlePending(ctx context.Context) (int, error) {
	pending, err := s.cfg.Store.PendingTopUps(ctx, s.cfg.Now().Add(-settleAfter), 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range pending {
		after, err := s.settleOne(ctx, t)
		if err != nil {
			s.log.Warn("payment: pending order not settled", "no", t.No, "err", err)
			continue
		}
		if after.State != t.State {
			n++
		}
	}
	return n, nil
}

// Settle settles one order now (the payer's return page asks for it, so
// that a payer does not wait for a late notification). Pages poll it, so
// the gateway is asked about one order at most every queryEvery; in
// between the stored order is returned.
func (s *Service) Settle(ctx context.Context, no string) (*onecard.TopUp, error) {
	t, err := s.cfg.Store.TopUp(ctx, no)
	if err != nil || t.State != onecard.TopUpPending || !s.mayQuery(no) {
		return t, err
	}
	return s.settleOne(ctx, t)
}

// queryEvery is how often one order's page may make the gateway be asked.
const queryEvery = 2 * time.Second

// mayQuery reports whether the gateway may be asked about an order now,
// and notes that it is.
func (s *Service) mayQuery(no string) bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.queried[no]; ok && now.Sub(last) < queryEvery {
		return false
	}
	if len(s.queried) > 10_000 { // forget old entries rather than grow
		for k, at := range s.queried {
			if now.Sub(at) >= queryEvery {
				delete(s.queried, k)
			}
		}
	}
	s.queried[no] = now
	return true
}

func (s *Service) settleOne(ctx context.Context, t *onecard.TopUp) (*onecard.TopUp, error) {
	g, err := s.gateway(t.Channel)
	if err != nil {
		return nil, err
	}
	tr, err := g.Query(ctx, t.No)
	if err != nil {
		return nil, err
	}
	if tr.State == channel.StatePaid && tr.Amount != t.Total {
		return nil, onecard.Errorf(onecard.EINVALID, "%s reports %s paid for %s, the order is %s.",
			channelTitle(g.Name()), onecard.Yuan(tr.Amount), t.No, onecard.Yuan(t.Total))
	}
	if tr.State == channel.StateWaiting && s.cfg.Now().After(t.ExpiresAt) {
		// Close at the gateway first: once it is closed there nobody can
		// pay it, so closing it here cannot lose a payment. If it was paid
		// in the meantime, the gateway says so and we credit it.
		if err := g.Close(ctx, t.No); err != nil {
			if channel.Code(err) != channel.ErrAlreadyPaid {
				return nil, err
			}
			if tr, err = g.Query(ctx, t.No); err != nil {
				return nil, err
			}
		} else {
			tr.State = channel.StateClosed
		}
	}
	return s.apply(ctx, t, tr)
}
