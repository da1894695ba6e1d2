package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"

	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/devidp"
	"github.com/onecard-campus/onecard/store"
)

// demoIdentity starts the development identity provider of serve --demo
// at /idp/ and makes it the demo school's unified identity login (OpenID
// Connect), so the whole login flow works with no outside server. Its
// users are the demo school's cardholders, by card number; its password is
// shown on its login page.
func demoIdentity(ctx context.Context, db *store.DB, info *demo.Info, public string) (http.Handler, error) {
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	idp, err := devidp.New(devidp.Options{
		BaseURL: public + "/idp",
		Users: func(ctx context.Context, number string) (string, bool) {
			h, err := db.CardholderByNumber(ctx, info.SchoolID, number)
			if err != nil {
				return "", false
			}
			return h.Name, true
		},
		ClientID:     "onecard-demo",
		ClientSecret: hex.EncodeToString(secret),
		RedirectURIs: []string{public + "/login/sso/" + url.PathEscape(info.SchoolCode) + "/callback"},
	})
	if err != nil {
		return nil, err
	}
	cfg := idp.OIDCConfig(info.SchoolID)
	if err := db.SetSSOConfig(ctx, &cfg); err != nil {
		return nil, err
	}
	return idp, nil
}

// sandboxOAuth is the demo's channel authorisation page: binding an Alipay
// or WeChat account goes through the embedded sandbox, as it would go
// through the channel's own OAuth page.
func sandboxOAuth(base string) func(ch, redirect, state string) string {
	return func(ch, redirect, state string) string {
		return base + "/sandbox/oauth/" + url.PathEscape(ch) + "?" + url.Values{"redirect_uri": {redirect}, "state": {state}}.Encode()
	}
}
