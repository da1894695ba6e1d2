// Package bank is the bank link (银校通): the school's bank debits a
// cardholder's bound bank card to top up the one-card account (圈存).
//
// No Go library speaks a Chinese bank-school link, because there is no
// common one: each bank has its own. The protocol here is therefore OneCard's
// own, written by hand after the banks' modern open APIs: JSON over HTTP,
// every request, answer and notification signed RSA-SHA256 (PKCS#1 v1.5)
// over "timestamp\nnonce\nbody" in X-Bank-* headers, with a 5-minute
// timestamp window and remembered nonces so that a replay is refused.
// docs/BANK_LINK.md is the specification a bank implements; the sandbox
// package implements it independently of this client, so the two check each
// other in the tests.
//
// A debit is synchronous: Create answers paid or refused at once, and the
// bank also sends a signed notification of a successful debit to the order's
// NotifyURL, which the payment package handles like any channel's.
package bank

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/onecard-campus/onecard/channel"
)

// ErrUnverifiedAnswer is wrapped by the error of a call whose answer did
// not verify: unsigned, signed by another key, stale or replayed. It is
// deliberately not a *channel.Error: a forged answer says nothing about what
// the bank did, so the caller must treat the call like a transport failure
// and query later rather than take it as a "no".
var ErrUnverifiedAnswer = errors.New("bank: answer did not verify")

// Size limits. Statements are the only large answers: a big school's day is
// tens of thousands of lines of about a hundred bytes.
const (
	maxAnswer       = 32 << 20
	maxNotification = 64 << 10
)

// Gateway is the bank link's client. It implements channel.Gateway and
// channel.BankSigner and is safe for concurrent use.
type Gateway struct {
	merchant string
	base     string
	key      *rsa.PrivateKey
	bankKey  *rsa.PublicKey
	hc       *http.Client
	now      func() time.Time
	loc      *time.Location
	seen     *nonces // nonces of answers and notifications
}

var (
	_ channel.Gateway    = (*Gateway)(nil)
	_ channel.BankSigner = (*Gateway)(nil)
)

// New returns the bank link's client for cfg. hc sends the requests; nil
// means a client with a 30 s timeout.
func New(cfg channel.BankConfig, hc *http.Client) (*Gateway, error) {
	if cfg.MerchantID == "" {
		return nil, errors.New("bank: merchant_id is required")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bank: base_url %q is not an http(s) URL", cfg.BaseURL)
	}
	key, err := parsePrivateKey(cfg.PrivateKey)
	if err != nil {
		return nil, err
	}
	bankKey, err := parsePublicKey(cfg.BankPublicKey)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	// Statement days are the school's days, and the schools are in China.
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return &Gateway{merchant: cfg.MerchantID, base: strings.TrimSuffix(cfg.BaseURL, "/"), key: key,
		bankKey: bankKey, hc: hc, now: time.Now, loc: loc, seen: newNonces()}, nil
}

// Name implements channel.Gateway.
func (g *Gateway) Name() channel.Name { return channel.Bank }

// Wire types, as docs/BANK_LINK.md describes them. Amounts are fen, times
// RFC 3339.

type agreementRequest struct {
	HolderName string `json:"holder_name"`
	IDNumber   string `json:"id_number"`
	CardNumber string `json:"card_number"`
}

type agreementAnswer struct {
	AgreementNo string `json:"agreement_no"`
	CardMasked  string `json:"card_masked"`
	State       string `json:"state"`
}

type debitRequest struct {
	OrderNo     string `json:"order_no"`
	AgreementNo string `json:"agreement_no"`
	Amount      int64  `json:"amount"`
	Subject     string `json:"subject,omitempty"`
	NotifyURL   string `json:"notify_url,omitempty"`
	Expire      string `json:"expire,omitempty"`
}

// wireTrade is a debit as the bank reports it, in answers and notifications
// (which also name the merchant they are for).
type wireTrade struct {
	MerchantID  string `json:"merchant_id,omitempty"`
	OrderNo     string `json:"order_no"`
	BankNo      string `json:"bank_no"`
	State       string `json:"state"`
	Amount      int64  `json:"amount"`
	Refunded    int64  `json:"refunded"`
	AgreementNo string `json:"agreement_no"`
	PaidAt      string `json:"paid_at,omitempty"`
}

type refundRequest struct {
	OrderNo  string `json:"order_no"`
	RefundNo string `json:"refund_no"`
	Amount   int64  `json:"amount"`
	Reason   string `json:"reason,omitempty"`
}

type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// trade converts a reported debit, refusing what a bank could not mean.
func (t *wireTrade) trade() (*channel.Trade, error) {
	st := channel.State(t.State)
	switch st {
	case channel.StateWaiting, channel.StatePaying, channel.StatePaid, channel.StateClosed, channel.StateRefunded:
	default:
		return nil, fmt.Errorf("unknown state %q", t.State)
	}
	if t.OrderNo == "" || t.Amount <= 0 || t.Refunded < 0 || t.Refunded > t.Amount {
		return nil, errors.New("order number, amount or refunded amount missing or out of range")
	}
	out := &channel.Trade{No: t.OrderNo, GatewayNo: t.BankNo, State: st, Amount: t.Amount,
		Refunded: t.Refunded, Payer: t.AgreementNo}
	if t.PaidAt != "" {
		at, err := time.Parse(time.RFC3339, t.PaidAt)
		if err != nil {
			return nil, fmt.Errorf("paid_at: %w", err)
		}
		out.PaidAt = at
	}
	return out, nil
}

// Sign implements channel.BankSigner: the bank checks that the card is the
// holder's and returns the agreement number later debits name.
func (g *Gateway) Sign(ctx context.Context, holderName, idNumber, cardNumber string) (string, error) {
	var a agreementAnswer
	if err := g.do(ctx, http.MethodPost, "/agreements", agreementRequest{holderName, idNumber, cardNumber}, &a); err != nil {
		return "", err
	}
	if a.AgreementNo == "" {
		return "", errors.New("bank: agreement answer without an agreement number")
	}
	return a.AgreementNo, nil
}

// Unsign implements channel.BankSigner. Cancelling a cancelled agreement is
// not an error; an unknown one is *channel.Error ErrNotFound.
func (g *Gateway) Unsign(ctx context.Context, agreement string) error {
	// The signature covers the body, not the path: naming the agreement in
	// the body too ties the signature to the agreement it cancels.
	return g.do(ctx, http.MethodPost, "/agreements/"+url.PathEscape(agreement)+"/cancel",
		map[string]string{"agreement_no": agreement}, &agreementAnswer{})
}

// Create debits o.Payer, the agreement number, for o.Amount. The bank
// answers at once: the Checkout's Trade is paid, or the error is
// *channel.Error ErrRefused with the bank's reason (insufficient funds, a
// cancelled agreement...).
func (g *Gateway) Create(ctx context.Context, o channel.Order) (*channel.Checkout, error) {
	if o.Payer == "" {
		return nil, channel.NewError(channel.ErrMalformed, "a bank debit needs the agreement number as Order.Payer")
	}
	req := debitRequest{OrderNo: o.No, AgreementNo: o.Payer, Amount: o.Amount, Subject: o.Subject, NotifyURL: o.NotifyURL}
	if !o.Expire.IsZero() {
		req.Expire = o.Expire.Format(time.RFC3339)
	}
	t, err := g.tradeCall(ctx, http.MethodPost, "/debits", req, o.No)
	if err != nil {
		return nil, err
	}
	return &channel.Checkout{Trade: t}, nil
}

// Query implements channel.Gateway. The bank answers NOT_FOUND for an order
// it never debited (including a refused debit, which leaves no trade).
func (g *Gateway) Query(ctx context.Context, no string) (*channel.Trade, error) {
	t, err := g.tradeCall(ctx, http.MethodGet, "/debits/"+url.PathEscape(no), nil, no)
	if channel.Code(err) == channel.ErrNotFound {
		return &channel.Trade{No: no, State: channel.StateNotFound}, nil
	}
	return t, err
}

// Close implements channel.Gateway. A debit is never left waiting, so there
// is nothing to close at the bank in the usual case; the call still goes to
// the bank because only the bank knows whether a debit whose answer was lost
// went through (then it is ErrAlreadyPaid), and the bank then refuses any
// later debit with this order number, so a request still in flight cannot
// pay a closed order.
func (g *Gateway) Close(ctx context.Context, no string) error {
	return g.do(ctx, http.MethodPost, "/debits/"+url.PathEscape(no)+"/close",
		map[string]string{"order_no": no}, &wireTrade{})
}

// Refund implements channel.Gateway. The bank refunds a refund number once.
func (g *Gateway) Refund(ctx context.Context, r channel.Refund) error {
	var out struct {
		OrderNo  string `json:"order_no"`
		RefundNo string `json:"refund_no"`
	}
	if err := g.do(ctx, http.MethodPost, "/refunds", refundRequest{OrderNo: r.No, RefundNo: r.RefundNo, Amount: r.Amount, Reason: r.Reason}, &out); err != nil {
		return err
	}
	if out.OrderNo != r.No || out.RefundNo != r.RefundNo {
		return fmt.Errorf("bank: refund answer is for %s/%s, not %s/%s: %w", out.OrderNo, out.RefundNo, r.No, r.RefundNo, ErrUnverifiedAnswer)
	}
	return nil
}

// CodePay implements channel.Gateway: bank cards have no payment codes.
func (g *Gateway) CodePay(context.Context, channel.CodePayment) (*channel.Trade, error) {
	return nil, channel.NewError(channel.ErrRefused, "the bank link has no payment codes")
}

// Reverse implements channel.Gateway: an unpaid order is closed, a paid one
// refunded in full under a refund number derived from the order, so that a
// retried Reverse refunds once.
func (g *Gateway) Reverse(ctx context.Context, no string) error {
	t, err := g.Query(ctx, no)
	if err != nil {
		return err
	}
	switch t.State {
	case channel.StatePaid:
		left := t.Amount - t.Refunded
		if left <= 0 {
			return nil
		}
		return g.Refund(ctx, channel.Refund{No: no, RefundNo: "reverse-" + no, Amount: left, Total: t.Amount, Reason: "reversed"})
	case channel.StateClosed, channel.StateRefunded:
		return nil
	default:
		return g.Close(ctx, no)
	}
}

// statementHeader is the first line of a statement.
var statementHeader = []string{"kind", "order_no", "refund_no", "bank_no", "amount", "time"}

// Statement implements channel.Gateway: the bank's CSV statement of the
// school's day containing day.
func (g *Gateway) Statement(ctx context.Context, day time.Time) ([]channel.StatementLine, error) {
	date := day.In(g.loc).Format(time.DateOnly)
	status, body, err := g.call(ctx, http.MethodGet, "/statements/"+date, nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, answerError(status, body)
	}
	return parseStatement(body)
}

func parseStatement(body []byte) ([]channel.StatementLine, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = len(statementHeader)
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("bank: statement: %w", err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(statementHeader, ",") {
		return nil, errors.New("bank: statement: missing or unknown header line")
	}
	out := make([]channel.StatementLine, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		kind := channel.StatementKind(rec[0])
		amount, aerr := strconv.ParseInt(rec[4], 10, 64)
		at, terr := time.Parse(time.RFC3339, rec[5])
		if (kind != channel.StatementPayment && kind != channel.StatementRefund) || aerr != nil || amount <= 0 || terr != nil || rec[1] == "" {
			return nil, fmt.Errorf("bank: statement line %d is malformed", i+2)
		}
		out = append(out, channel.StatementLine{Kind: kind, No: rec[1], RefundNo: rec[2], GatewayNo: rec[3], Amount: amount, At: at})
	}
	return out, nil
}

// Notification implements channel.Gateway: it verifies the bank's signed
// notification of a debit and decodes its trade. Unsigned, forged, tampered,
// stale and replayed notifications, and those addressed to another merchant
// of the same bank (which the bank's key signs just as well), are
// ErrSignature; anything unreadable is ErrMalformed.
func (g *Gateway) Notification(r *http.Request) (*channel.Trade, error) {
	if r == nil || r.Body == nil {
		return nil, channel.NewError(channel.ErrMalformed, "empty notification")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxNotification+1))
	if err != nil {
		return nil, channel.NewError(channel.ErrMalformed, "unreadable notification body")
	}
	if len(body) > maxNotification {
		return nil, channel.NewError(channel.ErrMalformed, "notification body too large")
	}
	if err := verify(r.Header, body, g.bankKey, g.now(), g.seen); err != nil {
		return nil, channel.NewError(channel.ErrSignature, "notification: "+err.Error())
	}
	var w wireTrade
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, channel.NewError(channel.ErrMalformed, "notification is not JSON")
	}
	if w.MerchantID != g.merchant {
		return nil, channel.NewError(channel.ErrSignature, "notification is addressed to another merchant")
	}
	t, err := w.trade()
	if err != nil {
		return nil, channel.NewError(channel.ErrMalformed, "notification: "+err.Error())
	}
	return t, nil
}

// Ack implements channel.Gateway. The bank stops sending on 200 with code
// OK and sends again, with a fresh signature, on anything else.
func (g *Gateway) Ack(w http.ResponseWriter, ok bool) {
	w.Header().Set("Content-Type", "application/json")
	if ok {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"code":"OK"}`)
		return
	}
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, `{"code":"FAIL","message":"not processed, send again"}`)
}

// tradeCall makes a call answered by a trade and checks the trade is the
// order asked about: a genuine answer to another request, replayed in place
// of this one, must not pass for it.
func (g *Gateway) tradeCall(ctx context.Context, method, path string, in any, no string) (*channel.Trade, error) {
	var w wireTrade
	if err := g.do(ctx, method, path, in, &w); err != nil {
		return nil, err
	}
	if w.OrderNo != no {
		return nil, fmt.Errorf("bank: answer is about order %q, not %q: %w", w.OrderNo, no, ErrUnverifiedAnswer)
	}
	t, err := w.trade()
	if err != nil {
		return nil, fmt.Errorf("bank: undecodable trade in answer: %w", err)
	}
	return t, nil
}

// do makes a JSON call: a 200 answer decodes into out, any other is the
// bank's error.
func (g *Gateway) do(ctx context.Context, method, path string, in, out any) error {
	status, body, err := g.call(ctx, method, path, in)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return answerError(status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		// Signed by the bank yet unreadable: what happened is unknown, so
		// this is not a *channel.Error either.
		return fmt.Errorf("bank: %s %s: undecodable answer: %w", method, path, err)
	}
	return nil
}

// call signs and sends a request and returns the verified answer. A GET
// has an empty body, which is what its signature covers.
func (g *Gateway) call(ctx context.Context, method, path string, in any) (int, []byte, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return 0, nil, fmt.Errorf("bank: encode request: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, g.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("bank: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := signHeaders(req.Header, g.merchant, g.key, g.now(), body); err != nil {
		return 0, nil, err
	}
	res, err := g.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("bank: %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	ans, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil {
		return 0, nil, fmt.Errorf("bank: %s %s: read answer: %w", method, path, err)
	}
	if len(ans) > maxAnswer {
		return 0, nil, fmt.Errorf("bank: %s %s: answer larger than %d bytes", method, path, maxAnswer)
	}
	if err := verify(res.Header, ans, g.bankKey, g.now(), g.seen); err != nil {
		return 0, nil, fmt.Errorf("bank: %s %s: HTTP %d: %v: %w", method, path, res.StatusCode, err, ErrUnverifiedAnswer)
	}
	return res.StatusCode, ans, nil
}

// answerError turns a verified non-200 answer into the bank's "no". Codes
// this client does not know, and INTERNAL, are plain errors: the caller
// retries or queries later.
func answerError(status int, body []byte) error {
	var e wireError
	if err := json.Unmarshal(body, &e); err != nil || e.Code == "" {
		return fmt.Errorf("bank: HTTP %d without an error code", status)
	}
	switch e.Code {
	case "SIGNATURE", "EXPIRED", "REPLAYED":
		return channel.NewError(channel.ErrSignature, e.Message)
	case "MALFORMED":
		return channel.NewError(channel.ErrMalformed, e.Message)
	case "REFUSED":
		return channel.NewError(channel.ErrRefused, e.Message)
	case "NOT_FOUND":
		return channel.NewError(channel.ErrNotFound, e.Message)
	case "ALREADY_PAID":
		return channel.NewError(channel.ErrAlreadyPaid, e.Message)
	}
	return fmt.Errorf("bank: HTTP %d %s: %s", status, e.Code, e.Message)
}
