package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

// The cardholder's bound accounts (seed 000): an Alipay or WeChat account
// whose top-ups go to this card only, and the bank card for loads and bank
// top-ups (seeds 001, 003). Every handler acts on the session's cardholder.

type bindingsOutput struct {
	Body struct {
		Channels []*onecard.ChannelBinding `json:"channels" doc:"Bound Alipay and WeChat accounts, masked."`
		BankCard *onecard.BankBinding      `json:"bank_card,omitempty" doc:"The bound bank card, masked; absent when none."`
	}
}

// meBindings lists what is bound to the caller's card.
func (s *Server) meBindings(ctx context.Context, _ *struct{}) (*bindingsOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	bs, err := s.cfg.PaymentStore.ChannelBindings(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &bindingsOutput{}
	out.Body.Channels = nonNil(bs)
	if s.cfg.Banks != nil {
		b, err := s.cfg.Banks.BankBinding(ctx, id)
		switch {
		case err == nil:
			out.Body.BankCard = b
		case onecard.ErrorCode(err) != onecard.ENOTFOUND:
			return nil, err
		}
	}
	return out, nil
}

// channelPath names an account channel in the path.
type channelPath struct {
	Channel string `path:"channel" enum:"alipay,wechat" doc:"The account's channel."`
}

type bindAccountInput struct {
	Channel string `path:"channel" enum:"alipay,wechat" doc:"The account's channel."`
	Body    struct {
		AuthCode string `json:"auth_code" minLength:"1" maxLength:"128" doc:"The authorisation code the channel's OAuth gave the app for the account to bind."`
	}
}

type bindingOutput struct {
	Body *onecard.ChannelBinding
}

// meBindAccount binds the account that authorised the app to the caller's
// card. The account comes from the channel's answer to the code, never from
// the request, so nobody can bind an account they do not hold.
func (s *Server) meBindAccount(ctx context.Context, in *bindAccountInput) (*bindingOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	b, err := s.cfg.Payments.BindAccount(ctx, id, in.Channel, in.Body.AuthCode)
	if err != nil {
		return nil, err
	}
	return &bindingOutput{Body: b}, nil
}

// meUnbindAccount removes the caller's binding of a channel, from any
// device: how the account of a lost phone is unbound.
func (s *Server) meUnbindAccount(ctx context.Context, in *channelPath) (*struct{}, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.Payments.UnbindAccount(ctx, id, in.Channel)
}

type bindBankInput struct {
	Body struct {
		Bank       string `json:"bank" minLength:"1" maxLength:"64" doc:"The issuing bank, e.g. 中国建设银行."`
		HolderName string `json:"holder_name" minLength:"1" maxLength:"64" doc:"The name on the bank card; must be the cardholder's."`
		IDNumber   string `json:"id_number" minLength:"1" maxLength:"32" doc:"The holder's ID number; must be the cardholder's."`
		CardNumber string `json:"card_number" minLength:"16" maxLength:"32" doc:"16 to 19 digits, spaces allowed."`
	}
}

type bankBindingOutput struct {
	Body *onecard.BankBinding
}

// meBindBank binds (or rebinds) the caller's bank card: OneCard checks the
// name and ID number, then the bank signs the debit agreement.
func (s *Server) meBindBank(ctx context.Context, in *bindBankInput) (*bankBindingOutput, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	b := in.Body
	bb, err := s.cfg.Payments.BindBankCard(ctx, id, &onecard.NewBankBinding{
		Bank: b.Bank, HolderName: b.HolderName, IDNumber: b.IDNumber, CardNumber: b.CardNumber, Via: "app",
	})
	if err != nil {
		return nil, err
	}
	return &bankBindingOutput{Body: bb}, nil
}

// meUnbindBank cancels the bank agreement and removes the bank card.
func (s *Server) meUnbindBank(ctx context.Context, _ *struct{}) (*struct{}, error) {
	id, err := self(ctx)
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.Payments.UnbindBankCard(ctx, id)
}
