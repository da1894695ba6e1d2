package device

import (
	"context"
	"net/http"
	"regexp"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/payment"
)

// CodePayer charges payment codes; *payment.Service implements it. It is an
// interface so that this package needs only payment's request type, and
// payment never needs this package.
type CodePayer interface {
	PayByCode(ctx context.Context, req *payment.CodePaymentRequest) (*onecard.CodePayment, error)
}

// CodePayRequest is a POS charging the payment code it scanned: Alipay's,
// WeChat's or the one-card code.
type CodePayRequest struct {
	// No is the POS's own number for the sale, 1 to 20 letters and digits,
	// unique on this POS: a retry with the same No returns the first result
	// and charges once.
	No     string `json:"no"`
	Code   string `json:"code"`   // the 18 digits read from the payer's screen
	Amount int64  `json:"amount"` // fen
}

// CodePayResult is a settled code payment.
type CodePayResult struct {
	State   string `json:"state"`   // paid (a refusal is an error answer)
	No      string `json:"no"`      // the server's number for the sale
	Amount  int64  `json:"amount"`  // fen
	Channel string `json:"channel"` // alipay, wechat or onecard
}

// saleNo is what the POS may number a sale with. The server's number is
// "C<terminal id>_<no>", and WeChat takes order numbers of at most 32
// characters: 20 leaves room for a terminal ID of up to 10 digits.
var saleNo = regexp.MustCompile(`^[0-9A-Za-z]{1,20}$`)

// codePay charges a payment code at a POS for the terminal's merchant: the
// payee comes from the terminal's registration, never the request. It may
// take as long as the payer needs to confirm on the phone (up to the
// payment service's wait, 30 s by default).
func (s *Server) codePay(ctx context.Context, t *onecard.Terminal, _ *http.Request, body []byte) (any, error) {
	if err := allow(t, "/device/v1/codepay", onecard.TerminalPOS); err != nil {
		return nil, err
	}
	if t.MerchantID == 0 {
		return nil, onecard.Errorf(onecard.EFORBIDDEN, "This POS belongs to no merchant, so there is nobody to pay.")
	}
	var req CodePayRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if !saleNo.MatchString(req.No) {
		return nil, onecard.Errorf(onecard.EINVALID, "A sale number is 1 to 20 letters and digits.")
	}
	if req.Amount <= 0 || req.Amount > onecard.MaxAmount {
		return nil, onecard.Errorf(onecard.EINVALID, "The amount must be between ¥0.01 and %s.", onecard.Yuan(onecard.MaxAmount))
	}
	p, err := s.cfg.CodePayer.PayByCode(ctx, &payment.CodePaymentRequest{
		No: req.No, MerchantID: t.MerchantID, TerminalID: t.ID, Code: req.Code, Amount: req.Amount, Terminal: t.Code,
	})
	if err != nil {
		return nil, err
	}
	if p.State != onecard.CodePaid {
		// A retry of a sale that did not go through: the POS must not
		// show it as paid.
		return nil, onecard.Errorf(onecard.ECONFLICT, "Sale %s is %s, not paid.", req.No, p.State)
	}
	return &CodePayResult{State: p.State, No: p.No, Amount: p.Amount, Channel: p.Channel}, nil
}
