package api

import (
	"bytes"
	"context"
	_ "embed"
	"html/template"
	"net/http"

	"github.com/onecard-campus/onecard"
)

// The payment side's two addresses outside /api/v1, which are not JSON
// API calls: the gateways' notifications, in each channel's own protocol,
// and the page the payer's browser returns to after paying.

//go:embed pages/pay_result.html
var payResultHTML string

var payResultPage = template.Must(template.New("pay_result").Parse(payResultHTML))

// payPages registers /pay/notify/{channel} and /pay/result/{no}.
func (s *Server) payPages() {
	s.mux.Handle("POST /pay/notify/{channel}", s.cfg.Payments.NotifyHandler())
	s.mux.HandleFunc("GET /pay/result/{no}", s.payResult)
}

// payResultView is what the result page shows: the state in words, the
// amount and the masked card number, nothing else of the cardholder.
type payResultView struct {
	Found   bool
	Pending bool // the page reloads itself every 3 s
	Title   string
	Mark    string
	Class   string
	Note    string
	Amount  string // ¥12.50
	Card    string // ******0001
	No      string
	State   string // the state word (credited, pending...), for scripts and tests
	Public  bool   // a public top-up: its payer goes on at /topup/{no}
}

// payResult settles the order (so that a payer does not wait for a late
// notification) and shows where it stands.
func (s *Server) payResult(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	no := r.PathValue("no")
	v := &payResultView{Title: "订单不存在", Note: "没有找到这笔充值订单，请核对链接。"}
	status := http.StatusNotFound
	var st *publicTopUpState
	var err error
	if len(no) <= 64 {
		st, err = s.publicState(ctx, no)
	} else {
		err = onecard.Errorf(onecard.ENOTFOUND, "No such order.")
	}
	switch {
	case err == nil:
		status = http.StatusOK
		v = resultView(st)
		if t, err := s.cfg.PaymentStore.TopUp(ctx, no); err == nil {
			v.Public = t.Kind == onecard.TopUpPublic
		}
	case onecard.ErrorCode(err) == onecard.ENOTFOUND:
	default:
		s.logPageError(ctx, no, err)
		status = http.StatusInternalServerError
		v = &payResultView{Title: "暂时无法查询", Note: "请稍后刷新本页。"}
	}
	var buf bytes.Buffer
	if err := payResultPage.Execute(&buf, v); err != nil {
		s.logPageError(ctx, no, err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page shows money and a card number: no caching, no framing, no
	// scripts, and no referrer carrying the order number elsewhere.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func resultView(st *publicTopUpState) *payResultView {
	v := &payResultView{Found: true, Amount: onecard.Yuan(st.Amount), Card: st.Card, No: st.No, State: string(st.State)}
	switch st.State {
	case onecard.TopUpCredited:
		v.Title, v.Mark, v.Class = "充值成功", "✓", "ok"
		v.Note = "款项已到一卡通账户，下次刷卡时写入卡内。"
	case onecard.TopUpPending:
		v.Title, v.Mark, v.Class, v.Pending = "等待支付结果", "…", "wait", true
		v.Note = "正在确认支付结果，本页每 3 秒自动刷新。"
	case onecard.TopUpClosed:
		v.Title, v.Mark, v.Class = "已关闭", "×", "bad"
		v.Note = "订单未支付，已关闭。"
	case onecard.TopUpRejected, onecard.TopUpReturned:
		v.Title, v.Mark, v.Class = "未能充值", "×", "bad"
		v.Note = "付款账户不是这张卡绑定的账户，款项原路退回。"
	case onecard.TopUpRefunded:
		v.Title, v.Mark, v.Class = "已退款", "×", "bad"
		v.Note = "这笔充值已由一卡通中心退款。"
	default:
		v.Title, v.Mark, v.Class = string(st.State), "?", "bad"
	}
	return v
}

func (s *Server) logPageError(ctx context.Context, no string, err error) {
	s.log.ErrorContext(ctx, "api: payment result page", "no", no, "err", err)
}
