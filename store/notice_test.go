package store_test

import (
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestNoticePrefs(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		p, err := f.db.NoticePrefs(ctx, h.ID)
		if err != nil || *p != (onecard.NoticePrefs{TopUp: true, Freeze: true, LowBalanceBelow: 20_00}) {
			t.Fatalf("defaults: %+v %v", p, err)
		}
		for _, want := range []onecard.NoticePrefs{
			{LowBalance: true, LowBalanceBelow: 15_00},
			{TopUp: true, Freeze: true},
		} {
			if err := f.db.SetNoticePrefs(ctx, h.ID, &want); err != nil {
				t.Fatal(err)
			}
			if got, err := f.db.NoticePrefs(ctx, h.ID); err != nil || *got != want {
				t.Errorf("round trip: %+v %v, want %+v", got, err, want)
			}
		}
		wantCode(t, f.db.SetNoticePrefs(ctx, h.ID, &onecard.NoticePrefs{LowBalance: true}), onecard.EINVALID)
		wantCode(t, f.db.SetNoticePrefs(ctx, h.ID, &onecard.NoticePrefs{LowBalanceBelow: -1}), onecard.EINVALID)
		wantCode(t, f.db.SetNoticePrefs(ctx, 999999, &onecard.NoticePrefs{}), onecard.ENOTFOUND)
		_, err = f.db.NoticePrefs(ctx, 999999)
		wantCode(t, err, onecard.ENOTFOUND)
	})
}
