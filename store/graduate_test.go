package store_test

import (
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
)

// Seed 004: graduates' cards are frozen three months after they leave;
// students still at school are not.
func TestGraduatesCardsFreezeAfterTheSchoolsPeriod(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		grad, gradCard, _ := f.cardholder(t)
		_, stayCard, _ := f.cardholder(t)
		if _, err := f.db.SetCardholderStatus(ctx, grad.ID, onecard.CardholderGraduated); err != nil {
			t.Fatal(err)
		}
		sweep := func(want int) {
			t.Helper()
			if n, err := f.db.FreezeExpiredGraduates(ctx); err != nil || n != want {
				t.Fatalf("sweep froze %d (%v), want %d", n, err, want)
			}
		}
		f.clock.Advance(89 * 24 * time.Hour)
		sweep(0)
		f.clock.Advance(2 * 24 * time.Hour)
		sweep(1)
		sweep(0)
		c, err := f.db.Card(ctx, gradCard.ID)
		if err != nil || c.FreezeReason != onecard.FreezeAbnormal {
			t.Fatalf("graduate's card %+v (%v), want frozen for abnormal use", c, err)
		}
		if c, _ := f.db.Card(ctx, stayCard.ID); c.FreezeReason != "" {
			t.Errorf("a student's card was frozen: %+v", c)
		}
		entries, _, err := f.db.Blacklist(ctx, f.school.ID, 0)
		if err != nil || len(entries) == 0 || entries[len(entries)-1].CardID != gradCard.ID || !entries[len(entries)-1].Blocked {
			t.Errorf("blacklist %+v (%v), want the graduate's card blocked last", entries, err)
		}
	})
}
