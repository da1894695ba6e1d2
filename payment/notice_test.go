package payment_test

import (
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
)

// A cardholder who asked for low-balance notices gets one a day while the
// balance is under their level; a frozen card texts its holder once per
// freeze, unless they turned freeze notices off.
func TestNotices(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		low, _ := w.cardholder(t)
		quiet, _ := w.cardholder(t)
		frozen, _ := w.cardholder(t)
		if err := w.db.SetNoticePrefs(ctx, low.ID, &onecard.NoticePrefs{LowBalance: true, LowBalanceBelow: 20_00, Freeze: true}); err != nil {
			t.Fatal(err)
		}
		if err := w.db.SetNoticePrefs(ctx, quiet.ID, &onecard.NoticePrefs{Freeze: false}); err != nil {
			t.Fatal(err)
		}
		for _, h := range []*onecard.Cardholder{quiet, frozen} {
			c, err := w.db.ActiveCard(ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.db.Freeze(ctx, c.ID, onecard.FreezeAbnormal, "test"); err != nil {
				t.Fatal(err)
			}
		}
		count := func() int {
			n, err := w.svc.SendNotices(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(); n != 2 {
			t.Fatalf("first run sent %d notices, want the low balance and one freeze", n)
		}
		if n := count(); n != 0 {
			t.Fatalf("second run sent %d notices, want none", n)
		}
		if got := w.texts.Messages(low.Phone); len(got) != 1 || !strings.Contains(got[0].Text, "¥0.00") {
			t.Fatalf("low-balance text: %+v", got)
		}
		if got := w.texts.Messages(quiet.Phone); len(got) != 0 {
			t.Fatalf("a cardholder who turned freeze notices off got %+v", got)
		}
		if got := w.texts.Messages(frozen.Phone); len(got) != 1 {
			t.Fatalf("freeze text: %+v", got)
		}
		w.clock.Advance(24 * time.Hour)
		if n := count(); n != 1 {
			t.Fatalf("next day sent %d notices, want the low balance again", n)
		}
	})
}
