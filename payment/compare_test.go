package payment_test

import (
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/payment"
)

func TestCompare(t *testing.T) {
	at := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	ours := []onecard.ChannelRecord{
		{Kind: "payment", No: "T1", Amount: 100_00, At: at},
		{Kind: "payment", No: "T2", Amount: 50_00, At: at},
		{Kind: "refund", No: "T1", RefundNo: "R1", Amount: 10_00, At: at},
		{Kind: "payment", No: "T3", Amount: 20_00, At: at},
	}
	theirs := []channel.StatementLine{
		{Kind: channel.StatementPayment, No: "T1", Amount: 100_00, At: at},
		{Kind: channel.StatementPayment, No: "T2", Amount: 55_00, At: at},
		{Kind: channel.StatementRefund, No: "T1", RefundNo: "R1", Amount: 10_00, At: at},
		{Kind: channel.StatementPayment, No: "T9", Amount: 7_00, At: at},
		{Kind: channel.StatementPayment, No: "T1", Amount: 100_00, At: at}, // listed twice
	}
	r := payment.Compare(ours, theirs)
	want := map[string]string{"T2": "amount_differs", "T3": "only_ours", "T9": "only_theirs"}
	got := map[string]string{}
	dupes := 0
	for _, i := range r.Issues {
		if i.No == "T1" && i.Problem == "only_theirs" {
			dupes++
			continue
		}
		got[i.No] = i.Problem
	}
	if len(got) != len(want) || dupes != 1 {
		t.Fatalf("issues %+v", r.Issues)
	}
	for no, p := range want {
		if got[no] != p {
			t.Errorf("%s: %q, want %q", no, got[no], p)
		}
	}
	if r.Matched != 2 || r.Ours != 160_00 || r.Theirs != 252_00 {
		t.Errorf("matched %d, ours %d, theirs %d", r.Matched, r.Ours, r.Theirs)
	}
}
