package alipay

import (
	"context"
	"errors"
	"strings"

	sdk "github.com/smartwalle/alipay/v3"

	"github.com/onecard-campus/onecard/channel"
)

// PayerID implements channel.Binder with alipay.system.oauth.token: the
// auth_code from the payer's consent becomes the payer's user ID (buyer_id
// in notifications). Applications created since Alipay's OpenID migration
// get open_id instead of user_id; it is used when user_id is absent.
func (g *Gateway) PayerID(ctx context.Context, authCode string) (string, error) {
	const api = "alipay.system.oauth.token"
	if authCode == "" {
		return "", channel.NewError(channel.ErrRefused, "empty authorisation code")
	}
	rsp, err := g.client.SystemOauthToken(ctx, sdk.SystemOauthToken{GrantType: "authorization_code", Code: authCode})
	// This method's success carries no code, so settle's code check does
	// not apply; a bad code comes back as error_response.
	if err != nil {
		fail, err := settle(api, err, nil)
		if err != nil {
			return "", err
		}
		return "", oauthRefusal(api, *fail)
	}
	if rsp == nil {
		return "", errors.New("alipay: " + api + ": empty answer")
	}
	if rsp.Code != "" && rsp.Code != sdk.CodeSuccess {
		return "", oauthRefusal(api, rsp.Error)
	}
	id := rsp.UserId
	if id == "" {
		id = rsp.OpenId
	}
	if id == "" {
		return "", channel.NewError(channel.ErrMalformed, "the token answer names no user")
	}
	return id, nil
}

// oauthRefusal: Alipay reports a used, expired or unknown code as 40002
// isv.code-invalid (an "invalid argument", not a business failure), yet it
// is the definite "no" the contract calls ErrRefused.
func oauthRefusal(api string, e sdk.Error) error {
	if strings.HasPrefix(e.SubCode, "isv.code-") {
		return channel.NewError(channel.ErrRefused, e.SubMsg)
	}
	return refusal(api, e)
}
