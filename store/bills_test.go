package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
)

// shanghai is the fixture school's time zone.
var shanghai = onecard.DefaultSettings().Location()

// september is the fixture's first month (the clock starts on its first day).
var september = onecard.BillFilter{From: time.Date(2025, 9, 1, 0, 0, 0, 0, shanghai), To: time.Date(2025, 10, 1, 0, 0, 0, 0, shanghai)}

// billWorld is a cardholder with a month of every kind of money, and a
// neighbour whose money must never show in the cardholder's bills.
type billWorld struct {
	h, other *onecard.Cardholder
	pos      *onecard.Terminal
}

// billTerminal registers a terminal of the canteen on the fixture's campus.
func (f *fixture) billTerminal(t *testing.T, kind onecard.TerminalKind, code, name string) *onecard.Terminal {
	t.Helper()
	term := &onecard.Terminal{SchoolID: f.school.ID, CampusID: f.school.Campuses[0].ID, MerchantID: f.canteen.ID, Kind: kind, Code: code, Name: name}
	if kind != onecard.TerminalPOS {
		term.MerchantID = 0
	}
	if _, err := f.db.CreateTerminal(ctx, term); err != nil {
		t.Fatal(err)
	}
	return term
}

// billMonth books, an hour apart from noon on 1 September: an Alipay top-up
// of ¥100, a canteen payment of ¥12.50, a claim of ¥30 at the canteen's
// POS, a POS purchase of ¥8 from the card, a one-card code payment of ¥6
// at the POS, an Alipay code payment of ¥20 from the bound account at a
// shop on the campus and a ¥5 refund of it, and a cash deposit of ¥50. The
// neighbour pays ¥99 on the same day; the cardholder pays ¥7 on 1 October.
func billMonth(t *testing.T, f *fixture) *billWorld {
	t.Helper()
	w := &billWorld{}
	var card *onecard.Card
	w.h, card, _ = f.cardholder(t)
	w.other, _, _ = f.cardholder(t)
	w.pos = f.billTerminal(t, onecard.TerminalPOS, "pos-3", "二楼3号窗口")
	is, err := f.db.PurseIssuer(ctx, f.school.ID)
	if err != nil {
		t.Fatal(err)
	}
	uid, err := purse.ParseUID(card.UID)
	if err != nil {
		t.Fatal(err)
	}
	image := is.Personalize(uid, w.h.Number, f.school.Settings.PurseCeiling)
	step := func() { f.clock.Advance(time.Hour) }

	f.topUpCredit(t, f.topUpPublic(t, w.h, 100_00), "2088000000000001")
	step()
	if err := f.pay(w.h, f.canteen, 12_50); err != nil {
		t.Fatal(err)
	}
	if err := f.pay(w.other, f.canteen, 99_00); err == nil {
		t.Fatal("the neighbour paid without money")
	}
	f.deposit(t, w.other, 99_00)
	if err := f.pay(w.other, f.canteen, 99_00); err != nil {
		t.Fatal(err)
	}
	step()
	init, err := image.InitLoad(30_00, purse.TerminalID(w.pos.ID))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := f.db.AuthorizeLoad(ctx, w.pos, &device.LoadRequest{Kind: device.LoadClaim, UID: uid, Amount: 30_00, Init: *init})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := image.Load(auth.MAC2, auth.Time); err != nil {
		t.Fatal(err)
	}
	step()
	term := &purse.Terminal{SAM: is.SAM(purse.TerminalID(w.pos.ID))}
	tap, err := term.Tap(image, 8_00, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res, err := f.db.UploadRecords(ctx, w.pos, []purse.Record{*tap.Record}); err != nil || res[0].Status != device.RecordAccepted {
		t.Fatalf("upload: %v %+v", err, res)
	}
	step()
	if _, err := f.db.PayWithCode(ctx, "PC1", f.payCode(t, w.h), f.canteen.ID, w.pos.ID, 6_00); err != nil {
		t.Fatal(err)
	}
	step()
	if _, err := f.db.BindChannel(ctx, w.h.ID, onecard.ChannelAlipay, "2088000000000002"); err != nil {
		t.Fatal(err)
	}
	shop := &onecard.Merchant{SchoolID: f.school.ID, CampusID: f.school.Campuses[0].ID, Code: "shop-1", Name: "教超", Kind: "shop"}
	if err := f.db.CreateMerchant(ctx, shop); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.CreateCodePayment(ctx, &onecard.CodePayment{No: "CP1", MerchantID: shop.ID, Channel: onecard.ChannelAlipay, Amount: 20_00}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.SettleCodePayment(ctx, "CP1", &onecard.PaidTrade{GatewayNo: "GCP1", Payer: "2088000000000002", Amount: 20_00, At: f.clock.Now()}, false); err != nil {
		t.Fatal(err)
	}
	step()
	if _, err := f.db.RefundCodePayment(ctx, "CP1", "RF1", 5_00); err != nil {
		t.Fatal(err)
	}
	step()
	f.deposit(t, w.h, 50_00)
	f.clock.Advance(30 * 24 * time.Hour) // 1 October
	if err := f.pay(w.h, f.canteen, 7_00); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestBills(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		w := billMonth(t, f)
		place := "Balitai · 二楼3号窗口"
		canteen := f.canteen.Name
		all := september
		all.CardholderID = w.h.ID
		type line struct {
			kind, merchant, place, account, via string
			amount                              int64
		}
		want := []line{ // newest first
			{onecard.BillTopUp, "", "", "transition", "cash", 50_00},
			{onecard.BillRefund, "教超", "Balitai", "alipay", "", 5_00},
			{onecard.BillSpending, "教超", "Balitai", "alipay", "", -20_00},
			{onecard.BillSpending, canteen, place, "transition", "", -6_00},
			{onecard.BillSpending, canteen, place, "purse", "", -8_00},
			{onecard.BillClaim, "", place, "purse", "", 30_00},
			{onecard.BillSpending, canteen, "", "transition", "", -12_50},
			{onecard.BillTopUp, "", "", "transition", "alipay", 100_00},
		}
		for _, tc := range []struct {
			name string
			kind string
			want []line
		}{
			{"all", "", want},
			{"spending", onecard.BillSpending, []line{want[1], want[2], want[3], want[4], want[6]}},
			{"topup", onecard.BillTopUp, []line{want[0], want[7]}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				flt := all
				flt.Kind = tc.kind
				bills, total, err := f.db.Bills(ctx, flt, 0, 50)
				if err != nil {
					t.Fatal(err)
				}
				if total != len(tc.want) || len(bills) != len(tc.want) {
					t.Fatalf("%d lines of %d, want %d", len(bills), total, len(tc.want))
				}
				for i, b := range bills {
					got := line{b.Kind, b.Merchant, b.Place, b.Account, b.Via, b.Amount}
					if got != tc.want[i] {
						t.Errorf("line %d = %+v, want %+v", i, got, tc.want[i])
					}
					if b.TransferID == 0 || b.Time.Before(september.From) || !b.Time.Before(september.To) {
						t.Errorf("line %d: transfer %d at %v", i, b.TransferID, b.Time)
					}
					if i > 0 && b.Time.After(bills[i-1].Time) {
						t.Errorf("line %d is newer than line %d", i, i-1)
					}
				}
			})
		}

		t.Run("pages", func(t *testing.T) {
			var seen []int64
			for offset := 0; offset < 10; offset += 3 {
				page, total, err := f.db.Bills(ctx, all, offset, 3)
				if err != nil || total != len(want) {
					t.Fatalf("offset %d: %d lines, %v", offset, total, err)
				}
				for _, b := range page {
					seen = append(seen, b.TransferID)
				}
			}
			if len(seen) != len(want) {
				t.Fatalf("pages gave %d lines, want %d", len(seen), len(want))
			}
			for i := range seen {
				for j := range i {
					if seen[i] == seen[j] {
						t.Errorf("transfer %d on two pages", seen[i])
					}
				}
			}
		})

		t.Run("summary", func(t *testing.T) {
			s, err := f.db.BillSummary(ctx, all)
			if err != nil {
				t.Fatal(err)
			}
			if s.Spending != 41_50 || s.TopUps != 150_00 {
				t.Errorf("spending %s, top-ups %s; want ¥41.50 and ¥150.00", onecard.Yuan(s.Spending), onecard.Yuan(s.TopUps))
			}
			// 1 September 2025 is a Monday: five weeks start in September.
			var weeks int64
			for _, w := range s.ByWeek {
				weeks += w.Spending
			}
			if len(s.ByWeek) != 5 || weeks != 41_50 || s.ByWeek[0].Spending != 41_50 || !s.ByWeek[0].Start.Equal(september.From) {
				t.Errorf("by week %+v", s.ByWeek)
			}
			if len(s.ByDay) != 1 || s.ByDay[0].Spending != 41_50 || s.ByDay[0].Count != 4 || !s.ByDay[0].Start.Equal(september.From) {
				t.Errorf("by day %+v", s.ByDay)
			}
			if len(s.ByMerchant) != 2 || s.ByMerchant[0] != (onecard.MerchantTotal{Merchant: canteen, Spending: 26_50, Count: 3}) ||
				s.ByMerchant[1] != (onecard.MerchantTotal{Merchant: "教超", Spending: 15_00, Count: 1}) {
				t.Errorf("by merchant %+v", s.ByMerchant)
			}
			spending := all
			spending.Kind = onecard.BillSpending
			if s, err := f.db.BillSummary(ctx, spending); err != nil || s.Spending != 41_50 || s.TopUps != 0 {
				t.Errorf("spending only: %+v, %v", s, err)
			}
		})

		t.Run("the neighbour", func(t *testing.T) {
			flt := all
			flt.CardholderID = w.other.ID
			bills, total, err := f.db.Bills(ctx, flt, 0, 50)
			if err != nil || total != 2 || bills[0].Amount != -99_00 || bills[1].Amount != 99_00 {
				t.Fatalf("the neighbour's bills: %d %v", total, err)
			}
		})

		t.Run("october", func(t *testing.T) {
			flt := onecard.BillFilter{CardholderID: w.h.ID, From: september.To, To: september.To.AddDate(0, 1, 0)}
			bills, total, err := f.db.Bills(ctx, flt, 0, 50)
			if err != nil || total != 1 || bills[0].Amount != -7_00 {
				t.Fatalf("October: %d lines, %v", total, err)
			}
			s, err := f.db.BillSummary(ctx, flt)
			if err != nil || s.Spending != 7_00 || s.TopUps != 0 || len(s.ByWeek) != 5 {
				t.Fatalf("October summary %+v, %v", s, err)
			}
		})
	})
}

func TestBillsRefuse(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		from := september.From
		for _, tc := range []struct {
			name string
			f    onecard.BillFilter
			code string
		}{
			{"no period", onecard.BillFilter{CardholderID: h.ID}, onecard.EINVALID},
			{"end before start", onecard.BillFilter{CardholderID: h.ID, From: from, To: from.Add(-time.Hour)}, onecard.EINVALID},
			{"two years", onecard.BillFilter{CardholderID: h.ID, From: from, To: from.AddDate(2, 0, 0)}, onecard.EINVALID},
			{"unknown kind", onecard.BillFilter{CardholderID: h.ID, From: from, To: from.AddDate(0, 1, 0), Kind: "claim"}, onecard.EINVALID},
			{"unknown cardholder", onecard.BillFilter{CardholderID: 9999, From: from, To: from.AddDate(0, 1, 0)}, onecard.ENOTFOUND},
			{"a year", onecard.BillFilter{CardholderID: h.ID, From: from, To: from.AddDate(1, 0, 0)}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := f.db.Bills(ctx, tc.f, 0, 10)
				wantCode(t, err, tc.code)
				_, err = f.db.BillSummary(ctx, tc.f)
				wantCode(t, err, tc.code)
			})
		}
	})
}

// An empty month has no lines, zero totals and still every week.
func TestBillsEmpty(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		flt := onecard.BillFilter{CardholderID: h.ID, From: time.Date(2026, 2, 1, 0, 0, 0, 0, shanghai), To: time.Date(2026, 3, 1, 0, 0, 0, 0, shanghai)}
		bills, total, err := f.db.Bills(ctx, flt, 0, 50)
		if err != nil || total != 0 || len(bills) != 0 {
			t.Fatalf("%d lines, %v", total, err)
		}
		s, err := f.db.BillSummary(ctx, flt)
		if err != nil {
			t.Fatal(err)
		}
		// February 2026 starts on a Sunday: that day, then four Mondays.
		if s.Spending != 0 || s.TopUps != 0 || len(s.ByWeek) != 5 || len(s.ByDay) != 0 || len(s.ByMerchant) != 0 {
			t.Errorf("summary %+v", s)
		}
		if got := fmt.Sprint(s.ByWeek[1].Start.Format("01-02 Mon")); got != "02-02 Mon" {
			t.Errorf("second week starts %s", got)
		}
	})
}

// A year and more of daily top-ups: each month's bills are its own days,
// found by time in a journal of many months, also when a transfer's time
// is earlier than the one before it (a writer that waited for the ledger).
func TestBillsMonthsOfJournal(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		other, _, _ := f.cardholder(t)
		days := 400
		for i := range days {
			f.deposit(t, h, 1_00)
			f.deposit(t, other, 1_00) // the neighbour's lines sit between the cardholder's
			if i == 29 {
				// 30 September: a transfer stamped 20 minutes into October
				// is booked before one stamped at 23:50 the evening before.
				f.clock.Advance(12*time.Hour + 20*time.Minute)
				f.deposit(t, h, 3_00)
				f.clock.Advance(-30 * time.Minute)
				f.deposit(t, h, 2_00)
				f.clock.Advance(-(11*time.Hour + 50*time.Minute))
			}
			f.clock.Advance(24 * time.Hour)
		}

		total := 0
		for month := september.From; month.Before(september.From.AddDate(0, 14, 0)); month = month.AddDate(0, 1, 0) {
			flt := onecard.BillFilter{CardholderID: h.ID, From: month, To: month.AddDate(0, 1, 0)}
			bills, n, err := f.db.Bills(ctx, flt, 0, 500)
			if err != nil {
				t.Fatal(err)
			}
			want, sum := 0, int64(0)
			for d := month; d.Before(flt.To); d = d.AddDate(0, 0, 1) {
				if int(d.Sub(september.From).Hours()/24) < days {
					want, sum = want+1, sum+1_00
				}
			}
			switch {
			case month.Equal(september.From):
				want, sum = want+1, sum+2_00
			case month.Equal(september.To):
				want, sum = want+1, sum+3_00
			}
			s, err := f.db.BillSummary(ctx, flt)
			if err != nil {
				t.Fatal(err)
			}
			if n != want || len(bills) != want || s.TopUps != sum {
				t.Errorf("%s: %d lines, top-ups %s; want %d, %s", month.Format("2006-01"), n, onecard.Yuan(s.TopUps), want, onecard.Yuan(sum))
			}
			total += n
		}
		if total != days+2 {
			t.Errorf("the months have %d lines, want %d", total, days+2)
		}
	})
}
