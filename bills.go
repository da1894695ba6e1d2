package onecard

import (
	"context"
	"time"
)

// Bill kinds: what a line of a cardholder's bills is.
const (
	BillSpending = "spending" // a purchase: POS, payment code, Alipay or WeChat code of a bound account
	BillTopUp    = "topup"    // money into the account: channel top-ups, cash, kiosk loads
	BillClaim    = "claim"    // the transition balance moved onto the card (or back): neither in nor out
	BillRefund   = "refund"   // a merchant's refund, or a mistaken top-up given back to its payer
	BillFee      = "fee"      // a fee the card centre took (a replacement)
	BillOther    = "other"    // corrections of the card's balance and the like
)

// BillFilter selects a cardholder's bills: [From, To) by the time the money
// moved, and a kind of money: "" for every line, BillSpending for spending
// (purchases, fees and the refunds of purchases) or BillTopUp for top-ups
// (and their reversals). Claims are in neither.
type BillFilter struct {
	CardholderID int64
	From, To     time.Time
	Kind         string
}

// Bill is one line of a cardholder's bills.
type Bill struct {
	TransferID int64     `json:"transfer_id"`
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`          // spending, topup, claim, refund, fee, other
	Merchant   string    `json:"merchant"`      // the merchant paid or refunding; "" for the card centre and top-ups
	Place      string    `json:"place"`         // the campus or terminal name when known
	Amount     int64     `json:"amount"`        // + in, - out, from the cardholder's view
	Account    string    `json:"account"`       // purse, transition, or alipay/wechat for code payments of bound accounts
	Via        string    `json:"via,omitempty"` // top-ups: alipay, wechat, bank or cash
}

// WeekTotal is the spending of one week of a period.
type WeekTotal struct {
	Start    time.Time `json:"start"` // Monday 00:00, or the period's start for a first, partial week
	Spending int64     `json:"spending"`
}

// DayTotal is the spending of one day with any.
type DayTotal struct {
	Start    time.Time `json:"start"`
	Spending int64     `json:"spending"`
	Count    int       `json:"count"` // purchases
}

// MerchantTotal is the spending at one merchant in a period.
type MerchantTotal struct {
	Merchant string `json:"merchant"` // "" for the card centre
	Spending int64  `json:"spending"`
	Count    int    `json:"count"` // purchases
}

// BillSummary sums a cardholder's bills over a period. Spending is net of
// the refunds of purchases; TopUps net of top-ups given back.
type BillSummary struct {
	Spending   int64           `json:"spending"`
	TopUps     int64           `json:"top_ups"`
	ByWeek     []WeekTotal     `json:"by_week"`     // every week of the period, in order
	ByDay      []DayTotal      `json:"by_day"`      // days with spending, in order
	ByMerchant []MerchantTotal `json:"by_merchant"` // most spending first
}

// BillService answers for a cardholder's bills. Callers authorise: a
// cardholder sees only their own.
type BillService interface {
	// Bills returns one page of the lines of the filter, newest first, and
	// how many lines the filter has. EINVALID (no period, a period over a
	// year, an unknown kind), ENOTFOUND.
	Bills(ctx context.Context, f BillFilter, offset, limit int) ([]*Bill, int, error)
	// BillSummary sums the filter's lines; weeks start on Monday and days
	// at midnight in From's location. EINVALID, ENOTFOUND.
	BillSummary(ctx context.Context, f BillFilter) (*BillSummary, error)
}
