package payment

import (
	"context"
	"sort"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// Reconcile compares OneCard's payments and refunds through a channel on
// one day with the channel's statement of that day and stores the report:
// what is only on one side, and what is on both with different amounts. It
// moves no money: differences are for people to look into.
//
// A channel's statement covers the whole merchant account, which every
// school of a deployment shares, so the comparison is deployment-wide
// (schoolID 0 in the store's records); day is read in the time zone of loc.
func (s *Service) Reconcile(ctx context.Context, ch string, day time.Time, loc *time.Location) (*onecard.Reconciliation, error) {
	g, err := s.gateway(ch)
	if err != nil {
		return nil, err
	}
	d := day.In(loc)
	from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 1)
	theirs, err := g.Statement(ctx, from)
	if err != nil {
		return nil, gatewayError(g.Name(), err)
	}
	ours, err := s.cfg.Store.ChannelRecords(ctx, 0, ch, from, to)
	if err != nil {
		return nil, err
	}
	r := Compare(ours, theirs)
	r.Channel, r.Day = ch, from.Format("2006-01-02")
	if err := s.cfg.Store.SaveReconciliation(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Compare matches records and statement lines by kind and number (the
// refund number for refunds) and lists the differences.
func Compare(ours []onecard.ChannelRecord, theirs []channel.StatementLine) *onecard.Reconciliation {
	type key struct{ kind, no string }
	keyOf := func(kind, no, refundNo string) key {
		if kind == string(channel.StatementRefund) {
			return key{kind, no + "/" + refundNo}
		}
		return key{kind, no}
	}
	r := &onecard.Reconciliation{Issues: []onecard.ReconciliationItem{}}
	mine := map[key]onecard.ChannelRecord{}
	for _, o := range ours {
		mine[keyOf(o.Kind, o.No, o.RefundNo)] = o
		r.Ours += signed(o.Kind, o.Amount)
	}
	seen := map[key]bool{}
	for _, l := range theirs {
		k := keyOf(string(l.Kind), l.No, l.RefundNo)
		r.Theirs += signed(string(l.Kind), l.Amount)
		o, ok := mine[k]
		switch {
		case !ok || seen[k]:
			r.Issues = append(r.Issues, onecard.ReconciliationItem{Problem: "only_theirs", Kind: string(l.Kind), No: l.No,
				RefundNo: l.RefundNo, GatewayNo: l.GatewayNo, Theirs: l.Amount})
		case o.Amount != l.Amount:
			r.Issues = append(r.Issues, onecard.ReconciliationItem{Problem: "amount_differs", Kind: o.Kind, No: o.No,
				RefundNo: o.RefundNo, GatewayNo: l.GatewayNo, Ours: o.Amount, Theirs: l.Amount})
		default:
			r.Matched++
		}
		seen[k] = true
	}
	for k, o := range mine {
		if !seen[k] {
			r.Issues = append(r.Issues, onecard.ReconciliationItem{Problem: "only_ours", Kind: o.Kind, No: o.No,
				RefundNo: o.RefundNo, GatewayNo: o.GatewayNo, Ours: o.Amount})
		}
	}
	sort.SliceStable(r.Issues, func(i, j int) bool {
		if r.Issues[i].Problem != r.Issues[j].Problem {
			return r.Issues[i].Problem < r.Issues[j].Problem
		}
		return r.Issues[i].No < r.Issues[j].No
	})
	return r
}

func signed(kind string, amount int64) int64 {
	if kind == string(channel.StatementRefund) {
		return -amount
	}
	return amount
}
