package onecard

import (
	"context"
	"slices"
	"time"
)

// Channels money comes in by, as named in code, API and storage (the channel
// package's names).
const (
	ChannelAlipay = "alipay"
	ChannelWechat = "wechat"
	ChannelBank   = "bank"
)

// TopUpRules are a school's rules for top-ups from the channels (seeds 000,
// 002, 003): the quick amounts offered, the custom range and step, the single
// and daily limits, each channel's fee, the automatic top-up defaults and how
// long an unpaid order stays open.
type TopUpRules struct {
	QuickAmounts []int64 `json:"quick_amounts"` // fen: 50, 100, 200 yuan
	Min          int64   `json:"min"`           // fen, smallest custom amount: 10 yuan
	Max          int64   `json:"max"`           // fen, largest single top-up: 500 yuan
	// Step, when not zero, makes custom amounts multiples of it (seed 002:
	// multiples of 10 yuan).
	Step       int64 `json:"step"`
	DailyLimit int64 `json:"daily_limit"` // fen per cardholder per day, all channels: 2,000 yuan
	// BankDailyLimit caps bank-card money per day, shared by kiosk loads
	// (圈存) and app bank top-ups: 500 yuan (seed 001).
	BankDailyLimit int64 `json:"bank_daily_limit"`
	// FeeRates are per-channel fees in basis points (1/10,000) of the
	// amount, added to what the payer pays; none by default.
	FeeRates map[string]int64 `json:"fee_rates,omitempty"`
	// AutoThreshold and AutoAmount are the automatic top-up's defaults: when
	// the total balance falls below 20 yuan, take 50 from the bank card.
	AutoThreshold int64    `json:"auto_threshold"`
	AutoAmount    int64    `json:"auto_amount"`
	OrderTimeout  Duration `json:"order_timeout"` // an unpaid order closes after this: 15 minutes
}

// DefaultTopUpRules returns the rules of a new school.
func DefaultTopUpRules() TopUpRules {
	return TopUpRules{
		QuickAmounts: []int64{50_00, 100_00, 200_00},
		Min:          10_00, Max: 500_00, Step: 0,
		DailyLimit: 2000_00, BankDailyLimit: 500_00,
		AutoThreshold: 20_00, AutoAmount: 50_00,
		OrderTimeout: Duration(15 * time.Minute),
	}
}

// Validate checks the rules; EINVALID otherwise.
func (r TopUpRules) Validate() error {
	if r.Min <= 0 || r.Max < r.Min || r.Max > MaxAmount || r.DailyLimit < r.Max || r.BankDailyLimit < 0 {
		return Errorf(EINVALID, "Top-up limits must satisfy 0 < min <= max <= daily limit.")
	}
	if r.Step < 0 || (r.Step > 0 && (r.Min%r.Step != 0)) {
		return Errorf(EINVALID, "The top-up step must divide the minimum amount.")
	}
	for _, q := range r.QuickAmounts {
		if q < r.Min || q > r.Max {
			return Errorf(EINVALID, "Quick amount %s is outside %s to %s.", Yuan(q), Yuan(r.Min), Yuan(r.Max))
		}
	}
	for ch, bp := range r.FeeRates {
		if !slices.Contains([]string{ChannelAlipay, ChannelWechat, ChannelBank}, ch) || bp < 0 || bp > 1000 {
			return Errorf(EINVALID, "Fee rates are per channel (alipay, wechat, bank) and at most 1000 basis points.")
		}
	}
	if r.AutoThreshold < 0 || r.AutoAmount < r.Min || r.AutoAmount > r.Max || r.OrderTimeout <= 0 {
		return Errorf(EINVALID, "The automatic top-up amount must be a valid top-up and the order timeout positive.")
	}
	return nil
}

// CheckAmount refuses an amount the rules do not allow: below the minimum,
// above the single limit, or not a multiple of the step (quick amounts are
// always allowed).
func (r TopUpRules) CheckAmount(fen int64) error {
	if err := ValidateAmount(fen); err != nil {
		return err
	}
	if fen < r.Min || fen > r.Max {
		return Errorf(ELIMIT, "A top-up is between %s and %s, not %s.", Yuan(r.Min), Yuan(r.Max), Yuan(fen))
	}
	if r.Step > 0 && fen%r.Step != 0 && !slices.Contains(r.QuickAmounts, fen) {
		return Errorf(EINVALID, "A custom top-up is a multiple of %s.", Yuan(r.Step))
	}
	return nil
}

// Fee returns the channel's fee on an amount, rounded up to the fen.
func (r TopUpRules) Fee(channel string, fen int64) int64 {
	bp := r.FeeRates[channel]
	return (fen*bp + 9999) / 10000
}

// ChannelBinding is an Alipay or WeChat account bound to a card (seed 000):
// top-ups from it go to this card only, and its code payments at the POS show
// in this cardholder's bills. A card has at most one account per channel and
// an account is bound to at most one card.
type ChannelBinding struct {
	CardholderID  int64     `json:"cardholder_id"`
	Channel       string    `json:"channel"`        // alipay or wechat
	Account       string    `json:"-"`              // the channel's payer ID: buyer_id, openid
	AccountMasked string    `json:"account_masked"` // 2088********0001
	BoundAt       time.Time `json:"bound_at"`
}

// TopUpKind says how a top-up was asked for.
type TopUpKind string

// Top-up kinds.
const (
	TopUpBound  TopUpKind = "bound"  // from the cardholder's bound Alipay or WeChat account
	TopUpPublic TopUpKind = "public" // by anyone knowing school, name and card number (seed 002)
	TopUpBank   TopUpKind = "bank"   // from the bound bank card, confirmed by an SMS code
	TopUpAuto   TopUpKind = "auto"   // automatic, from the bound bank card
)

// TopUpState is where a top-up order stands.
type TopUpState string

// Top-up states.
const (
	TopUpPending  TopUpState = "pending"  // waiting for the payer
	TopUpCredited TopUpState = "credited" // paid and in the transition balance
	TopUpClosed   TopUpState = "closed"   // never paid; closed at the gateway
	// TopUpRejected: paid, but by an account not bound to the card. Nothing
	// reached the card; the money is owed back (refunds payable) until the
	// channel refund goes through (TopUpReturned).
	TopUpRejected TopUpState = "rejected"
	TopUpReturned TopUpState = "returned"
	// TopUpRefunded: credited, then refunded by an operator as a mistake
	// (seed 004): taken off the transition balance and owed to the payer
	// (refunds payable), paid back outside the original route.
	TopUpRefunded TopUpState = "refunded"
)

// TopUp is one top-up order.
type TopUp struct {
	No           string     `json:"no"` // OneCard's order number, the channel's out_trade_no
	SchoolID     int64      `json:"school_id"`
	CardholderID int64      `json:"cardholder_id"`
	Channel      string     `json:"channel"`
	Kind         TopUpKind  `json:"kind"`
	Amount       int64      `json:"amount"` // fen credited to the card
	Fee          int64      `json:"fee"`    // fen of channel fee
	Total        int64      `json:"total"`  // fen the payer pays: Amount + Fee
	State        TopUpState `json:"state"`
	// Payer is the account that must pay: the bound account (bound), the
	// bank agreement (bank, auto); empty for public top-ups.
	Payer      string     `json:"-"`
	PaidBy     string     `json:"-"` // the account that did pay
	GatewayNo  string     `json:"gateway_no,omitempty"`
	Phone      string     `json:"-"` // where to send the SMS notice (public top-ups)
	PayURL     string     `json:"pay_url,omitempty"`
	TransferID int64      `json:"transfer_id,omitempty"` // the credit's ledger transfer
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	PaidAt     *time.Time `json:"paid_at,omitempty"`
}

// NewTopUp asks for a top-up order.
type NewTopUp struct {
	// Key makes the request idempotent: the same key returns the same order.
	Key          string
	CardholderID int64
	Channel      string
	Kind         TopUpKind
	Amount       int64  // fen to credit; the fee is added on top
	Payer        string // required account (bound: the binding's; bank/auto: the agreement)
	Phone        string // optional, public top-ups
}

// PaidTrade is what a channel reported about a paid order.
type PaidTrade struct {
	GatewayNo string
	Payer     string
	Amount    int64 // fen the payer paid
	At        time.Time
}

// AutoTopUp is a cardholder's automatic top-up setting. Turning it on
// records the cardholder's consent (ConsentAt) to debits of the bound bank
// card without a code each time.
type AutoTopUp struct {
	CardholderID int64      `json:"cardholder_id"`
	Enabled      bool       `json:"enabled"`
	Threshold    int64      `json:"threshold"` // fen: top up when the total balance is below
	Amount       int64      `json:"amount"`    // fen to take
	ConsentAt    *time.Time `json:"consent_at,omitempty"`
	LastAt       *time.Time `json:"last_at,omitempty"` // the last automatic top-up
}

// NoticePrefs are the SMS notices a cardholder asked for.
type NoticePrefs struct {
	TopUp      bool `json:"top_up"`
	LowBalance bool `json:"low_balance"`
	Freeze     bool `json:"freeze"`
	// LowBalanceBelow is the balance in fen under which a low-balance
	// notice is sent (once a day at most).
	LowBalanceBelow int64 `json:"low_balance_below"`
}

// PayCode is the one-card payment code the app shows (seed 001): a
// short-lived code, usable once, charged to the transition balance.
type PayCode struct {
	Code      string    `json:"code"` // 18 digits
	ExpiresAt time.Time `json:"expires_at"`
}

// CodePayment is a payment at a POS by a payment code: Alipay's, WeChat's
// (money reaches the merchant through the channel) or the one-card code
// (channel "onecard", drawn from the transition balance).
type CodePayment struct {
	No           string     `json:"no"`
	SchoolID     int64      `json:"school_id"`
	MerchantID   int64      `json:"merchant_id"`
	TerminalID   int64      `json:"terminal_id,omitempty"`
	Channel      string     `json:"channel"` // alipay, wechat, onecard
	Amount       int64      `json:"amount"`
	Refunded     int64      `json:"refunded"`
	State        string     `json:"state"`                   // paying, paid, closed, refunded
	CardholderID int64      `json:"cardholder_id,omitempty"` // the payer's card when the account is bound
	Payer        string     `json:"-"`
	GatewayNo    string     `json:"gateway_no,omitempty"`
	TransferID   int64      `json:"transfer_id,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	PaidAt       *time.Time `json:"paid_at,omitempty"`
}

// Code payment states.
const (
	CodePaying   = "paying"
	CodePaid     = "paid"
	CodeClosed   = "closed"
	CodeRefunded = "refunded"
)

// ChannelRecord is one line of OneCard's own side of a channel's day: a
// payment received or a refund sent, for reconciliation.
type ChannelRecord struct {
	Kind      string    `json:"kind"` // payment, refund
	No        string    `json:"no"`
	RefundNo  string    `json:"refund_no,omitempty"`
	GatewayNo string    `json:"gateway_no,omitempty"`
	Amount    int64     `json:"amount"`
	At        time.Time `json:"at"`
}

// Reconciliation is the report of one channel's day: what is only in
// OneCard's records, only in the channel's statement, or in both with
// different amounts. It changes no money.
type Reconciliation struct {
	ID        int64                `json:"id"`
	SchoolID  int64                `json:"school_id"`
	Channel   string               `json:"channel"`
	Day       string               `json:"day"` // 2026-11-21, school time
	Matched   int                  `json:"matched"`
	Ours      int64                `json:"ours"`   // fen, payments minus refunds on OneCard's side
	Theirs    int64                `json:"theirs"` // fen, on the statement
	Issues    []ReconciliationItem `json:"issues"`
	CreatedAt time.Time            `json:"created_at"`
}

// ReconciliationItem is one difference.
type ReconciliationItem struct {
	Problem   string `json:"problem"` // only_ours, only_theirs, amount_differs
	Kind      string `json:"kind"`    // payment, refund
	No        string `json:"no"`
	RefundNo  string `json:"refund_no,omitempty"`
	GatewayNo string `json:"gateway_no,omitempty"`
	Ours      int64  `json:"ours"`
	Theirs    int64  `json:"theirs"`
}

// PaymentStore keeps the payment side's records and moves its money. It is
// implemented by the store package; the payment package calls the channels
// and then these methods. Every money-moving method is idempotent.
type PaymentStore interface {
	// BindChannel binds an account to a cardholder's card. ECONFLICT when
	// the card already has an account of that channel or the account is
	// bound to another card; EINVALID, ENOTFOUND.
	BindChannel(ctx context.Context, cardholderID int64, channel, account string) (*ChannelBinding, error)
	// ChannelBindings lists a cardholder's bound accounts.
	ChannelBindings(ctx context.Context, cardholderID int64) ([]*ChannelBinding, error)
	// ChannelBindingByAccount finds the binding of an account. ENOTFOUND.
	ChannelBindingByAccount(ctx context.Context, channel, account string) (*ChannelBinding, error)
	// UnbindChannel removes a card's binding of a channel. ENOTFOUND.
	UnbindChannel(ctx context.Context, cardholderID int64, channel string) error
	// SetBankAgreement stores the bank link's agreement number for the
	// bound bank card ("" clears it). ENOTFOUND when no card is bound.
	SetBankAgreement(ctx context.Context, cardholderID int64, agreement string) error
	// BankAgreement returns it. ENOTFOUND when none.
	BankAgreement(ctx context.Context, cardholderID int64) (string, error)

	// CreateTopUp opens a pending order after the checks: the cardholder
	// not closed, the amount by the school's rules (ELIMIT, EINVALID), the
	// day's credited and pending top-ups within the daily limit and, for
	// the bank, bank money within the bank daily limit shared with kiosk
	// loads (ELIMIT). It computes the fee, the order number and the
	// expiry. The same key returns the same order.
	CreateTopUp(ctx context.Context, n *NewTopUp) (*TopUp, error)
	// SetTopUpPayURL records where the payer pays.
	SetTopUpPayURL(ctx context.Context, no, url string) error
	// TopUp returns an order. ENOTFOUND.
	TopUp(ctx context.Context, no string) (*TopUp, error)
	// TopUpByKey returns the order a cardholder asked for with a key.
	// ENOTFOUND.
	TopUpByKey(ctx context.Context, cardholderID int64, key string) (*TopUp, error)
	// TopUps lists a cardholder's orders, newest first.
	TopUps(ctx context.Context, cardholderID int64, limit int) ([]*TopUp, error)
	// PendingTopUps lists pending orders created before a time, oldest
	// first, for the job that queries the gateways.
	PendingTopUps(ctx context.Context, before time.Time, limit int) ([]*TopUp, error)
	// CreditTopUp books a paid order: the channel's clearing account pays
	// the amount into the transition balance and the fee into fee income.
	// An amount other than Total is EINVALID and moves nothing. A payer
	// other than the required one makes the order TopUpRejected: the money
	// goes to refunds payable, not the card. A credited, rejected or
	// returned order is returned unchanged (a duplicate notification moves
	// nothing). A closed order that was paid after all is credited.
	CreditTopUp(ctx context.Context, no string, paid PaidTrade) (*TopUp, error)
	// CloseTopUp closes a pending order. ECONFLICT unless pending or closed.
	CloseTopUp(ctx context.Context, no string) (*TopUp, error)
	// ReturnRejected books the channel's refund of a rejected order:
	// refunds payable back to the clearing account, state returned.
	ReturnRejected(ctx context.Context, no string) (*TopUp, error)
	// RefundTopUp (operators) refunds a mistaken credited top-up: its
	// amount leaves the transition balance for refunds payable (seed 004).
	// EINSUFFICIENT when the transition balance has less; ECONFLICT unless
	// credited.
	RefundTopUp(ctx context.Context, no, reason string) (*TopUp, error)

	// SetAutoTopUp changes the automatic top-up; enabling needs a bank
	// agreement (ECONFLICT) and records consent. EINVALID for amounts the
	// rules refuse.
	SetAutoTopUp(ctx context.Context, a *AutoTopUp) (*AutoTopUp, error)
	// AutoTopUp returns the setting (disabled with the school's defaults
	// when never set).
	AutoTopUp(ctx context.Context, cardholderID int64) (*AutoTopUp, error)
	// DueAutoTopUps lists enabled settings whose cardholder's total balance
	// is below the threshold and who had no automatic top-up today.
	DueAutoTopUps(ctx context.Context, limit int) ([]*AutoTopUp, error)

	// NoticePrefs and SetNoticePrefs keep the SMS notice choices.
	NoticePrefs(ctx context.Context, cardholderID int64) (*NoticePrefs, error)
	SetNoticePrefs(ctx context.Context, cardholderID int64, p *NoticePrefs) error

	// IssueSMSCode makes a 6-digit code for a purpose (e.g. "bank_topup")
	// valid 5 minutes and returns it with the phone to send it to.
	// ERATELIMIT within a minute of the last; ECONFLICT without a phone.
	IssueSMSCode(ctx context.Context, cardholderID int64, purpose string) (code, phone string, err error)
	// CheckSMSCode consumes a code. EWRONGPIN when wrong (5 tries), EINVALID
	// when expired or none.
	CheckSMSCode(ctx context.Context, cardholderID int64, purpose, code string) error

	// IssuePayCode makes a one-card payment code valid one minute. The
	// card must be usable (ECARDBLOCKED).
	IssuePayCode(ctx context.Context, cardholderID int64) (*PayCode, error)
	// PayWithCode charges a one-card payment code at a merchant: once, not
	// expired (EINVALID), with Pay's checks and limits, from the
	// transition balance within the arrears limit. The same no returns the
	// first result.
	PayWithCode(ctx context.Context, no, code string, merchantID, terminalID, amount int64) (*CodePayment, error)

	// CreateCodePayment records an Alipay or WeChat code payment before the
	// channel is asked (state paying). The same no returns the stored one.
	CreateCodePayment(ctx context.Context, p *CodePayment) (*CodePayment, error)
	// SettleCodePayment books the channel's answer: paid moves the amount
	// from the clearing account to the merchant (and links the payer's
	// card if the account is bound); closed moves nothing. Idempotent.
	SettleCodePayment(ctx context.Context, no string, paid *PaidTrade, closed bool) (*CodePayment, error)
	// CodePayment returns one. ENOTFOUND.
	CodePayment(ctx context.Context, no string) (*CodePayment, error)
	// RefundCodePayment books a merchant refund the channel made: the
	// merchant pays the clearing account back. refundNo makes it
	// idempotent; more than what is left is EINVALID.
	RefundCodePayment(ctx context.Context, no, refundNo string, amount int64) (*CodePayment, error)

	// ChannelRecords returns OneCard's payments and refunds through a
	// channel for one school between two times (reconciliation's side).
	ChannelRecords(ctx context.Context, schoolID int64, channel string, from, to time.Time) ([]ChannelRecord, error)
	// SaveReconciliation stores a report; Reconciliations lists a school's
	// reports, newest first.
	SaveReconciliation(ctx context.Context, r *Reconciliation) error
	Reconciliations(ctx context.Context, schoolID int64, limit int) ([]*Reconciliation, error)
}

// Notice is an SMS notice due to a cardholder: a low balance or a frozen
// card. Key identifies it, so each is sent once.
type Notice struct {
	CardholderID int64
	Kind         string // low_balance, freeze
	Key          string
	Phone        string
	Number       string // the card number, for the text
	Balance      int64  // fen, the total balance
	Threshold    int64  // fen, for low_balance
	Reason       FreezeReason
}

// NoticeStore finds the notices that are due and records those sent.
type NoticeStore interface {
	// DueNotices lists low-balance notices (cardholders who asked for
	// them, with a total below their level, at most one a school day) and
	// freeze notices (the active card frozen since the last one; on unless
	// turned off) of cardholders with a phone.
	DueNotices(ctx context.Context, limit int) ([]*Notice, error)
	// MarkNoticeSent records a notice as sent; marking it twice is not an
	// error.
	MarkNoticeSent(ctx context.Context, n *Notice) error
}
