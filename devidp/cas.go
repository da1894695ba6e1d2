package devidp

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"time"
)

// ticket is a CAS service ticket: good once, for one service URL.
type ticket struct {
	service, username, display string
	fresh                      bool // the password was typed for it (renew)
	expires                    time.Time
}

// casLogin is /cas/login (CAS protocol 2.1): the form on GET, the
// credentials on POST, then a redirect to the service with a ticket.
func (p *IdP) casLogin(w http.ResponseWriter, r *http.Request) {
	q, ok := requestQuery(w, r)
	if !ok {
		return
	}
	service := q.Get("service")
	if service == "" {
		errorPage(w, http.StatusBadRequest, "缺少 service 参数：请从一卡通应用进入登录。",
			"The service parameter is missing: start the login from the OneCard app.")
		return
	}
	if !p.allowedService(service) {
		errorPage(w, http.StatusBadRequest, "该应用未在本身份提供者登记。", "This application is not registered with this identity provider.")
		return
	}
	// renew asks for the password even with a session; gateway asks not to
	// be shown a form at all (back without a ticket when there is no session).
	renew, gateway := q.Get("renew") == "true", q.Get("gateway") == "true"
	sess := p.session(r)
	if renew {
		sess = nil
	}
	if r.Method == http.MethodGet && gateway {
		if sess == nil {
			http.Redirect(w, r, service, http.StatusSeeOther)
			return
		}
		p.redirectWithTicket(w, r, service, sess.username, sess.display, false)
		return
	}
	pg := page{Title: "统一身份认证", TitleEN: "Unified Identity Authentication", Form: true, Action: p.basePath + "/cas/login",
		Q: q.Encode(), Client: clientHost(service), Password: p.opts.Password}
	if sess != nil {
		pg.Session = &sessionView{Username: sess.username, Display: sess.display}
	}
	if r.Method != http.MethodPost {
		render(w, http.StatusOK, pg)
		return
	}
	username, display, fresh, err := p.login(r, !renew)
	if err != nil {
		pg.Error, pg.ErrorEN, pg.Username = "账号或密码错误。", "Wrong account or password.", r.PostFormValue("username")
		render(w, http.StatusUnauthorized, pg)
		return
	}
	p.startSession(w, username, display)
	p.redirectWithTicket(w, r, service, username, display, fresh)
}

func (p *IdP) redirectWithTicket(w http.ResponseWriter, r *http.Request, service, username, display string, fresh bool) {
	id := "ST-" + random() // "ST-" is required of service tickets
	now := p.opts.Now()
	p.mu.Lock()
	prune(p.tickets, now, func(t *ticket) time.Time { return t.expires })
	p.tickets[id] = &ticket{service: service, username: username, display: display, fresh: fresh, expires: now.Add(TicketTTL)}
	p.mu.Unlock()
	http.Redirect(w, r, withQuery(service, url.Values{"ticket": {id}}), http.StatusSeeOther)
}

// casValidate is /cas/serviceValidate and /cas/p3/serviceValidate. A
// ticket is gone after its first validation, whatever the outcome, as the
// protocol requires: a ticket tried with the wrong service may have been
// stolen.
func (p *IdP) casValidate(w http.ResponseWriter, r *http.Request, v3 bool) {
	q := r.URL.Query()
	id, service := q.Get("ticket"), q.Get("service")
	if id == "" || service == "" {
		casFailure(w, "INVALID_REQUEST", "Both the ticket and service parameters are required.")
		return
	}
	p.mu.Lock()
	t := p.tickets[id]
	delete(p.tickets, id)
	p.mu.Unlock()
	switch {
	case t == nil || !p.opts.Now().Before(t.expires):
		casFailure(w, "INVALID_TICKET", "Ticket "+id+" not recognized.")
	case t.service != service:
		casFailure(w, "INVALID_SERVICE", "Ticket "+id+" was not issued for this service.")
	case q.Get("renew") == "true" && !t.fresh:
		casFailure(w, "INVALID_TICKET", "Ticket "+id+" was issued from a single sign-on session, not from fresh credentials.")
	default:
		casSuccess(w, t, v3)
	}
}

// casSuccess writes an authenticationSuccess with the user and, as CAS 3.0
// servers do on both endpoints, the display name as an attribute.
func casSuccess(w http.ResponseWriter, t *ticket, v3 bool) {
	var b bytes.Buffer
	b.WriteString("<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\">\n <cas:authenticationSuccess>\n  <cas:user>")
	xml.EscapeText(&b, []byte(t.username))
	b.WriteString("</cas:user>\n  <cas:attributes>\n   <cas:displayName>")
	xml.EscapeText(&b, []byte(t.display))
	b.WriteString("</cas:displayName>\n")
	if v3 {
		b.WriteString("   <cas:isFromNewLogin>")
		if t.fresh {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
		b.WriteString("</cas:isFromNewLogin>\n")
	}
	b.WriteString("  </cas:attributes>\n </cas:authenticationSuccess>\n</cas:serviceResponse>\n")
	writeXML(w, b.Bytes())
}

// casFailure writes an authenticationFailure. CAS answers failures with
// 200: the XML, not the status, carries the verdict.
func casFailure(w http.ResponseWriter, code, msg string) {
	var b bytes.Buffer
	b.WriteString("<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\">\n <cas:authenticationFailure code=\"")
	xml.EscapeText(&b, []byte(code))
	b.WriteString("\">")
	xml.EscapeText(&b, []byte(msg))
	b.WriteString("</cas:authenticationFailure>\n</cas:serviceResponse>\n")
	writeXML(w, b.Bytes())
}

func writeXML(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
}

// casLogout is /cas/logout: the IdP session ends. With a registered
// service it sends the person back there, otherwise it says they are out.
func (p *IdP) casLogout(w http.ResponseWriter, r *http.Request) {
	p.endSession(w, r)
	service := r.URL.Query().Get("service")
	if service != "" && p.allowedService(service) {
		http.Redirect(w, r, service, http.StatusSeeOther)
		return
	}
	render(w, http.StatusOK, page{Title: "已退出", TitleEN: "Logged out",
		Message: "您已退出统一身份认证。", MessageEN: "You have logged out of unified identity authentication."})
}

// requestQuery returns the login request's parameters: the URL's on GET,
// the form's q (the original query, carried through the form) on POST.
func requestQuery(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return r.URL.Query(), true
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		q, err := url.ParseQuery(r.PostFormValue("q"))
		if err != nil {
			errorPage(w, http.StatusBadRequest, "登录请求已损坏，请从应用重新进入。", "The login request is damaged; start again from the application.")
			return nil, false
		}
		return q, true
	}
	w.Header().Set("Allow", "GET, POST")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return nil, false
}
