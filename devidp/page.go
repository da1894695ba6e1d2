package devidp

import (
	"html/template"
	"net/http"
	"net/url"
)

// page is what the login, logout and error pages show.
type page struct {
	Title, TitleEN string
	// Login form: posted back to Action with the original request's query
	// in Q, so the request is checked again on the way in and no state is
	// kept for people who never finish.
	Form     bool
	Action   string
	Q        string
	Client   string // host the login is for
	Password string // the development password, shown
	Username string // as typed, after a wrong password
	// Session is set when the person is logged in at the IdP already and
	// may continue as that user.
	Session *sessionView
	// Messages: Error is in red above the form.
	Error, ErrorEN     string
	Message, MessageEN string
	Link               string // a link onward (logout: back to the service)
}

type sessionView struct{ Username, Display string }

// The page is Chinese with English below, phone width, with no script and
// nothing loaded from elsewhere (styles inline), like the app it stands in
// for. Every page says plainly that this is not a real identity provider.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.TitleEN}}</title>
<style>
body{margin:0;font:16px/1.5 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f2f4f7;color:#1d2129}
main{max-width:420px;margin:0 auto;padding:24px 16px}
h1{font-size:22px;margin:0}
.en{color:#86909c;font-size:13px;display:block}
.card{background:#fff;border-radius:12px;padding:20px;margin-top:16px}
.dev{background:#fff7e8;border:1px solid #ffcf8b;border-radius:8px;padding:10px 12px;font-size:14px;margin-top:16px}
.err{background:#ffece8;border:1px solid #fbaca3;border-radius:8px;padding:10px 12px;font-size:14px;margin-bottom:12px}
label{display:block;margin:12px 0 4px;font-size:14px}
input[type=text],input[type=password]{box-sizing:border-box;width:100%;font-size:17px;padding:10px 12px;border:1px solid #c9cdd4;border-radius:8px}
button{width:100%;font-size:17px;padding:11px;margin-top:18px;border:0;border-radius:8px;background:#165dff;color:#fff}
button.plain{background:#e8f3ff;color:#165dff}
code{background:#f2f3f5;padding:1px 6px;border-radius:4px;font-size:16px}
a{color:#165dff}
</style>
</head>
<body>
<main>
<h1>{{.Title}}<span class="en">{{.TitleEN}}</span></h1>
<div class="dev">开发用身份提供者，不是学校真实的统一身份认证。{{if .Password}}所有账号的密码都是 <code>{{.Password}}</code>。{{end}}
<span class="en">A development identity provider, not a school's real one.{{if .Password}} Every account's password is <code>{{.Password}}</code>.{{end}}</span></div>
<div class="card">
{{- if .Error}}<div class="err" role="alert">{{.Error}}<span class="en">{{.ErrorEN}}</span></div>{{end}}
{{- if .Message}}<p>{{.Message}}<span class="en">{{.MessageEN}}</span></p>{{end}}
{{- if .Link}}<p><a href="{{.Link}}">返回<span class="en">Go back</span></a></p>{{end}}
{{- if .Form}}
{{- if .Client}}<p>登录到 {{.Client}}<span class="en">Logging in to {{.Client}}</span></p>{{end}}
{{- if .Session}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Q}}">
<input type="hidden" name="action" value="continue">
<p>已登录为 {{.Session.Display}}（{{.Session.Username}}）<span class="en">Logged in as {{.Session.Display}} ({{.Session.Username}})</span></p>
<button type="submit">继续<span class="en" style="color:#e8f3ff">Continue</span></button>
</form>
<p>或使用其他账号登录<span class="en">Or log in with another account</span></p>
{{- end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Q}}">
<label for="username">账号（学号或工号）<span class="en">Account (student or staff number)</span></label>
<input type="text" id="username" name="username" value="{{.Username}}" autocomplete="username" autocapitalize="none" required{{if not .Session}} autofocus{{end}}>
<label for="password">密码<span class="en">Password</span></label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit"{{if .Session}} class="plain"{{end}}>登录<span class="en" style="color:inherit">Log in</span></button>
</form>
{{- end}}
</div>
</main>
</body>
</html>
`))

// render writes a page. Nothing the IdP shows may be cached or framed: a
// login page in a frame is how passwords are phished by clickjacking. The
// policy has no form-action: browsers differ on whether it also blocks the
// redirect back to the application that follows the post.
func render(w http.ResponseWriter, status int, pg page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, pg)
}

// errorPage tells the person what went wrong when the request cannot be
// sent back to the application (unknown client, unregistered address):
// redirecting to an address nobody registered would make the IdP an open
// redirector.
func errorPage(w http.ResponseWriter, status int, zh, en string) {
	render(w, status, page{Title: "无法登录", TitleEN: "Cannot log in", Error: zh, ErrorEN: en})
}

// clientHost names the application a login is for, from its return URL.
func clientHost(uri string) string {
	if u, err := url.Parse(uri); err == nil {
		return u.Host
	}
	return ""
}
