package sandbox

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/onecard-campus/onecard/channel"
)

// The OAuth authorisation page: what a payer sees in the channel's app when
// a merchant's page asks to know their account (Alipay's user
// authorisation, WeChat's web authorisation). The payer names the test
// account to authorise as; the sandbox issues a one-time code for it
// (IssueOAuthCode) and sends the browser back to the merchant's
// redirect_uri with auth_code and state, as the real channels do. The
// merchant exchanges the code through the channel's protocol
// (alipay.system.oauth.token, sns/oauth2/access_token).

func (s *Sandbox) oauthRoutes() {
	s.mux.HandleFunc("GET /sandbox/oauth/{channel}", s.oauthPage)
	s.mux.HandleFunc("POST /sandbox/oauth/{channel}", s.oauthAuthorize)
}

var oauthTmpl = template.Must(template.New("oauth").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>OneCard sandbox authorisation</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}
input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}button{font-size:1.1rem;padding:.6rem 1.4rem}
.note{color:#666;font-size:.9rem}</style></head><body>
<p class="note">Sandbox {{.Channel}}: no real account is involved.</p>
<h1>授权 / Authorise</h1>
<form method="post">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="state" value="{{.State}}">
<p><label>Authorise OneCard as account <input name="account" id="account" value="{{.Account}}" autocomplete="off" required maxlength="64"></label></p>
<p><button type="submit" id="authorize">Authorise</button></p>
</form>
<p class="note">Back to {{.Host}} after authorising.</p>
</body></html>`))

// oauthRedirect checks a redirect URI: an absolute http or https URL.
func oauthRedirect(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > 2048 {
		return nil, false
	}
	return u, true
}

func oauthChannel(w http.ResponseWriter, r *http.Request) (channel.Name, bool) {
	ch := channel.Name(r.PathValue("channel"))
	if ch != channel.Alipay && ch != channel.Wechat {
		http.Error(w, "OAuth exists for alipay and wechat", http.StatusNotFound)
		return "", false
	}
	return ch, true
}

func (s *Sandbox) oauthPage(w http.ResponseWriter, r *http.Request) {
	ch, ok := oauthChannel(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	u, ok := oauthRedirect(q.Get("redirect_uri"))
	if !ok {
		http.Error(w, "redirect_uri must be an absolute http or https URL", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = oauthTmpl.Execute(w, map[string]any{
		"Channel": ch, "RedirectURI": u.String(), "State": q.Get("state"), "Account": defaultPayer(ch), "Host": u.Host,
	})
}

// oauthAuthorize is the payer consenting: a code for the account, and the
// browser back to the merchant.
func (s *Sandbox) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	ch, ok := oauthChannel(w, r)
	if !ok {
		return
	}
	u, ok := oauthRedirect(r.PostFormValue("redirect_uri"))
	if !ok {
		http.Error(w, "redirect_uri must be an absolute http or https URL", http.StatusBadRequest)
		return
	}
	account := strings.TrimSpace(r.PostFormValue("account"))
	if account == "" {
		account = defaultPayer(ch)
	}
	if len(account) > 64 {
		http.Error(w, "the account is at most 64 characters", http.StatusBadRequest)
		return
	}
	q := u.Query()
	q.Set("auth_code", s.IssueOAuthCode(ch, account))
	q.Set("state", r.PostFormValue("state"))
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}
