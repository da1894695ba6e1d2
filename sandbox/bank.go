package sandbox

import (
	"bytes"
	"crypto/rsa"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// MismatchedCards are card numbers the sandbox bank refuses to sign as "not
// the holder's card", whatever name and ID number come with them: the
// sandbox has no card register to check against, so tests name the card
// that fails. Each passes the Luhn check, so the refusal is the holder
// check's and not the card number's. Change it only before the sandbox
// serves requests.
var MismatchedCards = []string{"6228480000000000125"}

// notHoldersCard is the bank's refusal of a card whose holder is someone
// else.
const notHoldersCard = "the card is not the holder's: name or ID number does not match the bank's records"

// DefaultBankBalance is what a new agreement's card holds: ¥10,000.
const DefaultBankBalance int64 = 1_000_000

// bankState is the sandbox bank's own data: the agreements, the card
// balances, order numbers closed before any debit, the keys and the replay
// cache. mu serialises every call that moves money, so the balance check
// and the debit are one step; it is taken before s.mu, never after.
type bankState struct {
	mu         sync.Mutex
	merchantID string
	merchant   *rsa.PublicKey  // verifies OneCard's requests
	platform   *rsa.PrivateKey // signs the bank's answers and notifications
	agreements map[string]*bankAgreement
	byCard     map[string]string // card number -> its active agreement
	closed     map[string]bool   // order numbers closed before any debit
	seq        int64
	seen       bankNonces
}

type bankAgreement struct {
	No        string
	Holder    string
	IDNumber  string
	Card      string
	Balance   int64
	Cancelled bool
	SignedAt  time.Time
}

// bankTrade is a debit on the wire.
type bankTrade struct {
	MerchantID  string `json:"merchant_id,omitempty"`
	OrderNo     string `json:"order_no"`
	BankNo      string `json:"bank_no"`
	State       string `json:"state"`
	Amount      int64  `json:"amount"`
	Refunded    int64  `json:"refunded"`
	AgreementNo string `json:"agreement_no"`
	PaidAt      string `json:"paid_at,omitempty"`
}

func bankTradeOf(o *Order) bankTrade {
	t := bankTrade{OrderNo: o.No, BankNo: o.GatewayNo, State: string(o.State), Amount: o.Amount,
		Refunded: o.Refunded(), AgreementNo: o.Payer}
	if !o.PaidAt.IsZero() {
		t.PaidAt = o.PaidAt.Format(time.RFC3339)
	}
	return t
}

// bankError is a refusal in the protocol's words; status is its HTTP status.
type bankError struct {
	status  int
	code    string
	message string
}

func (e *bankError) Error() string { return e.code + ": " + e.message }

func bankMalformed(msg string) error {
	return &bankError{http.StatusBadRequest, "MALFORMED", msg}
}

func bankRefused(msg string) error {
	return &bankError{http.StatusUnprocessableEntity, "REFUSED", msg}
}

// bankErrorOf maps the core's *channel.Error to the protocol's codes.
func bankErrorOf(err error) *bankError {
	var be *bankError
	if errors.As(err, &be) {
		return be
	}
	var ce *channel.Error
	if errors.As(err, &ce) {
		switch ce.Code {
		case channel.ErrRefused:
			return &bankError{http.StatusUnprocessableEntity, "REFUSED", ce.Message}
		case channel.ErrNotFound:
			return &bankError{http.StatusNotFound, "NOT_FOUND", ce.Message}
		case channel.ErrAlreadyPaid:
			return &bankError{http.StatusConflict, "ALREADY_PAID", ce.Message}
		case channel.ErrMalformed:
			return &bankError{http.StatusBadRequest, "MALFORMED", ce.Message}
		}
	}
	return &bankError{http.StatusInternalServerError, "INTERNAL", err.Error()}
}

// csvAnswer is an answer that is a CSV document rather than JSON.
type csvAnswer []byte

// bankRoutes registers the bank link's endpoints under /bank, plus a test
// API to set a card's balance, and the bank's notification builder.
func (s *Sandbox) bankRoutes() {
	b := &bankState{merchantID: s.keys.BankMerchantID, agreements: map[string]*bankAgreement{},
		byCard: map[string]string{}, closed: map[string]bool{}}
	var err error
	if b.platform, err = ParsePrivateKey(s.keys.BankPlatform); err == nil {
		var mk *rsa.PrivateKey
		if mk, err = ParsePrivateKey(s.keys.BankMerchant); err == nil {
			b.merchant = &mk.PublicKey
		}
	}
	if err != nil {
		// Keys loaded from a damaged file: the other channels still work,
		// and every bank call says why it cannot.
		s.log.Error("sandbox: bank keys", "err", err)
		b.platform, b.merchant = nil, nil
	}
	registerBankState(s, b)

	s.mux.HandleFunc("POST /bank/agreements", s.bankHandler(b, s.bankSign))
	s.mux.HandleFunc("POST /bank/agreements/{no}/cancel", s.bankHandler(b, s.bankCancel))
	s.mux.HandleFunc("POST /bank/debits", s.bankHandler(b, s.bankDebit))
	s.mux.HandleFunc("GET /bank/debits/{no}", s.bankHandler(b, s.bankQuery))
	s.mux.HandleFunc("POST /bank/debits/{no}/close", s.bankHandler(b, s.bankClose))
	s.mux.HandleFunc("POST /bank/refunds", s.bankHandler(b, s.bankRefund))
	s.mux.HandleFunc("GET /bank/statements/{date}", s.bankHandler(b, s.bankStatement))
	s.mux.HandleFunc("POST /sandbox/api/bank/balance", s.apiBankBalance)

	s.notifier[channel.Bank] = func(o *Order) (*http.Request, error) {
		if b.platform == nil {
			return nil, errBankKeys
		}
		t := bankTradeOf(o)
		t.MerchantID = b.merchantID
		body, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequest(http.MethodPost, o.NotifyURL, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		// Each attempt is signed afresh, so a retry is not mistaken for a
		// replay by the merchant's nonce check.
		return req, bankSignature(req.Header, b.merchantID, b.platform, s.now(), body)
	}
	s.acker[channel.Bank] = func(res *http.Response, body []byte) bool {
		var a struct {
			Code string `json:"code"`
		}
		return res.StatusCode == http.StatusOK && json.Unmarshal(body, &a) == nil && a.Code == "OK"
	}
}

// bankHandler verifies a request, runs h and writes its answer signed.
func (s *Sandbox) bankHandler(b *bankState, h func(b *bankState, r *http.Request, body []byte) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if b.platform == nil {
			// Unsigned on purpose: there is no key to sign with, and the
			// client rightly treats an unsigned answer as a failure.
			http.Error(w, errBankKeys.Error(), http.StatusInternalServerError)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			s.bankAnswer(w, b, http.StatusBadRequest, &bankError{http.StatusBadRequest, "MALFORMED", "body too large or unreadable"})
			return
		}
		if r.Header.Get(bankHeaderMerchant) != b.merchantID {
			s.bankAnswer(w, b, http.StatusUnauthorized, &bankError{http.StatusUnauthorized, "SIGNATURE", "unknown merchant"})
			return
		}
		if c := bankVerify(r.Header, body, b.merchant, s.now(), &b.seen); c != nil {
			s.bankAnswer(w, b, http.StatusUnauthorized, &bankError{http.StatusUnauthorized, c.code, c.msg})
			return
		}
		out, err := h(b, r, body)
		if err != nil {
			e := bankErrorOf(err)
			s.bankAnswer(w, b, e.status, e)
			return
		}
		s.bankAnswer(w, b, http.StatusOK, out)
	}
}

// bankAnswer writes v (JSON, a *bankError, or CSV) signed with the bank's
// key: refusals are signed too, because a client must be able to trust a
// "no" as much as a "yes".
func (s *Sandbox) bankAnswer(w http.ResponseWriter, b *bankState, status int, v any) {
	var body []byte
	ctype := "application/json"
	switch v := v.(type) {
	case csvAnswer:
		body, ctype = v, "text/csv; charset=utf-8"
	case *bankError:
		body, _ = json.Marshal(map[string]string{"code": v.code, "message": v.message})
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			status, body = http.StatusInternalServerError, []byte(`{"code":"INTERNAL","message":"encode answer"}`)
		}
	}
	if err := bankSignature(w.Header(), b.merchantID, b.platform, s.now(), body); err != nil {
		http.Error(w, "sign answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decodeBank reads a JSON request body strictly: a field the bank does not
// know is a client bug worth refusing loudly.
func decodeBank(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return bankMalformed("malformed JSON: " + err.Error())
	}
	return nil
}

type bankAgreementView struct {
	AgreementNo string `json:"agreement_no"`
	CardMasked  string `json:"card_masked"`
	State       string `json:"state"`
}

func (a *bankAgreement) view() bankAgreementView {
	st := "active"
	if a.Cancelled {
		st = "cancelled"
	}
	return bankAgreementView{AgreementNo: a.No, CardMasked: onecard.MaskBankCard(a.Card), State: st}
}

// bankSign checks that the card is the holder's and signs an agreement. The
// same holder signing the same card again gets the active agreement back;
// another holder naming a card already signed is refused like a mismatch.
func (s *Sandbox) bankSign(b *bankState, _ *http.Request, body []byte) (any, error) {
	var in struct {
		HolderName string `json:"holder_name"`
		IDNumber   string `json:"id_number"`
		CardNumber string `json:"card_number"`
	}
	if err := decodeBank(body, &in); err != nil {
		return nil, err
	}
	holder, id := strings.TrimSpace(in.HolderName), strings.ToUpper(strings.TrimSpace(in.IDNumber))
	if holder == "" || id == "" {
		return nil, bankMalformed("holder_name and id_number are required")
	}
	card, err := onecard.NormalizeBankCard(in.CardNumber)
	if err != nil {
		return nil, bankRefused("invalid card number: " + onecard.ErrorMessage(err))
	}
	if slices.Contains(MismatchedCards, card) {
		return nil, bankRefused(notHoldersCard)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if no, ok := b.byCard[card]; ok {
		a := b.agreements[no]
		if a.Holder != holder || a.IDNumber != id {
			return nil, bankRefused(notHoldersCard)
		}
		return a.view(), nil
	}
	now := s.now()
	b.seq++
	a := &bankAgreement{No: fmt.Sprintf("AG%s%08d", now.In(s.opt.Location).Format("20060102"), b.seq),
		Holder: holder, IDNumber: id, Card: card, Balance: DefaultBankBalance, SignedAt: now}
	b.agreements[a.No] = a
	b.byCard[card] = a.No
	return a.view(), nil
}

// bankCancel cancels an agreement; cancelling twice is fine.
func (s *Sandbox) bankCancel(b *bankState, r *http.Request, body []byte) (any, error) {
	var in struct {
		AgreementNo string `json:"agreement_no"`
	}
	if err := decodeBank(body, &in); err != nil {
		return nil, err
	}
	if in.AgreementNo != r.PathValue("no") {
		return nil, bankMalformed("agreement_no in the body differs from the path")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.agreements[in.AgreementNo]
	if !ok {
		return nil, &bankError{http.StatusNotFound, "NOT_FOUND", "no such agreement"}
	}
	if !a.Cancelled {
		a.Cancelled = true
		delete(b.byCard, a.Card)
	}
	return a.view(), nil
}

// bankDebit debits an agreement's card at once. The same order number
// again returns the first debit (nothing is debited twice); a refusal leaves
// no trade behind, so the order can be retried once the cause is gone.
func (s *Sandbox) bankDebit(b *bankState, _ *http.Request, body []byte) (any, error) {
	var in struct {
		OrderNo     string `json:"order_no"`
		AgreementNo string `json:"agreement_no"`
		Amount      int64  `json:"amount"`
		Subject     string `json:"subject"`
		NotifyURL   string `json:"notify_url"`
		Expire      string `json:"expire"`
	}
	if err := decodeBank(body, &in); err != nil {
		return nil, err
	}
	if in.OrderNo == "" || len(in.OrderNo) > 64 || in.AgreementNo == "" || in.Amount <= 0 {
		return nil, bankMalformed("order_no (1 to 64 characters), agreement_no and a positive amount are required")
	}
	if in.Expire != "" {
		exp, err := time.Parse(time.RFC3339, in.Expire)
		if err != nil {
			return nil, bankMalformed("expire is not RFC 3339")
		}
		if s.now().After(exp) {
			return nil, bankRefused("the order has expired")
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if o := s.order(channel.Bank, in.OrderNo); o != nil {
		if o.Amount != in.Amount || o.Payer != in.AgreementNo {
			return nil, bankRefused("order number already used for another debit")
		}
		return bankTradeOf(o), nil
	}
	if b.closed[in.OrderNo] {
		return nil, bankRefused("the order is closed")
	}
	a, ok := b.agreements[in.AgreementNo]
	switch {
	case !ok:
		return nil, bankRefused("no such agreement")
	case a.Cancelled:
		return nil, bankRefused("the agreement is cancelled")
	case in.Amount > a.Balance:
		return nil, bankRefused("insufficient funds")
	}
	if _, err := s.createOrder(&Order{Channel: channel.Bank, No: in.OrderNo, Amount: in.Amount, Subject: in.Subject,
		NotifyURL: in.NotifyURL, Payer: in.AgreementNo}); err != nil {
		return nil, err
	}
	// Pay marks the order paid and sends the notification, as the checkout
	// page does for the other channels.
	if err := s.Pay(channel.Bank, in.OrderNo, in.AgreementNo); err != nil {
		return nil, err
	}
	a.Balance -= in.Amount
	return bankTradeOf(s.order(channel.Bank, in.OrderNo)), nil
}

// bankQuery reports a debit.
func (s *Sandbox) bankQuery(_ *bankState, r *http.Request, _ []byte) (any, error) {
	o := s.order(channel.Bank, r.PathValue("no"))
	if o == nil {
		return nil, &bankError{http.StatusNotFound, "NOT_FOUND", "no such debit"}
	}
	return bankTradeOf(o), nil
}

// bankClose closes an order. An order number the bank never debited is
// remembered as closed, so that a debit request still on its way cannot pay
// it after the merchant gave up on it.
func (s *Sandbox) bankClose(b *bankState, r *http.Request, body []byte) (any, error) {
	var in struct {
		OrderNo string `json:"order_no"`
	}
	if err := decodeBank(body, &in); err != nil {
		return nil, err
	}
	if in.OrderNo == "" || in.OrderNo != r.PathValue("no") {
		return nil, bankMalformed("order_no in the body differs from the path")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.order(channel.Bank, in.OrderNo) == nil {
		b.closed[in.OrderNo] = true
		return bankTrade{OrderNo: in.OrderNo, State: string(channel.StateClosed)}, nil
	}
	if err := s.closeOrder(channel.Bank, in.OrderNo); err != nil {
		return nil, err
	}
	return bankTradeOf(s.order(channel.Bank, in.OrderNo)), nil
}

// bankRefund refunds part or all of a debit to the card; a refund number
// seen before refunds nothing more.
func (s *Sandbox) bankRefund(b *bankState, _ *http.Request, body []byte) (any, error) {
	var in struct {
		OrderNo  string `json:"order_no"`
		RefundNo string `json:"refund_no"`
		Amount   int64  `json:"amount"`
		Reason   string `json:"reason"`
	}
	if err := decodeBank(body, &in); err != nil {
		return nil, err
	}
	if in.OrderNo == "" || in.RefundNo == "" || in.Amount <= 0 {
		return nil, bankMalformed("order_no, refund_no and a positive amount are required")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	o := s.order(channel.Bank, in.OrderNo)
	if o == nil {
		return nil, &bankError{http.StatusNotFound, "NOT_FOUND", "no such debit"}
	}
	again := slices.ContainsFunc(o.Refunds, func(r Refund) bool { return r.No == in.RefundNo })
	c, err := s.refund(channel.Bank, in.OrderNo, in.RefundNo, in.Amount)
	if err != nil {
		return nil, err
	}
	if a, ok := b.agreements[c.Payer]; ok && !again {
		a.Balance += in.Amount
	}
	return map[string]any{"order_no": c.No, "refund_no": in.RefundNo, "amount": in.Amount,
		"refunded": c.Refunded(), "state": c.State}, nil
}

// bankStatement is the day's statement as CSV: every debit paid and every
// refund made that day in the sandbox's time zone, plus planted lines.
func (s *Sandbox) bankStatement(_ *bankState, r *http.Request, _ []byte) (any, error) {
	day, err := time.ParseInLocation(time.DateOnly, r.PathValue("date"), s.opt.Location)
	if err != nil {
		return nil, bankMalformed("the date is not yyyy-mm-dd")
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"kind", "order_no", "refund_no", "bank_no", "amount", "time"})
	for _, l := range s.statement(channel.Bank, day) {
		_ = cw.Write([]string{string(l.Kind), l.No, l.RefundNo, l.GatewayNo,
			strconv.FormatInt(l.Amount, 10), l.At.In(s.opt.Location).Format(time.RFC3339)})
	}
	cw.Flush()
	return csvAnswer(buf.Bytes()), cw.Error()
}

// SetBankBalance sets what the card of an agreement holds, in fen, so that
// a test can make a debit fail for insufficient funds. An unknown agreement
// is ignored.
func (s *Sandbox) SetBankBalance(agreement string, fen int64) {
	b := s.bank()
	b.mu.Lock()
	defer b.mu.Unlock()
	if a, ok := b.agreements[agreement]; ok {
		a.Balance = fen
	}
}

// BankBalance returns what the card of an agreement holds, in fen, and
// whether the agreement exists.
func (s *Sandbox) BankBalance(agreement string) (int64, bool) {
	b := s.bank()
	b.mu.Lock()
	defer b.mu.Unlock()
	if a, ok := b.agreements[agreement]; ok {
		return a.Balance, true
	}
	return 0, false
}

// apiBankBalance is SetBankBalance over the test API, for the demo and
// scripts: {"agreement_no": "...", "balance": 100} (fen).
func (s *Sandbox) apiBankBalance(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AgreementNo string `json:"agreement_no"`
		Balance     int64  `json:"balance"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if _, ok := s.BankBalance(in.AgreementNo); !ok || in.Balance < 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such agreement, or a negative balance"})
		return
	}
	s.SetBankBalance(in.AgreementNo, in.Balance)
	w.WriteHeader(http.StatusNoContent)
}
