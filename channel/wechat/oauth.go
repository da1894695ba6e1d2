package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/onecard-campus/onecard/channel"
)

// oauthHost is the official accounts' API host, where the OAuth exchange
// lives (not on the payment host).
const oauthHost = "https://api.weixin.qq.com"

// PayerID implements channel.Binder: the code the payer's WeChat gives
// after authorising the official account (snsapi_base) is exchanged for
// the payer's openid under AppID, the ID payments then report.
//
// This is a plain net/http call: gopay's helper for this exchange (in its
// v2 wechat package) has api.weixin.qq.com fixed in the code, so it cannot
// reach the sandbox, and the exchange is not part of the signed v3 API the
// client speaks. The answer is unsigned, like WeChat's own: only TLS
// vouches for it.
func (g *Gateway) PayerID(ctx context.Context, authCode string) (string, error) {
	if authCode == "" {
		return "", channel.NewError(channel.ErrRefused, "no authorisation code")
	}
	q := url.Values{"appid": {g.cfg.AppID}, "secret": {g.cfg.AppSecret}, "code": {authCode},
		"grant_type": {"authorization_code"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.oauthBase()+"/sns/oauth2/access_token?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("wechat: oauth: %w", err)
	}
	res, err := g.hc.Do(req)
	if err != nil {
		// *url.Error quotes the URL, and the URL holds the app secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("wechat: oauth: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("wechat: oauth: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("wechat: oauth: HTTP %d", res.StatusCode)
	}
	var out struct {
		OpenID  string `json:"openid"`
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("wechat: oauth: answer is not JSON: %w", err)
	}
	switch {
	case out.ErrCode == -1:
		return "", fmt.Errorf("wechat: oauth: WeChat is busy: %s", out.ErrMsg) // worth a retry
	case out.ErrCode != 0:
		return "", channel.NewError(channel.ErrRefused, fmt.Sprintf("%d %s", out.ErrCode, out.ErrMsg))
	case out.OpenID == "":
		return "", fmt.Errorf("wechat: oauth: answer has no openid")
	}
	return out.OpenID, nil
}

// oauthBase is where the exchange goes: the payment host has no OAuth, so
// the official BaseURL means api.weixin.qq.com; any other BaseURL (the
// sandbox, a proxy) serves both.
func (g *Gateway) oauthBase() string {
	switch strings.ToLower(g.base) {
	case officialHost, "https://api2.mch.weixin.qq.com":
		return oauthHost
	}
	return g.base
}
