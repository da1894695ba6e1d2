package device

import (
	"context"
	"net/http"
	"slices"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/purse"
)

// The purse calls of docs/DEVICE_API.md: the SAM key, taps, loads and
// records. Each checks the terminal's kind, decodes the body and hands the
// rest to the Backend.

// allow refuses a terminal whose kind may not make a call.
func allow(t *onecard.Terminal, call string, kinds ...onecard.TerminalKind) error {
	if !slices.Contains(kinds, t.Kind) {
		return onecard.Errorf(onecard.EFORBIDDEN, "A %s terminal may not call %s.", t.Kind, call)
	}
	return nil
}

func (s *Server) sam(ctx context.Context, t *onecard.Terminal, _ *http.Request, _ []byte) (any, error) {
	if err := allow(t, "/device/v1/sam", onecard.TerminalPOS, onecard.TerminalBath); err != nil {
		return nil, err
	}
	is, err := s.cfg.Backend.PurseIssuer(ctx, t.SchoolID)
	if err != nil {
		return nil, err
	}
	return &SAMKey{PurchaseMasterKey: is.PurchaseMasterKey(), TerminalID: purse.TerminalID(t.ID)}, nil
}

func (s *Server) tap(ctx context.Context, t *onecard.Terminal, _ *http.Request, body []byte) (any, error) {
	if err := allow(t, "/device/v1/taps", onecard.TerminalPOS, onecard.TerminalBath, onecard.TerminalKiosk); err != nil {
		return nil, err
	}
	var req TapRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	switch {
	case req.Amount < 0 || req.Amount > onecard.MaxAmount:
		return nil, onecard.Errorf(onecard.EINVALID, "The amount must be between 0 and %s.", onecard.Yuan(onecard.MaxAmount))
	case t.Kind == onecard.TerminalKiosk && req.Amount != 0:
		return nil, onecard.Errorf(onecard.EINVALID, "A kiosk taps a card with amount 0: it only checks the card and its claim.")
	case req.PIN != "":
		if err := onecard.ValidatePIN(req.PIN); err != nil {
			return nil, err
		}
	}
	return s.cfg.Backend.Tap(ctx, t, &req)
}

func (s *Server) load(ctx context.Context, t *onecard.Terminal, _ *http.Request, body []byte) (any, error) {
	if err := allow(t, "/device/v1/loads", onecard.TerminalPOS, onecard.TerminalKiosk, onecard.TerminalCash); err != nil {
		return nil, err
	}
	var req LoadRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	return s.cfg.Backend.AuthorizeLoad(ctx, t, &req)
}

// Confirmed is the answer to a load confirmation.
type Confirmed struct {
	Confirmed bool `json:"confirmed"`
}

func (s *Server) confirmLoad(ctx context.Context, t *onecard.Terminal, _ *http.Request, body []byte) (any, error) {
	if err := allow(t, "/device/v1/loads/confirm", onecard.TerminalPOS, onecard.TerminalKiosk, onecard.TerminalCash); err != nil {
		return nil, err
	}
	var req ConfirmLoadRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if err := s.cfg.Backend.ConfirmLoad(ctx, t, &req); err != nil {
		return nil, err
	}
	return &Confirmed{Confirmed: true}, nil
}

func (s *Server) records(ctx context.Context, t *onecard.Terminal, _ *http.Request, body []byte) (any, error) {
	if err := allow(t, "/device/v1/records", onecard.TerminalPOS, onecard.TerminalBath); err != nil {
		return nil, err
	}
	var req RecordsRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if n := len(req.Records); n == 0 || n > MaxRecords {
		return nil, onecard.Errorf(onecard.EINVALID, "An upload carries 1 to %d records, not %d.", MaxRecords, n)
	}
	results, err := s.cfg.Backend.UploadRecords(ctx, t, req.Records)
	if err != nil {
		return nil, err
	}
	return &RecordsResponse{Results: results}, nil
}
