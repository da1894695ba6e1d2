package payment

import (
	"context"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// BindAccount binds the Alipay or WeChat account that authorised OneCard
// in the channel's app (authCode, from the channel's OAuth) to the card of
// a cardholder who has logged in with unified identity (seed 000).
func (s *Service) BindAccount(ctx context.Context, cardholderID int64, ch, authCode string) (*onecard.ChannelBinding, error) {
	account, err := s.payerID(ctx, ch, authCode)
	if err != nil {
		return nil, err
	}
	return s.cfg.Store.BindChannel(ctx, cardholderID, ch, account)
}

// UnbindAccount removes a card's binding of a channel. The logged-in
// cardholder may do it from any account: it is how a lost phone's account
// is unbound (seed 000).
func (s *Service) UnbindAccount(ctx context.Context, cardholderID int64, ch string) error {
	return s.cfg.Store.UnbindChannel(ctx, cardholderID, ch)
}

// UnbindByAccount is the bound account unbinding itself from inside the
// channel's app, without a card login: the authorisation proves the account.
func (s *Service) UnbindByAccount(ctx context.Context, ch, authCode string) error {
	account, err := s.payerID(ctx, ch, authCode)
	if err != nil {
		return err
	}
	b, err := s.cfg.Store.ChannelBindingByAccount(ctx, ch, account)
	if err != nil {
		return err
	}
	return s.cfg.Store.UnbindChannel(ctx, b.CardholderID, ch)
}

// payerID exchanges a channel's OAuth code for the account ID.
func (s *Service) payerID(ctx context.Context, ch, authCode string) (string, error) {
	if ch != onecard.ChannelAlipay && ch != onecard.ChannelWechat {
		return "", onecard.Errorf(onecard.EINVALID, "Only Alipay and WeChat accounts are bound this way, not %q.", ch)
	}
	if authCode == "" || len(authCode) > 128 {
		return "", onecard.Errorf(onecard.EINVALID, "An authorisation code from %s is needed.", channelTitle(channel.Name(ch)))
	}
	g, err := s.gateway(ch)
	if err != nil {
		return "", err
	}
	b, ok := g.(channel.Binder)
	if !ok {
		return "", onecard.Errorf(onecard.EINVALID, "%s accounts cannot be bound.", channelTitle(channel.Name(ch)))
	}
	account, err := b.PayerID(ctx, authCode)
	if err != nil {
		return "", gatewayError(channel.Name(ch), err)
	}
	return account, nil
}

// BindBankCard binds a bank card for loads and bank top-ups: OneCard checks
// the name and ID number against the cardholder's, then the bank signs the
// debit agreement (it checks the card is the holder's). If the bank refuses,
// nothing stays bound.
func (s *Service) BindBankCard(ctx context.Context, cardholderID int64, nb *onecard.NewBankBinding) (*onecard.BankBinding, error) {
	b, err := s.cfg.Banks.BindBankCard(ctx, cardholderID, nb)
	if err != nil {
		return nil, err
	}
	g, ok := s.cfg.Gateways[channel.Bank]
	if !ok {
		return b, nil // no bank link: the binding serves kiosk loads only
	}
	signer, ok := g.(channel.BankSigner)
	if !ok {
		return b, nil
	}
	agreement, err := signer.Sign(ctx, nb.HolderName, nb.IDNumber, nb.CardNumber)
	if err != nil {
		if uerr := s.cfg.Banks.UnbindBankCard(ctx, cardholderID); uerr != nil {
			s.log.Error("payment: bank refused the card but the binding could not be removed", "cardholder", cardholderID, "err", uerr)
		}
		return nil, gatewayError(channel.Bank, err)
	}
	if err := s.cfg.Store.SetBankAgreement(ctx, cardholderID, agreement); err != nil {
		return nil, err
	}
	return b, nil
}

// UnbindBankCard cancels the bank agreement, then removes the binding.
func (s *Service) UnbindBankCard(ctx context.Context, cardholderID int64) error {
	if agreement, err := s.cfg.Store.BankAgreement(ctx, cardholderID); err == nil && agreement != "" {
		if signer, ok := s.cfg.Gateways[channel.Bank].(channel.BankSigner); ok {
			if err := signer.Unsign(ctx, agreement); err != nil && channel.Code(err) != channel.ErrNotFound {
				return gatewayError(channel.Bank, err)
			}
		}
	}
	return s.cfg.Banks.UnbindBankCard(ctx, cardholderID)
}
