package payment

import (
	"context"
	"net/http"
	"strings"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// NotifyHandler receives the gateways' asynchronous notifications at
// /pay/notify/{channel}. A notification is acted on only when its
// signature verifies, it names a known order and its amount is the
// order's; whatever it says is then checked with the store's own rules, so
// a duplicate moves nothing. The gateway is told to stop only when the
// notification was booked (or can never be): otherwise it retries.
func (s *Service) NotifyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("channel")
		g, ok := s.cfg.Gateways[channel.Name(name)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		tr, err := g.Notification(r)
		if err != nil {
			s.log.Warn("payment: notification refused", "channel", name, "err", err)
			g.Ack(w, false)
			return
		}
		ok, err = s.handleTrade(r.Context(), g.Name(), tr)
		if err != nil {
			s.log.Warn("payment: notification not booked", "channel", name, "order", tr.No, "err", err)
		}
		g.Ack(w, ok)
	})
}

// handleTrade books a verified notification. ok says the gateway may stop
// sending it.
func (s *Service) handleTrade(ctx context.Context, ch channel.Name, tr *channel.Trade) (bool, error) {
	if strings.HasPrefix(tr.No, codePaymentPrefix) {
		p, err := s.cfg.Store.CodePayment(ctx, tr.No)
		if err != nil {
			return false, err
		}
		_, err = s.settleCode(ctx, ch, p, tr)
		return err == nil, err
	}
	t, err := s.cfg.Store.TopUp(ctx, tr.No)
	if err != nil {
		return false, err
	}
	if t.Channel != string(ch) {
		return false, onecard.Errorf(onecard.EINVALID, "Order %s is not a %s order.", t.No, ch)
	}
	if tr.State != channel.StatePaid && tr.State != channel.StateRefunded && tr.State != channel.StateClosed {
		return true, nil // nothing to book yet
	}
	if tr.Amount != t.Total {
		// A verified notification with another amount is a gateway or
		// configuration fault, never money to credit: refuse and keep it
		// in the log for the operators.
		return false, onecard.Errorf(onecard.EINVALID, "Notification for %s reports %s, the order is %s.", t.No, onecard.Yuan(tr.Amount), onecard.Yuan(t.Total))
	}
	t, err = s.apply(ctx, t, tr)
	if err != nil {
		return false, err
	}
	// A rejected order whose refund did not go through yet stays
	// unacknowledged so the gateway reminds us; the settle job retries too.
	return t.State != onecard.TopUpRejected, nil
}
