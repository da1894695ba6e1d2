package api

import (
	"context"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/clientaddr"
	"github.com/onecard-campus/onecard/payment"
)

// The public top-up (seed 002): anyone who knows a card's school, holder
// name and number (a parent) may top it up with Alipay or WeChat Pay,
// without a session. What it may learn is kept small: the holder's name
// masked, the number it typed, and of an order only its state and amount.

type clientKey struct{}

// withClient puts the caller's address in the context for the lookup's
// rate limit, as clientaddr resolves it: the TCP peer's, never a header
// the caller wrote, unless the peer is one of the school's trusted
// proxies. Behind an untrusted proxy every caller shares its address, which
// errs towards refusing, not towards letting a lister through.
func withClient(hctx huma.Context, next func(huma.Context)) {
	addr := clientaddr.Key(clientaddr.Of(hctx.Context(), hctx.RemoteAddr()))
	next(huma.WithContext(hctx, context.WithValue(hctx.Context(), clientKey{}, addr)))
}

func clientFrom(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(string)
	return c
}

type publicSchool struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

type publicSchoolsInput struct {
	Q string `query:"q" maxLength:"64" doc:"Only schools whose name or code contains this (case-insensitive)."`
}

type publicSchoolsOutput struct {
	Body struct {
		Items []publicSchool `json:"items" doc:"By name; at most 50."`
	}
}

// publicSchools lets the payer pick the school: names and codes only, which
// are on every campus gate anyway; never the settings.
func (s *Server) publicSchools(ctx context.Context, in *publicSchoolsInput) (*publicSchoolsOutput, error) {
	all, err := s.cfg.Schools.Schools(ctx)
	if err != nil {
		return nil, err
	}
	q := strings.ToLower(strings.TrimSpace(in.Q))
	out := &publicSchoolsOutput{}
	out.Body.Items = []publicSchool{}
	for _, sc := range all {
		if q != "" && !strings.Contains(strings.ToLower(sc.Name), q) && !strings.Contains(strings.ToLower(sc.Code), q) {
			continue
		}
		out.Body.Items = append(out.Body.Items, publicSchool{ID: sc.ID, Code: sc.Code, Name: sc.Name})
		if len(out.Body.Items) == 50 {
			break
		}
	}
	return out, nil
}

type publicLookupInput struct {
	Body struct {
		SchoolID int64  `json:"school_id" minimum:"1" doc:"From GET /public/schools."`
		Name     string `json:"name" minLength:"1" maxLength:"64" doc:"The holder's full name."`
		Number   string `json:"number" minLength:"1" maxLength:"32" doc:"The card (student or staff) number."`
	}
}

type publicCardOutput struct {
	Body *payment.PublicCard
}

// publicLookup shows the payer whose card it is about to top up, masked.
// A wrong name and an unknown number get the same not_found, and each
// address may ask only a few times a minute (rate_limited): together they
// keep the lookup from listing cardholders.
func (s *Server) publicLookup(ctx context.Context, in *publicLookupInput) (*publicCardOutput, error) {
	b := in.Body
	c, _, err := s.cfg.Payments.LookupCard(ctx, clientFrom(ctx), b.SchoolID, b.Name, b.Number)
	if err != nil {
		return nil, err
	}
	return &publicCardOutput{Body: c}, nil
}

type publicTopUpInput struct {
	Body struct {
		SchoolID   int64  `json:"school_id" minimum:"1" doc:"From GET /public/schools."`
		Name       string `json:"name" minLength:"1" maxLength:"64" doc:"The holder's full name."`
		Number     string `json:"number" minLength:"1" maxLength:"32" doc:"The card (student or staff) number."`
		Channel    string `json:"channel" enum:"alipay,wechat" doc:"How the payer pays."`
		Amount     int64  `json:"amount" minimum:"1" maximum:"1000000000" doc:"Fen to credit; the channel fee, if any, is added to what the payer pays."`
		Phone      string `json:"phone,omitempty" maxLength:"20" doc:"A mainland mobile number to text when the money reaches the card."`
		Key        string `json:"key" minLength:"1" maxLength:"64" doc:"Idempotency key: a retry with the same key for the same card returns the same order."`
		AgreeTerms bool   `json:"agree_terms" doc:"The payer accepts the top-up terms; must be true."`
	}
}

type publicTopUpOutput struct {
	Body struct {
		No        string              `json:"no" doc:"The order number, for GET /public/topups/{no}."`
		State     onecard.TopUpState  `json:"state"`
		Amount    int64               `json:"amount" doc:"Fen credited to the card."`
		Fee       int64               `json:"fee" doc:"Fen of channel fee."`
		Total     int64               `json:"total" doc:"Fen the payer pays."`
		PayURL    string              `json:"pay_url,omitempty" doc:"Where the payer's browser goes to pay."`
		ExpiresAt time.Time           `json:"expires_at" doc:"An unpaid order closes then."`
		Card      *payment.PublicCard `json:"card"`
	}
}

// publicTopUp opens a top-up anyone may pay. It passes the same checks
// and rate limit as the lookup, so it cannot be used to probe around it.
func (s *Server) publicTopUp(ctx context.Context, in *publicTopUpInput) (*publicTopUpOutput, error) {
	b := in.Body
	if !b.AgreeTerms {
		return nil, onecard.Errorf(onecard.EINVALID, "Read and accept the top-up terms first (agree_terms).")
	}
	// The store keeps request keys per card, so a key another payer of
	// another card chose never returns their order.
	t, card, err := s.cfg.Payments.TopUpPublic(ctx, clientFrom(ctx), b.SchoolID, b.Name, b.Number, b.Channel, b.Amount, b.Phone, b.Key)
	if err != nil {
		return nil, err
	}
	out := &publicTopUpOutput{}
	o := &out.Body
	o.No, o.State, o.Amount, o.Fee, o.Total, o.PayURL, o.ExpiresAt, o.Card = t.No, t.State, t.Amount, t.Fee, t.Total, t.PayURL, t.ExpiresAt, card
	return out, nil
}

type publicTopUpStateOutput struct {
	Body publicTopUpState
}

// publicTopUpState is all an order number tells someone without a session.
type publicTopUpState struct {
	No     string             `json:"no"`
	State  onecard.TopUpState `json:"state" doc:"pending, credited, closed, rejected, returned or refunded."`
	Amount int64              `json:"amount" doc:"Fen credited (or to be credited) to the card."`
	Card   string             `json:"card" doc:"The card number, all but its last four characters masked."`
}

// publicTopUpOne answers the payer's "did it work?", asking the gateway
// when the order is still pending.
func (s *Server) publicTopUpOne(ctx context.Context, in *topUpNoInput) (*publicTopUpStateOutput, error) {
	st, err := s.publicState(ctx, in.No)
	if err != nil {
		return nil, err
	}
	return &publicTopUpStateOutput{Body: *st}, nil
}

// publicState settles an order and returns its public view; the result
// page shows the same.
func (s *Server) publicState(ctx context.Context, no string) (*publicTopUpState, error) {
	t, err := s.cfg.PaymentStore.TopUp(ctx, no)
	if err != nil {
		return nil, err
	}
	t = s.settled(ctx, t)
	h, err := s.cfg.Cardholders.Cardholder(ctx, t.CardholderID)
	if err != nil {
		return nil, err
	}
	return &publicTopUpState{No: t.No, State: t.State, Amount: t.Amount, Card: maskCardNumber(h.Number)}, nil
}

// maskCardNumber keeps the last four characters of a card number.
func maskCardNumber(n string) string {
	r := []rune(n)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

type publicUnbindInput struct {
	Channel string `path:"channel" enum:"alipay,wechat" doc:"The account's channel."`
	Body    struct {
		AuthCode string `json:"auth_code" minLength:"1" maxLength:"128" doc:"The authorisation code the channel's OAuth gave, inside its own app."`
	}
}

// publicUnbind lets a bound account unbind itself from inside the
// channel's app, without a card login: the channel's authorisation proves
// the account, and only that account's binding goes.
func (s *Server) publicUnbind(ctx context.Context, in *publicUnbindInput) (*struct{}, error) {
	return nil, s.cfg.Payments.UnbindByAccount(ctx, in.Channel, in.Body.AuthCode)
}
