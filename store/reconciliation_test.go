package store_test

import (
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
)

func TestChannelRecordsOfADay(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		if _, err := f.db.BindChannel(ctx, h.ID, onecard.ChannelAlipay, topUpBuyer); err != nil {
			t.Fatal(err)
		}
		bound := func(amount int64) *onecard.TopUp {
			tu, err := f.topUpCreate(onecard.NewTopUp{CardholderID: h.ID, Channel: onecard.ChannelAlipay, Kind: onecard.TopUpBound, Amount: amount})
			if err != nil {
				t.Fatal(err)
			}
			return tu
		}
		// 12:00 on 1 September: three paid orders and one left unpaid.
		credited := f.topUpCredit(t, bound(50_00), topUpBuyer)
		rejected := f.topUpCredit(t, bound(60_00), topUpStranger)
		refunded := f.topUpCredit(t, bound(70_00), topUpBuyer)
		if _, err := f.db.RefundTopUp(ctx, refunded.No, "a mistake"); err != nil {
			t.Fatal(err)
		}
		bound(80_00)
		wechat := f.topUpCredit(t, func() *onecard.TopUp {
			tu, err := f.topUpCreate(onecard.NewTopUp{CardholderID: h.ID, Channel: onecard.ChannelWechat, Kind: onecard.TopUpPublic, Amount: 90_00})
			if err != nil {
				t.Fatal(err)
			}
			return tu
		}(), "")
		// Paid just before the day ended (school time) and reported after it.
		late := bound(40_00)
		lastMinute := time.Date(2025, 9, 1, 23, 59, 0, 0, f.school.Settings.Location())
		if _, err := f.db.CreditTopUp(ctx, late.No, onecard.PaidTrade{GatewayNo: "G" + late.No, Payer: topUpBuyer, Amount: late.Total,
			At: lastMinute}); err != nil {
			t.Fatal(err)
		}
		// The channel refunds the rejected payment the next morning.
		f.clock.Advance(20 * time.Hour)
		if _, err := f.db.ReturnRejected(ctx, rejected.No); err != nil {
			t.Fatal(err)
		}

		day := f.school.Settings.DayStart(start)
		at := start.UTC()
		want := []onecard.ChannelRecord{
			{Kind: "payment", No: credited.No, GatewayNo: "G" + credited.No, Amount: 50_00, At: at},
			{Kind: "payment", No: rejected.No, GatewayNo: "G" + rejected.No, Amount: 60_00, At: at},
			{Kind: "payment", No: refunded.No, GatewayNo: "G" + refunded.No, Amount: 70_00, At: at},
			{Kind: "payment", No: late.No, GatewayNo: "G" + late.No, Amount: 40_00, At: lastMinute.UTC()},
		}
		// Records come by time, then order number (random within a second).
		sort.Slice(want, func(i, j int) bool {
			return want[i].At.Before(want[j].At) || want[i].At.Equal(want[j].At) && want[i].No < want[j].No
		})
		for _, school := range []int64{f.school.ID, 0} {
			got, err := f.db.ChannelRecords(ctx, school, onecard.ChannelAlipay, day, day.AddDate(0, 0, 1))
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("school %d, 1 September:\n got %+v %v\nwant %+v", school, got, err, want)
			}
		}
		next, err := f.db.ChannelRecords(ctx, 0, onecard.ChannelAlipay, day.AddDate(0, 0, 1), day.AddDate(0, 0, 2))
		if want := []onecard.ChannelRecord{{Kind: "refund", No: rejected.No, RefundNo: "R" + rejected.No, GatewayNo: "G" + rejected.No,
			Amount: 60_00, At: f.clock.Now().UTC()}}; err != nil || !reflect.DeepEqual(next, want) {
			t.Errorf("2 September:\n got %+v %v\nwant %+v", next, err, want)
		}
		wx, err := f.db.ChannelRecords(ctx, f.school.ID, onecard.ChannelWechat, day, day.AddDate(0, 0, 1))
		if err != nil || len(wx) != 1 || wx[0].No != wechat.No || wx[0].Amount != 90_00 {
			t.Errorf("WeChat: %+v %v", wx, err)
		}
		other := f.newSchool(t, "tju", onecard.Settings{})
		if got, err := f.db.ChannelRecords(ctx, other.ID, onecard.ChannelAlipay, day, day.AddDate(0, 0, 1)); err != nil || len(got) != 0 {
			t.Errorf("another school: %+v %v", got, err)
		}
		_, err = f.db.ChannelRecords(ctx, 0, "paypal", day, day.AddDate(0, 0, 1))
		wantCode(t, err, onecard.EINVALID)
	})
}

func TestReconciliations(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		other := f.newSchool(t, "tju", onecard.Settings{})
		reports := []*onecard.Reconciliation{
			{SchoolID: 0, Channel: onecard.ChannelAlipay, Day: "2025-09-01", Matched: 3, Ours: 120_00, Theirs: 100_00,
				Issues: []onecard.ReconciliationItem{{Problem: "only_ours", Kind: "payment", No: "T20250901120000000001", Ours: 20_00}}},
			{SchoolID: f.school.ID, Channel: onecard.ChannelWechat, Day: "2025-09-01", Matched: 1, Ours: 10_00, Theirs: 10_00},
			{SchoolID: other.ID, Channel: onecard.ChannelBank, Day: "2025-09-02", Issues: []onecard.ReconciliationItem{
				{Problem: "amount_differs", Kind: "refund", No: "T1", RefundNo: "RT1", GatewayNo: "G1", Ours: 1, Theirs: 2}}},
		}
		for _, r := range reports {
			f.clock.Advance(time.Minute)
			if err := f.db.SaveReconciliation(ctx, r); err != nil {
				t.Fatal(err)
			}
			if r.ID == 0 || !r.CreatedAt.Equal(f.clock.Now()) {
				t.Errorf("saved: %+v", r)
			}
		}
		reports[1].Issues = []onecard.ReconciliationItem{} // saved as an empty list
		for _, c := range []struct {
			school int64
			want   []*onecard.Reconciliation
		}{
			{0, []*onecard.Reconciliation{reports[2], reports[1], reports[0]}},
			{f.school.ID, []*onecard.Reconciliation{reports[1]}},
			{other.ID, []*onecard.Reconciliation{reports[2]}},
		} {
			got, err := f.db.Reconciliations(ctx, c.school, 10)
			if err != nil || len(got) != len(c.want) {
				t.Fatalf("school %d: %+v %v", c.school, got, err)
			}
			for i := range got {
				g, w := *got[i], *c.want[i]
				g.CreatedAt, w.CreatedAt = g.CreatedAt.UTC(), w.CreatedAt.UTC()
				if !reflect.DeepEqual(g, w) {
					t.Errorf("school %d, report %d:\n got %+v\nwant %+v", c.school, i, g, w)
				}
			}
		}
		for _, bad := range []*onecard.Reconciliation{
			{Channel: "paypal", Day: "2025-09-01"},
			{Channel: onecard.ChannelAlipay, Day: "1 September"},
		} {
			wantCode(t, f.db.SaveReconciliation(ctx, bad), onecard.EINVALID)
		}
		wantCode(t, f.db.SaveReconciliation(ctx, &onecard.Reconciliation{SchoolID: 999999, Channel: onecard.ChannelAlipay, Day: "2025-09-01"}),
			onecard.ENOTFOUND)
	})
}
