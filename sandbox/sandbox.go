// Package sandbox is a local payment gateway for development, tests and the
// demo. It speaks the same protocols as the real channels, with its own test
// keys: Alipay's OpenAPI (alipay.go), WeChat Pay v3 (wechat.go) and the bank
// link (bank.go). The core in this file keeps the orders, lets a payer
// confirm on a page, delivers notifications (with retries, and twice, late or
// never on request), issues payment codes and OAuth codes to test payers, and
// produces the daily statements.
//
// Nothing here is for production: orders live in memory and every payer has
// unlimited money.
package sandbox

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/onecard-campus/onecard/channel"
)

// Delivery is how the sandbox delivers an order's notification.
type Delivery string

// Deliveries.
const (
	DeliverNormal Delivery = "normal" // once, retried until acknowledged
	DeliverTwice  Delivery = "twice"  // twice in a row (a duplicate)
	DeliverLate   Delivery = "late"   // after Options.LateDelay
	DeliverNever  Delivery = "never"  // not at all: the merchant must query
)

// Options tune a sandbox. Zero values take the defaults.
type Options struct {
	// BaseURL is where the sandbox is reachable, e.g. http://127.0.0.1:8090.
	// Checkout pages and download links are built on it.
	BaseURL string
	// Location is the time zone of statement days; Asia/Shanghai.
	Location *time.Location
	// RetryDelays are the waits between notification attempts that were not
	// acknowledged; default 1s, 5s, 30s, 2m, 10m.
	RetryDelays []time.Duration
	// LateDelay is how long a DeliverLate notification waits; default 5s.
	LateDelay time.Duration
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Client sends notifications; a client with a 10 s timeout by default.
	Client *http.Client
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Order is one trade the sandbox knows: a top-up order or a code payment.
type Order struct {
	Channel   channel.Name
	No        string // the merchant's order number
	GatewayNo string // the sandbox's trade number
	Amount    int64
	Subject   string
	NotifyURL string
	ReturnURL string
	Expire    time.Time
	State     channel.State
	Payer     string // who paid (or must pay)
	PaidAt    time.Time
	Created   time.Time
	Refunds   []Refund
	Code      bool // a code payment
	// Delivery is how this order's notification goes out.
	Delivery Delivery
	// Notified counts delivery attempts; Acked says one was acknowledged.
	Notified int
	Acked    bool
}

// Refunded sums the refunds of o.
func (o *Order) Refunded() int64 {
	var n int64
	for _, r := range o.Refunds {
		n += r.Amount
	}
	return n
}

// Trade returns the channel view of o.
func (o *Order) Trade() *channel.Trade {
	return &channel.Trade{No: o.No, GatewayNo: o.GatewayNo, State: o.State, Amount: o.Amount,
		Refunded: o.Refunded(), Payer: o.Payer, PaidAt: o.PaidAt}
}

// Refund is one refund of an order.
type Refund struct {
	No     string
	Amount int64
	At     time.Time
}

// PayCode is a payment code a test payer shows at a POS.
type PayCode struct {
	Channel channel.Name
	Code    string
	Payer   string
	// Confirm makes a payment with this code wait for the payer's
	// confirmation (USERPAYING) until ConfirmCode or CancelCode.
	Confirm bool
	Used    bool
}

// notifier builds the notification request of an order, in its channel's
// protocol. Each protocol file registers one.
type notifier func(o *Order) (*http.Request, error)

// acker reads whether a notification's response acknowledged it.
type acker func(res *http.Response, body []byte) bool

// Sandbox is the gateway. It implements http.Handler.
type Sandbox struct {
	opt Options
	log *slog.Logger
	mux *http.ServeMux

	mu       sync.Mutex
	orders   map[string]*Order // channel + "/" + No
	codes    map[string]*PayCode
	oauth    map[string]string // OAuth code -> payer ID
	planted  map[channel.Name][]channel.StatementLine
	next     map[channel.Name]Delivery // delivery for the next order of a channel
	seq      int64
	notifier map[channel.Name]notifier
	acker    map[channel.Name]acker

	wg     sync.WaitGroup
	closed chan struct{}
	once   sync.Once

	keys *Keys

	bankState *bankState // agreements, balances and nonces of the bank link (bank.go)
}

// New returns a sandbox with fresh test keys.
func New(opt Options) (*Sandbox, error) {
	keys, err := NewKeys()
	if err != nil {
		return nil, err
	}
	return NewWithKeys(opt, keys), nil
}

// NewWithKeys returns a sandbox using keys (so that a restarted sandbox
// keeps the credentials a server was configured with).
func NewWithKeys(opt Options, keys *Keys) *Sandbox {
	if opt.Location == nil {
		opt.Location = time.FixedZone("CST", 8*3600)
		if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
			opt.Location = loc
		}
	}
	if opt.RetryDelays == nil {
		opt.RetryDelays = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute}
	}
	if opt.LateDelay == 0 {
		opt.LateDelay = 5 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	opt.BaseURL = strings.TrimSuffix(opt.BaseURL, "/")
	s := &Sandbox{opt: opt, log: opt.Logger, mux: http.NewServeMux(), keys: keys,
		orders: map[string]*Order{}, codes: map[string]*PayCode{}, oauth: map[string]string{},
		planted: map[channel.Name][]channel.StatementLine{}, next: map[channel.Name]Delivery{},
		notifier: map[channel.Name]notifier{}, acker: map[channel.Name]acker{}, closed: make(chan struct{})}
	s.routes()
	return s
}

// SetBaseURL sets where the sandbox is reachable, for a sandbox created
// before its listener.
func (s *Sandbox) SetBaseURL(u string) {
	s.mu.Lock()
	s.opt.BaseURL = strings.TrimSuffix(u, "/")
	s.mu.Unlock()
}

func (s *Sandbox) baseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opt.BaseURL
}

// Config returns the merchant-side configuration of every channel, pointing
// at this sandbox: what `onecard serve` needs to use it.
func (s *Sandbox) Config() channel.Config {
	base := s.baseURL()
	return s.keys.config(base)
}

// ServeHTTP implements http.Handler.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops pending notification deliveries and waits for them.
func (s *Sandbox) Close() {
	s.once.Do(func() { close(s.closed) })
	s.wg.Wait()
}

func (s *Sandbox) now() time.Time { return s.opt.Now() }

func orderKey(ch channel.Name, no string) string { return string(ch) + "/" + no }

// newGatewayNo returns a trade number in the channel's style.
func (s *Sandbox) newGatewayNo(ch channel.Name) string {
	s.seq++
	day := s.now().In(s.opt.Location).Format("20060102")
	switch ch {
	case channel.Alipay:
		return fmt.Sprintf("%s2200%014d", day, s.seq)
	case channel.Wechat:
		return fmt.Sprintf("4200%s%014d", day, s.seq)
	default:
		return fmt.Sprintf("B%s%010d", day, s.seq)
	}
}

// createOrder stores a new order. A merchant order number already used for
// another amount is refused; the same order again returns the stored one
// (gateways are idempotent on out_trade_no).
func (s *Sandbox) createOrder(o *Order) (*Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.No == "" || o.Amount <= 0 {
		return nil, channel.NewError(channel.ErrMalformed, "order number and a positive amount are required")
	}
	if old, ok := s.orders[orderKey(o.Channel, o.No)]; ok {
		if old.Amount != o.Amount {
			return nil, channel.NewError(channel.ErrRefused, "order number already used with a different amount")
		}
		return old, nil
	}
	o.GatewayNo = s.newGatewayNo(o.Channel)
	o.Created = s.now()
	if o.State == "" {
		o.State = channel.StateWaiting
	}
	if d, ok := s.next[o.Channel]; ok {
		o.Delivery = d
		delete(s.next, o.Channel)
	}
	if o.Delivery == "" {
		o.Delivery = DeliverNormal
	}
	s.orders[orderKey(o.Channel, o.No)] = o
	return o, nil
}

// order returns a copy of an order, or nil.
func (s *Sandbox) order(ch channel.Name, no string) *Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderKey(ch, no)]
	if !ok {
		return nil
	}
	c := *o
	c.Refunds = append([]Refund(nil), o.Refunds...)
	s.expire(&c)
	return &c
}

// expire closes a waiting order past its expiry (on the copy and the
// stored order). Callers hold s.mu.
func (s *Sandbox) expire(o *Order) {
	if o.State == channel.StateWaiting && !o.Expire.IsZero() && s.now().After(o.Expire) {
		o.State = channel.StateClosed
		if st, ok := s.orders[orderKey(o.Channel, o.No)]; ok {
			st.State = channel.StateClosed
		}
	}
}

// Pay marks an order paid by payer and sends its notification. It is what
// the checkout page does when the payer confirms, and what tests call.
func (s *Sandbox) Pay(ch channel.Name, no, payer string) error {
	s.mu.Lock()
	o, ok := s.orders[orderKey(ch, no)]
	if !ok {
		s.mu.Unlock()
		return channel.NewError(channel.ErrNotFound, "no such order")
	}
	s.expire(o)
	switch o.State {
	case channel.StatePaid:
		s.mu.Unlock()
		return nil
	case channel.StateWaiting, channel.StatePaying:
	default:
		s.mu.Unlock()
		return channel.NewError(channel.ErrRefused, "order is "+string(o.State))
	}
	if payer == "" {
		payer = o.Payer
	}
	if payer == "" {
		payer = defaultPayer(ch)
	}
	o.State, o.Payer, o.PaidAt = channel.StatePaid, payer, s.now()
	s.mu.Unlock()
	s.deliver(ch, no)
	return nil
}

// closeOrder closes an unpaid order.
func (s *Sandbox) closeOrder(ch channel.Name, no string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderKey(ch, no)]
	if !ok {
		return channel.NewError(channel.ErrNotFound, "no such order")
	}
	switch o.State {
	case channel.StatePaid, channel.StateRefunded:
		return channel.NewError(channel.ErrAlreadyPaid, "order is paid")
	}
	o.State = channel.StateClosed
	return nil
}

// refund records a refund. The same refund number twice refunds once; a
// refund above what is left is refused.
func (s *Sandbox) refund(ch channel.Name, no, refundNo string, amount int64) (*Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderKey(ch, no)]
	if !ok {
		return nil, channel.NewError(channel.ErrNotFound, "no such order")
	}
	for _, r := range o.Refunds {
		if r.No == refundNo {
			if r.Amount != amount {
				return nil, channel.NewError(channel.ErrRefused, "refund number already used with a different amount")
			}
			c := *o
			return &c, nil
		}
	}
	if o.State != channel.StatePaid {
		return nil, channel.NewError(channel.ErrRefused, "order is "+string(o.State)+", not paid")
	}
	if amount <= 0 || amount > o.Amount-o.Refunded() {
		return nil, channel.NewError(channel.ErrRefused, "refund amount exceeds what is left of the trade")
	}
	o.Refunds = append(o.Refunds, Refund{No: refundNo, Amount: amount, At: s.now()})
	if o.Refunded() == o.Amount {
		o.State = channel.StateRefunded
	}
	c := *o
	return &c, nil
}

// codePay charges a payment code: paid at once, paying when the code wants
// confirmation, refused when the code is unknown, used or of another
// channel.
func (s *Sandbox) codePay(ch channel.Name, no, code, subject string, amount int64) (*Order, error) {
	s.mu.Lock()
	pc, ok := s.codes[code]
	if !ok || pc.Channel != ch {
		s.mu.Unlock()
		return nil, channel.NewError(channel.ErrRefused, "payment code is invalid")
	}
	if old, ok := s.orders[orderKey(ch, no)]; ok {
		c := *old
		s.mu.Unlock()
		if old.Amount != amount {
			return nil, channel.NewError(channel.ErrRefused, "order number already used with a different amount")
		}
		return &c, nil
	}
	if pc.Used {
		s.mu.Unlock()
		return nil, channel.NewError(channel.ErrRefused, "payment code has been used, ask the payer to refresh it")
	}
	pc.Used = true
	s.mu.Unlock()
	o, err := s.createOrder(&Order{Channel: ch, No: no, Amount: amount, Subject: subject, Payer: pc.Payer, Code: true})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if pc.Confirm {
		o.State = channel.StatePaying
	} else {
		o.State, o.PaidAt = channel.StatePaid, s.now()
	}
	c := *o
	s.mu.Unlock()
	return &c, nil
}

// reverse cancels a code payment: closes it if unpaid, refunds it in full
// if paid.
func (s *Sandbox) reverse(ch channel.Name, no string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderKey(ch, no)]
	if !ok {
		return channel.NewError(channel.ErrNotFound, "no such order")
	}
	switch o.State {
	case channel.StateWaiting, channel.StatePaying:
		o.State = channel.StateClosed
	case channel.StatePaid:
		if left := o.Amount - o.Refunded(); left > 0 {
			o.Refunds = append(o.Refunds, Refund{No: "reverse-" + o.No, Amount: left, At: s.now()})
		}
		o.State = channel.StateRefunded
	}
	return nil
}

// IssueCode gives a test payer a payment code of a channel: 18 digits,
// starting 28 for Alipay and 13 for WeChat as the real ones do. With
// confirm, a payment with it waits for ConfirmCode.
func (s *Sandbox) IssueCode(ch channel.Name, payer string, confirm bool) string {
	prefix := "28"
	if ch == channel.Wechat {
		prefix = "13"
	}
	code := prefix + randomDigits(16)
	if payer == "" {
		payer = defaultPayer(ch)
	}
	s.mu.Lock()
	s.codes[code] = &PayCode{Channel: ch, Code: code, Payer: payer, Confirm: confirm}
	s.mu.Unlock()
	return code
}

// ConfirmCode is the payer confirming on the phone a code payment that
// waits (USERPAYING): it becomes paid. A closed (reversed) one is refused.
func (s *Sandbox) ConfirmCode(ch channel.Name, no string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderKey(ch, no)]
	if !ok {
		return channel.NewError(channel.ErrNotFound, "no such order")
	}
	if o.State != channel.StatePaying {
		return channel.NewError(channel.ErrRefused, "order is "+string(o.State))
	}
	o.State, o.PaidAt = channel.StatePaid, s.now()
	return nil
}

// IssueOAuthCode is the payer authorising OneCard in the channel's app: the
// code, exchanged once, tells the merchant the payer's account ID.
func (s *Sandbox) IssueOAuthCode(ch channel.Name, payer string) string {
	code := string(ch)[:1] + randomDigits(20)
	s.mu.Lock()
	s.oauth[code] = payer
	s.mu.Unlock()
	return code
}

// exchangeOAuthCode returns the payer of a code and forgets the code.
func (s *Sandbox) exchangeOAuthCode(code string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.oauth[code]
	delete(s.oauth, code)
	return p, ok
}

// SetNextDelivery sets how the next order created on a channel has its
// notification delivered.
func (s *Sandbox) SetNextDelivery(ch channel.Name, d Delivery) {
	s.mu.Lock()
	s.next[ch] = d
	s.mu.Unlock()
}

// SetDelivery sets how an existing order's notification is delivered.
func (s *Sandbox) SetDelivery(ch channel.Name, no string, d Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderKey(ch, no)]
	if !ok {
		return channel.NewError(channel.ErrNotFound, "no such order")
	}
	o.Delivery = d
	return nil
}

// Plant adds a line to a channel's statement that no trade backs: the
// planted difference a reconciliation test must find.
func (s *Sandbox) Plant(ch channel.Name, l channel.StatementLine) {
	s.mu.Lock()
	s.planted[ch] = append(s.planted[ch], l)
	s.mu.Unlock()
}

// Order returns a copy of an order for inspection, or nil.
func (s *Sandbox) Order(ch channel.Name, no string) *Order { return s.order(ch, no) }

// Orders returns copies of a channel's orders, oldest first.
func (s *Sandbox) Orders(ch channel.Name) []*Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Order
	for _, o := range s.orders {
		if o.Channel == ch {
			c := *o
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.Before(out[j].Created) || (out[i].Created.Equal(out[j].Created) && out[i].GatewayNo < out[j].GatewayNo)
	})
	return out
}

// statement returns a channel's statement of the day containing day: every
// payment and refund that happened that day, plus planted lines.
func (s *Sandbox) statement(ch channel.Name, day time.Time) []channel.StatementLine {
	loc := s.opt.Location
	d := day.In(loc)
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	end := start.AddDate(0, 0, 1)
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	var out []channel.StatementLine
	for _, o := range s.Orders(ch) {
		if !o.PaidAt.IsZero() && in(o.PaidAt) {
			out = append(out, channel.StatementLine{Kind: channel.StatementPayment, No: o.No, GatewayNo: o.GatewayNo, Amount: o.Amount, At: o.PaidAt})
		}
		for _, r := range o.Refunds {
			if in(r.At) {
				out = append(out, channel.StatementLine{Kind: channel.StatementRefund, No: o.No, RefundNo: r.No, GatewayNo: o.GatewayNo, Amount: r.Amount, At: r.At})
			}
		}
	}
	s.mu.Lock()
	for _, l := range s.planted[ch] {
		if in(l.At) {
			out = append(out, l)
		}
	}
	s.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// deliver sends an order's notification in the background, as its Delivery
// says, retrying unacknowledged attempts on RetryDelays.
func (s *Sandbox) deliver(ch channel.Name, no string) {
	s.mu.Lock()
	build, ok := s.notifier[ch]
	ack := s.acker[ch]
	o, found := s.orders[orderKey(ch, no)]
	if !ok || !found || o.NotifyURL == "" || o.Delivery == DeliverNever {
		s.mu.Unlock()
		return
	}
	mode := o.Delivery
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if mode == DeliverLate && !s.sleep(s.opt.LateDelay) {
			return
		}
		sends := 1
		if mode == DeliverTwice {
			sends = 2
		}
		for i := 0; i < sends; i++ {
			acked := s.send(ch, no, build, ack)
			for _, d := range s.opt.RetryDelays {
				if acked {
					break
				}
				if !s.sleep(d) {
					return
				}
				acked = s.send(ch, no, build, ack)
			}
		}
	}()
}

// send makes one delivery attempt and reports whether it was acknowledged.
func (s *Sandbox) send(ch channel.Name, no string, build notifier, ack acker) bool {
	o := s.order(ch, no)
	if o == nil {
		return true
	}
	req, err := build(o)
	if err != nil {
		s.log.Error("sandbox: build notification", "channel", ch, "order", no, "err", err)
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.opt.Client.Do(req.WithContext(ctx))
	ok := false
	if err == nil {
		body := make([]byte, 0, 512)
		buf := make([]byte, 512)
		for len(body) < 64<<10 {
			n, rerr := res.Body.Read(buf)
			body = append(body, buf[:n]...)
			if rerr != nil {
				break
			}
		}
		res.Body.Close()
		ok = ack(res, body)
	}
	s.mu.Lock()
	if st, found := s.orders[orderKey(ch, no)]; found {
		st.Notified++
		st.Acked = st.Acked || ok
	}
	s.mu.Unlock()
	if !ok {
		s.log.Info("sandbox: notification not acknowledged", "channel", ch, "order", no, "err", err)
	}
	return ok
}

// sleep waits d or until Close; false means the sandbox is closing.
func (s *Sandbox) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.closed:
		return false
	}
}

// defaultPayer is the test payer of a channel when none is named.
func defaultPayer(ch channel.Name) string {
	switch ch {
	case channel.Alipay:
		return "2088000000000001"
	case channel.Wechat:
		return "o-sandbox-payer-0001"
	default:
		return "sandbox-payer"
	}
}

func randomDigits(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// Notification builds the notification of an order as this sandbox would
// send it, signed with its keys, without sending it. Tests use it to make
// notifications the gateway never sent: for an amount the order does not
// have, or, from a sandbox with other keys, a forgery.
func (s *Sandbox) Notification(o *Order) (*http.Request, error) {
	s.mu.Lock()
	build, ok := s.notifier[o.Channel]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("sandbox: no notifications for channel %q", o.Channel)
	}
	if o.GatewayNo == "" {
		s.mu.Lock()
		o.GatewayNo = s.newGatewayNo(o.Channel)
		s.mu.Unlock()
	}
	return build(o)
}
