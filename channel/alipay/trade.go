package alipay

import (
	"context"
	"errors"
	"fmt"

	sdk "github.com/smartwalle/alipay/v3"

	"github.com/onecard-campus/onecard/channel"
)

// Alipay's sub_codes this package acts on.
const (
	subTradeNotExist   = "ACQ.TRADE_NOT_EXIST"
	subTradeStatus     = "ACQ.TRADE_STATUS_ERROR"
	subTradeHasSuccess = "ACQ.TRADE_HAS_SUCCESS"
)

// Query implements channel.Gateway with alipay.trade.query.
//
// Alipay's query tells paid from unpaid but not how much was refunded:
// a partly refunded trade stays TRADE_SUCCESS (Refunded 0 here), and a
// trade refunded in full is TRADE_CLOSED like one closed unpaid. The two
// closed ones differ by send_pay_date, the payment's date, which only a
// paid trade has. A code payment waiting on the payer's phone is
// WAIT_BUYER_PAY, StateWaiting: Alipay does not tell it apart.
func (g *Gateway) Query(ctx context.Context, no string) (*channel.Trade, error) {
	const api = "alipay.trade.query"
	rsp, err := g.client.TradeQuery(ctx, sdk.TradeQuery{OutTradeNo: no})
	var e *sdk.Error
	if rsp != nil {
		e = &rsp.Error
	}
	fail, err := settle(api, err, e)
	if err != nil {
		return nil, err
	}
	if fail != nil {
		if fail.SubCode == subTradeNotExist {
			return &channel.Trade{No: no, State: channel.StateNotFound}, nil
		}
		return nil, refusal(api, *fail)
	}
	if rsp.OutTradeNo != "" && rsp.OutTradeNo != no {
		return nil, channel.NewError(channel.ErrMalformed, fmt.Sprintf("asked for order %s, Alipay answered about %s", no, rsp.OutTradeNo))
	}
	t := &channel.Trade{No: no, GatewayNo: rsp.TradeNo, Payer: rsp.BuyerUserId}
	if t.Payer == "" {
		t.Payer = rsp.BuyerOpenId
	}
	if t.Amount, err = fen("total_amount", rsp.TotalAmount); err != nil {
		return nil, err
	}
	if t.PaidAt, err = when("send_pay_date", rsp.SendPayDate); err != nil {
		return nil, err
	}
	switch rsp.TradeStatus {
	case sdk.TradeStatusWaitBuyerPay:
		t.State = channel.StateWaiting
	case sdk.TradeStatusSuccess, sdk.TradeStatusFinished:
		t.State = channel.StatePaid
	case sdk.TradeStatusClosed:
		t.State = channel.StateClosed
		if !t.PaidAt.IsZero() {
			t.State, t.Refunded = channel.StateRefunded, t.Amount
		}
	default:
		return nil, channel.NewError(channel.ErrMalformed, fmt.Sprintf("unknown trade_status %q", rsp.TradeStatus))
	}
	return t, nil
}

// Close implements channel.Gateway with alipay.trade.close.
//
// An order whose pay URL was never opened does not exist at Alipay, and
// closing it is not an error; but it does not stop the URL from being
// paid later either. time_expire is what bounds that, and a payment that
// arrives after a close must still be handled (refunded) by the caller.
// Alipay refuses to close a trade that is not waiting, closed or paid
// alike, so that refusal is settled by asking.
func (g *Gateway) Close(ctx context.Context, no string) error {
	const api = "alipay.trade.close"
	rsp, err := g.client.TradeClose(ctx, sdk.TradeClose{OutTradeNo: no})
	var e *sdk.Error
	if rsp != nil {
		e = &rsp.Error
	}
	fail, err := settle(api, err, e)
	if err != nil || fail == nil {
		return err
	}
	switch fail.SubCode {
	case subTradeNotExist:
		return nil
	case subTradeStatus:
		t, err := g.Query(ctx, no)
		if err != nil {
			return err
		}
		switch t.State {
		case channel.StateClosed, channel.StateNotFound:
			return nil
		case channel.StatePaid, channel.StateRefunded:
			return channel.NewError(channel.ErrAlreadyPaid, fail.SubMsg)
		}
	}
	return refusal(api, *fail)
}

// Refund implements channel.Gateway with alipay.trade.refund. RefundNo is
// sent as out_request_no, which is what makes a retried refund refund once
// (Alipay answers it again with fund_change N).
func (g *Gateway) Refund(ctx context.Context, r channel.Refund) error {
	const api = "alipay.trade.refund"
	if r.No == "" || r.RefundNo == "" {
		// Without out_request_no Alipay would take the trade number, and
		// a second partial refund would silently be a duplicate.
		return errors.New("alipay: refund needs the order number and a refund number")
	}
	amount, err := yuan(r.Amount)
	if err != nil {
		return err
	}
	rsp, err := g.client.TradeRefund(ctx, sdk.TradeRefund{OutTradeNo: r.No, RefundAmount: amount, RefundReason: r.Reason, OutRequestNo: r.RefundNo})
	var e *sdk.Error
	if rsp != nil {
		e = &rsp.Error
	}
	fail, err := settle(api, err, e)
	if err != nil || fail == nil {
		return err
	}
	if fail.SubCode == subTradeNotExist {
		return channel.NewError(channel.ErrNotFound, fail.SubMsg)
	}
	return refusal(api, *fail)
}

// CodePay implements channel.Gateway with alipay.trade.pay, scene
// bar_code. Alipay answers 10000 when paid, 10003 when the payer must
// confirm on the phone (StatePaying: query until it settles), and 40004
// with its reason when it refuses.
func (g *Gateway) CodePay(ctx context.Context, c channel.CodePayment) (*channel.Trade, error) {
	const api = "alipay.trade.pay"
	if c.No == "" || c.AuthCode == "" {
		return nil, errors.New("alipay: code payment needs the order number and the payment code")
	}
	amount, err := yuan(c.Amount)
	if err != nil {
		return nil, err
	}
	p := sdk.TradePay{Scene: "bar_code", AuthCode: c.AuthCode, TerminalId: c.Terminal}
	p.OutTradeNo, p.TotalAmount, p.ProductCode = c.No, amount, "FACE_TO_FACE_PAYMENT"
	p.Subject = c.Subject
	if p.Subject == "" {
		p.Subject = c.No
	}
	rsp, err := g.client.TradePay(ctx, p)
	var e *sdk.Error
	if rsp != nil {
		e = &rsp.Error
	}
	fail, err := settle(api, err, e)
	if err != nil {
		return nil, err
	}
	if fail != nil {
		if fail.SubCode == subTradeHasSuccess {
			// A retried request whose first attempt was paid.
			return g.Query(ctx, c.No)
		}
		return nil, refusal(api, *fail)
	}
	t := &channel.Trade{No: c.No, GatewayNo: rsp.TradeNo, Amount: c.Amount, Payer: rsp.BuyerUserId, State: channel.StatePaid}
	if rsp.TotalAmount != "" {
		if t.Amount, err = fen("total_amount", rsp.TotalAmount); err != nil {
			return nil, err
		}
	}
	if rsp.Code == sdk.CodeOrderSuccessPayInProcess {
		t.State = channel.StatePaying
		return t, nil
	}
	if t.PaidAt, err = when("gmt_payment", rsp.GmtPayment); err != nil {
		return nil, err
	}
	return t, nil
}

// Reverse implements channel.Gateway with alipay.trade.cancel, which
// closes an unpaid code payment and refunds a paid one. An order Alipay
// never saw is *channel.Error ErrNotFound: nothing was charged.
func (g *Gateway) Reverse(ctx context.Context, no string) error {
	const api = "alipay.trade.cancel"
	rsp, err := g.client.TradeCancel(ctx, sdk.TradeCancel{OutTradeNo: no})
	var e *sdk.Error
	if rsp != nil {
		e = &rsp.Error
	}
	fail, err := settle(api, err, e)
	if err != nil {
		return err
	}
	if fail != nil {
		if fail.SubCode == subTradeNotExist {
			return channel.NewError(channel.ErrNotFound, fail.SubMsg)
		}
		return refusal(api, *fail)
	}
	if rsp.RetryFlag == "Y" {
		return fmt.Errorf("alipay: %s: Alipay asks to try the cancellation again", api)
	}
	return nil
}
