package device

import (
	"context"
	"net/http"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/purse"
)

// Services are the domain services the kiosk and the self-service
// replacement machine call on a cardholder's behalf.
type Services struct {
	Schools     onecard.SchoolService
	Cardholders onecard.CardholderService
	Cards       onecard.CardService
	PINs        onecard.PINService
	Auth        onecard.AuthService
	Banks       onecard.BankBindingService
	// Issuer personalizes the new card a replacement machine writes.
	Issuer interface {
		PurseIssuer(ctx context.Context, schoolID int64) (*purse.Issuer, error)
	}
}

// HandleServices serves the kiosk (圈存机) and replacement-machine calls.
func (s *Server) HandleServices(svc Services) {
	k := &services{Services: svc}
	s.handle("POST /device/v1/kiosk/report-lost", only(k.reportLost, onecard.TerminalKiosk))
	s.handle("POST /device/v1/kiosk/unlock", only(k.unlock, onecard.TerminalKiosk))
	s.handle("POST /device/v1/kiosk/pins", only(k.changePIN, onecard.TerminalKiosk))
	s.handle("POST /device/v1/kiosk/bank-binding", only(k.bindBank, onecard.TerminalKiosk))
	s.handle("POST /device/v1/replacements", only(k.replace, onecard.TerminalReplacement))
}

type services struct{ Services }

// only lets terminals of the given kinds make a call.
func only(h handlerFunc, kinds ...onecard.TerminalKind) handlerFunc {
	return func(ctx context.Context, t *onecard.Terminal, r *http.Request, body []byte) (any, error) {
		for _, k := range kinds {
			if t.Kind == k {
				return h(ctx, t, r, body)
			}
		}
		return nil, onecard.Errorf(onecard.EFORBIDDEN, "A %s terminal cannot make this call.", t.Kind)
	}
}

// ReportLostRequest reports a card lost at a kiosk: the card is not there,
// so the cardholder gives the card number and the query PIN (seed 001).
type ReportLostRequest struct {
	Number string `json:"number"`
	PIN    string `json:"pin"`
}

// CardRequest is a kiosk call about the inserted card, with the query PIN.
type CardRequest struct {
	UID purse.UID `json:"uid"`
	PIN string    `json:"pin"`
}

// ChangePINRequest changes either PIN at a kiosk (the consumption PIN can
// only be changed there, seed 001 Part 07).
type ChangePINRequest struct {
	UID  purse.UID       `json:"uid"`
	Kind onecard.PINKind `json:"kind"`
	Old  string          `json:"old"`
	New  string          `json:"new"`
}

// BankBindingRequest binds or rebinds the bank card used for loads.
type BankBindingRequest struct {
	UID        purse.UID `json:"uid"`
	PIN        string    `json:"pin"`
	Bank       string    `json:"bank"`
	HolderName string    `json:"holder_name"`
	IDNumber   string    `json:"id_number"`
	CardNumber string    `json:"card_number"`
}

// CardAnswer is a kiosk's answer about a card.
type CardAnswer struct {
	Card    *onecard.Card    `json:"card"`
	Balance *onecard.Balance `json:"balance,omitempty"`
}

func (k *services) reportLost(ctx context.Context, t *onecard.Terminal, _ *http.Request, body []byte) (any, error) {
	var req ReportLostRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	h, err := k.Cardholders.CardholderByNumber(ctx, t.SchoolID, req.Number)
	if err != nil {
		return nil, err
	}
	if err := k.PINs.VerifyPIN(ctx, h.ID, onecard.QueryPIN, req.PIN); err != nil {
		return nil, err
	}
	c, err := k.Cards.ActiveCard(ctx, h.ID)
	if err != nil {
		return nil, err
	}
	if c, err = k.Cards.ReportLost(ctx, c.ID); err != nil {
		return nil, err
	}
	if err := k.Auth.RevokeCardholderSessions(ctx, h.ID); err != nil {
		return nil, err
	}
	return &CardAnswer{Card: c}, nil
}

// insertedCard finds the inserted card's cardholder and checks the query PIN.
func (k *services) insertedCard(ctx context.Context, t *onecard.Terminal, uid purse.UID, pin string, kind onecard.PINKind) (*onecard.Card, error) {
	c, err := k.Cards.CardByUID(ctx, t.SchoolID, uid.String())
	if err != nil {
		return nil, err
	}
	if c.Status == onecard.CardCancelled {
		return nil, c.BlockedError()
	}
	if pin != "" || kind != "" {
		if err := k.PINs.VerifyPIN(ctx, c.CardholderID, kind, pin); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (k *services) unlock(ctx context.Context, t *onecard.Terminal, _ *http.Request, body []byte) (any, error) {
	var req CardRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	c, err := k.insertedCard(ctx, t, req.UID, req.PIN, onecard.QueryPIN)
	if err != nil {
		return nil, err
	}
	if c, err = k.Cards.Unlock(ctx, c.ID); err != nil {
		return nil, err
	}
	return &CardAnswer{Card: c}, nil
}

func (k *services) changePIN(ctx context.Context, t *onecard.Terminal, _ *http.Request, body []byte) (any, error) {
	var req ChangePINRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if !req.Kind.Valid() {
		return nil, onecard.Errorf(onecard.EINVALID, "kind must be query or consumption.")
	}
	c, err := k.insertedCard(ctx, t, req.UID, "", "")
	if err != nil {
		return nil, err
	}
	if err := k.PINs.ChangePIN(ctx, c.CardholderID, req.Kind, req.Old, req.New); err != nil {
		return nil, err
	}
	if err := k.Auth.RevokeCardholderSessions(ctx, c.CardholderID); err != nil {
		return nil, err
	}
	return &CardAnswer{Card: c}, nil
}

func (k *services) bindBank(ctx context.Context, t *onecard.Terminal, _ *http.Request, body []byte) (any, error) {
	var req BankBindingRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	c, err := k.insertedCard(ctx, t, req.UID, req.PIN, onecard.QueryPIN)
	if err != nil {
		return nil, err
	}
	return k.Banks.BindBankCard(ctx, c.CardholderID, &onecard.NewBankBinding{Bank: req.Bank, HolderName: req.HolderName,
		IDNumber: req.IDNumber, CardNumber: req.CardNumber, Via: "kiosk"})
}
