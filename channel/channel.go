// Package channel is how money from outside reaches OneCard: Alipay, WeChat
// Pay and the bank link. Each channel is an adapter behind Gateway, built on
// the field's library for its protocol (smartwalle/alipay for Alipay,
// go-pay/gopay for WeChat Pay v3); the sandbox package speaks the same
// protocols locally, so every adapter is exercised end to end in tests.
//
// The package knows nothing of cardholders or the ledger: it creates,
// verifies, queries, closes and refunds trades. The payment package decides
// what a trade means for the money.
package channel

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Name identifies a channel in code, API and storage.
type Name string

// Channels.
const (
	Alipay Name = "alipay"
	Wechat Name = "wechat"
	Bank   Name = "bank"
)

// Valid reports whether n is a known channel.
func (n Name) Valid() bool { return n == Alipay || n == Wechat || n == Bank }

// State is where a trade stands at the gateway.
type State string

// Trade states, mapped from each protocol's own words (Alipay WAIT_BUYER_PAY,
// TRADE_SUCCESS, TRADE_CLOSED; WeChat NOTPAY, USERPAYING, SUCCESS, CLOSED,
// REVOKED, REFUND).
const (
	StateWaiting  State = "waiting"  // created, not paid yet
	StatePaying   State = "paying"   // code payment: the payer is confirming on the phone
	StatePaid     State = "paid"     // money received (refunds may follow)
	StateClosed   State = "closed"   // closed or reversed unpaid; will never be paid
	StateRefunded State = "refunded" // paid, then refunded in full
	StateNotFound State = "not_found"
)

// Order is a top-up order OneCard asks a channel to collect.
type Order struct {
	No        string    // OneCard's order number (out_trade_no), unique per channel
	Amount    int64     // fen, what the payer pays
	Subject   string    // shown to the payer, e.g. "南开大学 一卡通充值 2012345678"
	NotifyURL string    // where the gateway sends its asynchronous notification
	ReturnURL string    // where the payer's browser goes after paying
	Expire    time.Time // after this the gateway refuses to be paid
	// Payer, when set, is the channel account that must pay (a bound
	// top-up): Alipay buyer_id, WeChat openid, bank agreement number. The
	// bank link debits it directly; Alipay and WeChat cannot enforce it, so
	// the payment package checks the paying account in the notification.
	Payer string
}

// Checkout is what the payer does next after Create.
type Checkout struct {
	// PayURL is the page the payer's browser opens to pay (Alipay wap pay,
	// WeChat H5). Empty for the bank link, which debits at once.
	PayURL string
	// Trade is the trade's state when Create already knows it (the bank
	// link answers paid or refused synchronously); nil otherwise.
	Trade *Trade
}

// Trade is a channel's view of one order or code payment.
type Trade struct {
	No        string    // OneCard's order number
	GatewayNo string    // the channel's trade number
	State     State     //
	Amount    int64     // fen, the order's total
	Refunded  int64     // fen refunded so far
	Payer     string    // paying account (buyer_id, openid, agreement number)
	PaidAt    time.Time // zero unless paid
}

// CodePayment is a merchant-scans-payer payment at a POS: the payer shows
// the Alipay or WeChat payment code, the POS reads it (auth_code).
type CodePayment struct {
	No       string // OneCard's order number
	AuthCode string // the 18-digit code read from the payer's phone
	Amount   int64  // fen
	Subject  string
	Terminal string // device label, for the statement
}

// Refund returns money of a paid trade to its payer through the channel.
type Refund struct {
	No       string // the original order number
	RefundNo string // OneCard's refund number, unique; retries reuse it
	Amount   int64  // fen to refund now
	Total    int64  // fen, the original trade's total (WeChat needs it)
	Reason   string
}

// StatementKind is the kind of a statement line.
type StatementKind string

// Statement line kinds.
const (
	StatementPayment StatementKind = "payment"
	StatementRefund  StatementKind = "refund"
)

// StatementLine is one line of a channel's daily statement.
type StatementLine struct {
	Kind      StatementKind
	No        string // OneCard's order number
	RefundNo  string // for refunds
	GatewayNo string
	Amount    int64 // fen, positive for both kinds
	At        time.Time
}

// Gateway is one payment channel. Implementations are safe for concurrent
// use. Errors from the gateway that mean "no" (a refused code, an unknown
// order) are *Error; transport failures are other errors, and the caller
// retries or queries later.
type Gateway interface {
	Name() Name
	// Create starts a top-up order.
	Create(ctx context.Context, o Order) (*Checkout, error)
	// Notification verifies the signature of an asynchronous notification
	// and decodes the trade it reports. A forged, re-signed or malformed
	// notification is *Error with code ErrSignature or ErrMalformed; the
	// caller must not act on it.
	Notification(r *http.Request) (*Trade, error)
	// Ack answers the gateway's notification request: ok tells it to stop
	// retrying, !ok to send again later.
	Ack(w http.ResponseWriter, ok bool)
	// Query asks the gateway where an order stands. An unknown order is a
	// Trade with StateNotFound.
	Query(ctx context.Context, no string) (*Trade, error)
	// Close closes an unpaid order; closing a closed one is not an error.
	// A paid order is *Error ErrAlreadyPaid.
	Close(ctx context.Context, no string) error
	// Refund refunds part or all of a paid trade. The same RefundNo twice
	// refunds once.
	Refund(ctx context.Context, r Refund) error
	// CodePay charges a payment code. The trade comes back paid, refused
	// (*Error ErrRefused), or StatePaying when the payer must confirm on the
	// phone; the caller then queries until it settles and reverses it if it
	// does not in time.
	CodePay(ctx context.Context, p CodePayment) (*Trade, error)
	// Reverse cancels a code payment: unpaid it is closed, paid it is
	// refunded in full.
	Reverse(ctx context.Context, no string) error
	// Statement returns the channel's statement of a day (the day in the
	// school's time zone that contains day).
	Statement(ctx context.Context, day time.Time) ([]StatementLine, error)
}

// Binder is a gateway whose accounts can be bound to a card: it turns the
// authorisation the payer gives in the channel's own app (an OAuth code for
// Alipay and WeChat) into the payer's account ID.
type Binder interface {
	// PayerID exchanges an authorisation code for the account ID that will
	// appear as Trade.Payer. A used or unknown code is *Error ErrRefused.
	PayerID(ctx context.Context, authCode string) (string, error)
}

// BankSigner is the bank link's agreement step: the bank checks the card is
// the holder's (name and ID number) and returns an agreement number that
// later debits name instead of the card number.
type BankSigner interface {
	Sign(ctx context.Context, holderName, idNumber, cardNumber string) (agreement string, err error)
	Unsign(ctx context.Context, agreement string) error
}

// ErrorCode classifies a gateway's "no".
type ErrorCode string

// Error codes.
const (
	ErrSignature   ErrorCode = "signature"    // a signature did not verify
	ErrMalformed   ErrorCode = "malformed"    // the message could not be parsed
	ErrRefused     ErrorCode = "refused"      // the gateway refused (bad code, balance, limits)
	ErrNotFound    ErrorCode = "not_found"    // unknown order
	ErrAlreadyPaid ErrorCode = "already_paid" // cannot close a paid order
)

// Error is a gateway's definite answer that something was refused.
type Error struct {
	Code    ErrorCode
	Message string // the gateway's own words
}

func (e *Error) Error() string { return "channel: " + string(e.Code) + ": " + e.Message }

// Errorf-free constructor, for adapters.
func NewError(code ErrorCode, msg string) *Error { return &Error{Code: code, Message: msg} }

// Code returns the ErrorCode of err, or "" when err is not a *Error.
func Code(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// AlipayConfig is what an Alipay merchant application is given: its app
// ID, its RSA2 private key, Alipay's public key and the gateway address.
type AlipayConfig struct {
	AppID           string `json:"app_id"`
	PrivateKey      string `json:"private_key"`       // PKCS#1 or PKCS#8 PEM
	AlipayPublicKey string `json:"alipay_public_key"` // PEM
	Gateway         string `json:"gateway"`           // e.g. https://openapi.alipay.com/gateway.do
}

// WechatConfig is what a WeChat Pay v3 merchant is given.
type WechatConfig struct {
	MchID          string `json:"mch_id"`
	AppID          string `json:"app_id"`
	AppSecret      string `json:"app_secret"`      // the official account's secret: OAuth code -> openid
	SerialNo       string `json:"serial_no"`       // the merchant certificate's serial number
	PrivateKey     string `json:"private_key"`     // merchant API private key, PEM
	APIv3Key       string `json:"api_v3_key"`      // 32 bytes, decrypts notification resources
	PlatformKey    string `json:"platform_key"`    // WeChat Pay public key, PEM: verifies answers and notifications
	PlatformSerial string `json:"platform_serial"` // its ID, sent as Wechatpay-Serial
	BaseURL        string `json:"base_url"`        // e.g. https://api.mch.weixin.qq.com
}

// BankConfig is the bank link's: a merchant number, OneCard's signing key
// and the bank's public key.
type BankConfig struct {
	MerchantID    string `json:"merchant_id"`
	PrivateKey    string `json:"private_key"`     // PEM
	BankPublicKey string `json:"bank_public_key"` // PEM
	BaseURL       string `json:"base_url"`
}

// Config configures every channel of a deployment; a nil member leaves that
// channel off.
type Config struct {
	Alipay *AlipayConfig `json:"alipay,omitempty"`
	Wechat *WechatConfig `json:"wechat,omitempty"`
	Bank   *BankConfig   `json:"bank,omitempty"`
}
