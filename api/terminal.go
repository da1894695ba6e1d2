package api

import (
	"context"
	"encoding/hex"

	"github.com/onecard-campus/onecard"
)

type terminalsOutput struct {
	Body struct {
		Items []*onecard.Terminal `json:"items"`
	}
}

// listTerminals lists a school's terminals.
func (s *Server) listTerminals(ctx context.Context, in *schoolIDInput) (*terminalsOutput, error) {
	if _, err := s.scopedSchool(ctx, in.ID); err != nil {
		return nil, err
	}
	ts, err := s.cfg.Terminals.Terminals(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := &terminalsOutput{}
	out.Body.Items = nonNil(ts)
	return out, nil
}

type createTerminalInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"School ID."`
	Body struct {
		Code       string `json:"code" minLength:"2" maxLength:"32" doc:"Code unique within the school; the terminal signs with it."`
		Name       string `json:"name" minLength:"1" maxLength:"64" doc:"Where it stands, e.g. 一食堂 1号机."`
		Kind       string `json:"kind" enum:"pos,bath,kiosk,cash,replacement" doc:"What the terminal does."`
		CampusID   int64  `json:"campus_id,omitempty" minimum:"0" doc:"The campus it is on."`
		MerchantID int64  `json:"merchant_id,omitempty" minimum:"0" doc:"The merchant it takes payments for; 0 for the card centre."`
	}
}

type createTerminalOutput struct {
	Body struct {
		Terminal *onecard.Terminal `json:"terminal"`
		Key      string            `json:"key" doc:"The terminal's signing key, hex. Shown only now: provision it into the device."`
	}
}

// createTerminal registers a terminal and hands out its key once.
func (s *Server) createTerminal(ctx context.Context, in *createTerminalInput) (*createTerminalOutput, error) {
	if _, err := s.scopedSchool(ctx, in.ID); err != nil {
		return nil, err
	}
	b := in.Body
	t := &onecard.Terminal{SchoolID: in.ID, CampusID: b.CampusID, MerchantID: b.MerchantID, Kind: onecard.TerminalKind(b.Kind),
		Code: b.Code, Name: b.Name}
	key, err := s.cfg.Terminals.CreateTerminal(ctx, t)
	if err != nil {
		return nil, err
	}
	out := &createTerminalOutput{}
	out.Body.Terminal, out.Body.Key = t, hex.EncodeToString(key)
	return out, nil
}

type setTerminalDisabledInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Terminal ID."`
	Body struct {
		Disabled bool `json:"disabled" doc:"True to refuse every request of the terminal (stolen or retired)."`
	}
}

type terminalOutput struct {
	Body *onecard.Terminal
}

// setTerminalDisabled disables or re-enables a terminal.
func (s *Server) setTerminalDisabled(ctx context.Context, in *setTerminalDisabledInput) (*terminalOutput, error) {
	t, err := s.cfg.Terminals.Terminal(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if err := inSchool(ctx, t.SchoolID); err != nil {
		return nil, err
	}
	if t, err = s.cfg.Terminals.SetTerminalDisabled(ctx, in.ID, in.Body.Disabled); err != nil {
		return nil, err
	}
	return &terminalOutput{Body: t}, nil
}
