package wechat

import (
	"context"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard/channel"
)

func TestQuery(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.order("Q-WAIT", 100)
	e.paid("Q-PAID", 200, "o-query")
	e.order("Q-CLOSED", 300)
	if err := e.gw.Close(ctx, "Q-CLOSED"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		no     string
		state  channel.State
		amount int64
		payer  string
	}{
		{"Q-WAIT", channel.StateWaiting, 100, ""},
		{"Q-PAID", channel.StatePaid, 200, "o-query"},
		{"Q-CLOSED", channel.StateClosed, 300, ""},
		{"Q-NONE", channel.StateNotFound, 0, ""},
	} {
		t.Run(tc.no, func(t *testing.T) {
			tr, err := e.gw.Query(ctx, tc.no)
			if err != nil {
				t.Fatal(err)
			}
			if tr.No != tc.no || tr.State != tc.state || tr.Amount != tc.amount || tr.Payer != tc.payer {
				t.Fatalf("trade = %+v", tr)
			}
			paid := tc.state == channel.StatePaid
			if paid != !tr.PaidAt.IsZero() || paid != (tr.GatewayNo != "") {
				t.Fatalf("trade = %+v: paid time and trade number only when paid", tr)
			}
		})
	}
	// A number that cannot be an out_trade_no never reaches the wire.
	_, err := e.gw.Query(ctx, "../close")
	wantCode(t, err, channel.ErrMalformed)
}

func TestClose(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.order("C-OPEN", 100)
	if err := e.gw.Close(ctx, "C-OPEN"); err != nil {
		t.Fatal(err)
	}
	if err := e.gw.Close(ctx, "C-OPEN"); err != nil {
		t.Fatalf("closing a closed order: %v", err)
	}
	if err := e.sb.Pay(channel.Wechat, "C-OPEN", ""); err == nil {
		t.Fatal("a closed order was paid")
	}
	e.paid("C-PAID", 100, "")
	wantCode(t, e.gw.Close(ctx, "C-PAID"), channel.ErrAlreadyPaid)
	wantCode(t, e.gw.Close(ctx, "C-NONE"), channel.ErrNotFound)
}

func TestRefund(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.paid("R-1", 1000, "o-refund")
	e.order("R-UNPAID", 1000)
	refund := func(no, refundNo string, amount, total int64) error {
		return e.gw.Refund(ctx, channel.Refund{No: no, RefundNo: refundNo, Amount: amount, Total: total, Reason: "退卡"})
	}
	query := func(state channel.State, refunded int64) {
		t.Helper()
		tr, err := e.gw.Query(ctx, "R-1")
		if err != nil || tr.State != state || tr.Refunded != refunded {
			t.Fatalf("query = %+v, %v; want %s with %d refunded", tr, err, state, refunded)
		}
	}

	if err := refund("R-1", "R-1-A", 300, 1000); err != nil {
		t.Fatal(err)
	}
	if err := refund("R-1", "R-1-A", 300, 1000); err != nil {
		t.Fatalf("retried refund: %v", err)
	}
	if got := e.sb.Order(channel.Wechat, "R-1").Refunded(); got != 300 {
		t.Fatalf("refunded %d after the same refund twice, want 300", got)
	}
	query(channel.StatePaid, 300)

	for _, tc := range []struct {
		name               string
		no, refundNo       string
		amount, total      int64
		want               channel.ErrorCode
		wantMessageContain string
	}{
		{"more than is left", "R-1", "R-1-X", 701, 1000, channel.ErrRefused, "exceeds"},
		{"refund number reused for another amount", "R-1", "R-1-A", 200, 1000, channel.ErrRefused, "different amount"},
		{"wrong total", "R-1", "R-1-Y", 100, 999, channel.ErrRefused, "total"},
		{"unpaid order", "R-UNPAID", "R-U-1", 100, 1000, channel.ErrRefused, "not paid"},
		{"unknown order", "R-NONE", "R-N-1", 100, 1000, channel.ErrNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := refund(tc.no, tc.refundNo, tc.amount, tc.total)
			wantCode(t, err, tc.want)
			if !strings.Contains(err.Error(), tc.wantMessageContain) {
				t.Fatalf("error %q does not carry WeChat Pay's words %q", err, tc.wantMessageContain)
			}
		})
	}

	if err := refund("R-1", "R-1-B", 700, 1000); err != nil {
		t.Fatal(err)
	}
	query(channel.StateRefunded, 1000)
	wantCode(t, refund("R-1", "R-1-C", 1, 1000), channel.ErrRefused)
}

func TestCodePay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pay := func(no, code string) (*channel.Trade, error) {
		return e.gw.CodePay(ctx, channel.CodePayment{No: no, AuthCode: code, Amount: 1500, Subject: "食堂充值", Terminal: "POS-3"})
	}

	t.Run("instant", func(t *testing.T) {
		code := e.sb.IssueCode(channel.Wechat, "o-pos-1", false)
		tr, err := pay("P-1", code)
		if err != nil {
			t.Fatal(err)
		}
		if tr.No != "P-1" || tr.State != channel.StatePaid || tr.Amount != 1500 || tr.Payer != "o-pos-1" || tr.GatewayNo == "" || tr.PaidAt.IsZero() {
			t.Fatalf("trade = %+v", tr)
		}
		// The POS retries after a lost answer: the same trade, not a second
		// charge nor a refusal of the used code.
		again, err := pay("P-1", code)
		if err != nil || again.State != channel.StatePaid || again.GatewayNo != tr.GatewayNo {
			t.Fatalf("retry = %+v, %v", again, err)
		}
		_, err = pay("P-1-REUSE", code)
		wantCode(t, err, channel.ErrRefused)
		if !strings.Contains(err.Error(), "used") {
			t.Fatalf("refusal %q lacks WeChat Pay's reason", err)
		}
	})

	t.Run("payer confirms", func(t *testing.T) {
		tr, err := pay("P-2", e.sb.IssueCode(channel.Wechat, "o-pos-2", true))
		if err != nil {
			t.Fatal(err)
		}
		if tr.State != channel.StatePaying {
			t.Fatalf("trade = %+v, want paying", tr)
		}
		if q, err := e.gw.Query(ctx, "P-2"); err != nil || q.State != channel.StatePaying {
			t.Fatalf("query while paying = %+v, %v", q, err)
		}
		if err := e.sb.ConfirmCode(channel.Wechat, "P-2"); err != nil {
			t.Fatal(err)
		}
		q, err := e.gw.Query(ctx, "P-2")
		if err != nil || q.State != channel.StatePaid || q.Payer != "o-pos-2" || q.Amount != 1500 {
			t.Fatalf("query after confirmation = %+v, %v", q, err)
		}
	})

	for _, tc := range []struct{ name, no, code string }{
		{"unknown code", "P-3", "134567890123456789"},
		{"Alipay's code", "P-4", e.sb.IssueCode(channel.Alipay, "", false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pay(tc.no, tc.code)
			wantCode(t, err, channel.ErrRefused)
			if q, _ := e.gw.Query(ctx, tc.no); q == nil || q.State != channel.StateNotFound {
				t.Fatalf("a refused code left a trade: %+v", q)
			}
		})
	}
}

func TestReverse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := func(confirm bool) string { return e.sb.IssueCode(channel.Wechat, "o-rev", confirm) }

	if _, err := e.gw.CodePay(ctx, channel.CodePayment{No: "V-PAYING", AuthCode: code(true), Amount: 600, Subject: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gw.CodePay(ctx, channel.CodePayment{No: "V-PAID", AuthCode: code(false), Amount: 700, Subject: "x"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		no       string
		state    channel.State
		refunded int64
	}{
		{"V-PAYING", channel.StateClosed, 0},   // never paid: closed
		{"V-PAID", channel.StateRefunded, 700}, // paid: refunded in full
	} {
		t.Run(tc.no, func(t *testing.T) {
			if err := e.gw.Reverse(ctx, tc.no); err != nil {
				t.Fatal(err)
			}
			tr, err := e.gw.Query(ctx, tc.no)
			if err != nil || tr.State != tc.state || tr.Refunded != tc.refunded {
				t.Fatalf("after reverse: %+v, %v", tr, err)
			}
		})
	}
	if err := e.sb.ConfirmCode(channel.Wechat, "V-PAYING"); err == nil {
		t.Fatal("a reversed payment was confirmed")
	}
	wantCode(t, e.gw.Reverse(ctx, "V-NONE"), channel.ErrNotFound)
}
