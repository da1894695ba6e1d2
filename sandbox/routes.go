package sandbox

import (
	"encoding/json"
	"html/template"
	"net/http"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
)

// routes registers the payer's checkout page, the test API and each
// protocol's endpoints.
func (s *Sandbox) routes() {
	s.mux.HandleFunc("GET /sandbox/checkout/{channel}/{no}", s.checkoutPage)
	s.mux.HandleFunc("POST /sandbox/checkout/{channel}/{no}", s.checkoutConfirm)
	s.mux.HandleFunc("GET /sandbox/api/orders/{channel}/{no}", s.apiOrder)
	s.mux.HandleFunc("POST /sandbox/api/orders/{channel}/{no}/pay", s.apiPay)
	s.mux.HandleFunc("POST /sandbox/api/orders/{channel}/{no}/confirm", s.apiConfirm)
	s.mux.HandleFunc("POST /sandbox/api/orders/{channel}/{no}/delivery", s.apiDelivery)
	s.mux.HandleFunc("POST /sandbox/api/delivery/{channel}", s.apiNextDelivery)
	s.mux.HandleFunc("POST /sandbox/api/codes/{channel}", s.apiIssueCode)
	s.mux.HandleFunc("POST /sandbox/api/oauth/{channel}", s.apiIssueOAuth)
	s.mux.HandleFunc("POST /sandbox/api/plant/{channel}", s.apiPlant)
	s.alipayRoutes()
	s.wechatRoutes()
	s.bankRoutes()
	s.oauthRoutes()
}

var checkoutTmpl = template.Must(template.New("checkout").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>OneCard sandbox checkout</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}
.amount{font-size:2rem;font-weight:600}button{font-size:1.1rem;padding:.6rem 1.4rem}
.note{color:#666;font-size:.9rem}</style></head><body>
<p class="note">Sandbox {{.Channel}} gateway: no real money moves.</p>
<h1>{{.Subject}}</h1>
<p class="amount">{{.Yuan}}</p>
<p>Order {{.No}} · {{.State}}</p>
{{if .Open}}<form method="post">
<label>Pay as account <input name="payer" value="{{.Payer}}" autocomplete="off"></label>
<p><button type="submit" id="confirm">Confirm payment</button></p>
</form>{{else if .ReturnURL}}<p><a id="return" href="{{.ReturnURL}}">Back to the merchant</a></p>{{end}}
</body></html>`))

func (s *Sandbox) checkoutPage(w http.ResponseWriter, r *http.Request) {
	o := s.order(channel.Name(r.PathValue("channel")), r.PathValue("no"))
	if o == nil {
		http.Error(w, "no such order", http.StatusNotFound)
		return
	}
	payer := o.Payer
	if payer == "" {
		payer = defaultPayer(o.Channel)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = checkoutTmpl.Execute(w, map[string]any{
		"Channel": o.Channel, "Subject": o.Subject, "No": o.No, "State": o.State, "Payer": payer,
		"Yuan": onecard.Yuan(o.Amount), "Open": o.State == channel.StateWaiting, "ReturnURL": o.ReturnURL,
	})
}

func (s *Sandbox) checkoutConfirm(w http.ResponseWriter, r *http.Request) {
	ch, no := channel.Name(r.PathValue("channel")), r.PathValue("no")
	if err := s.Pay(ch, no, r.FormValue("payer")); err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	if o := s.order(ch, no); o != nil && o.ReturnURL != "" {
		http.Redirect(w, r, o.ReturnURL, http.StatusSeeOther)
		return
	}
	// WeChat's H5 page takes where to go after paying from the merchant's
	// redirect_url parameter rather than from the order.
	if back, ok := oauthRedirect(r.URL.Query().Get("redirect_url")); ok && ch == channel.Wechat {
		http.Redirect(w, r, back.String(), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
}

// orderView is the test API's JSON of an order.
type orderView struct {
	Channel   channel.Name  `json:"channel"`
	No        string        `json:"no"`
	GatewayNo string        `json:"gateway_no"`
	Amount    int64         `json:"amount"`
	Refunded  int64         `json:"refunded"`
	State     channel.State `json:"state"`
	Payer     string        `json:"payer"`
	Delivery  Delivery      `json:"delivery"`
	Notified  int           `json:"notified"`
	Acked     bool          `json:"acked"`
}

func view(o *Order) orderView {
	return orderView{Channel: o.Channel, No: o.No, GatewayNo: o.GatewayNo, Amount: o.Amount, Refunded: o.Refunded(),
		State: o.State, Payer: o.Payer, Delivery: o.Delivery, Notified: o.Notified, Acked: o.Acked}
}

func (s *Sandbox) apiOrder(w http.ResponseWriter, r *http.Request) {
	o := s.order(channel.Name(r.PathValue("channel")), r.PathValue("no"))
	if o == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such order"})
		return
	}
	writeJSON(w, http.StatusOK, view(o))
}

func (s *Sandbox) apiPay(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Payer string `json:"payer"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	ch, no := channel.Name(r.PathValue("channel")), r.PathValue("no")
	if err := s.Pay(ch, no, in.Payer); err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, view(s.order(ch, no)))
}

func (s *Sandbox) apiConfirm(w http.ResponseWriter, r *http.Request) {
	ch, no := channel.Name(r.PathValue("channel")), r.PathValue("no")
	if err := s.ConfirmCode(ch, no); err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, view(s.order(ch, no)))
}

func (s *Sandbox) apiDelivery(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Mode Delivery `json:"mode"`
	}
	if !readJSON(w, r, &in) || !validDelivery(w, in.Mode) {
		return
	}
	if err := s.SetDelivery(channel.Name(r.PathValue("channel")), r.PathValue("no"), in.Mode); err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sandbox) apiNextDelivery(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Mode Delivery `json:"mode"`
	}
	if !readJSON(w, r, &in) || !validDelivery(w, in.Mode) {
		return
	}
	s.SetNextDelivery(channel.Name(r.PathValue("channel")), in.Mode)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sandbox) apiIssueCode(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Payer   string `json:"payer"`
		Confirm bool   `json:"confirm"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	ch := channel.Name(r.PathValue("channel"))
	if ch != channel.Alipay && ch != channel.Wechat {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "payment codes exist for alipay and wechat"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"code": s.IssueCode(ch, in.Payer, in.Confirm)})
}

func (s *Sandbox) apiIssueOAuth(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Payer string `json:"payer"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	ch := channel.Name(r.PathValue("channel"))
	if in.Payer == "" {
		in.Payer = defaultPayer(ch)
	}
	writeJSON(w, http.StatusOK, map[string]string{"code": s.IssueOAuthCode(ch, in.Payer), "payer": in.Payer})
}

func (s *Sandbox) apiPlant(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Kind      channel.StatementKind `json:"kind"`
		No        string                `json:"no"`
		GatewayNo string                `json:"gateway_no"`
		Amount    int64                 `json:"amount"`
		At        time.Time             `json:"at"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Kind == "" {
		in.Kind = channel.StatementPayment
	}
	if in.At.IsZero() {
		in.At = s.now()
	}
	s.Plant(channel.Name(r.PathValue("channel")), channel.StatementLine{Kind: in.Kind, No: in.No, GatewayNo: in.GatewayNo, Amount: in.Amount, At: in.At})
	w.WriteHeader(http.StatusNoContent)
}

func validDelivery(w http.ResponseWriter, d Delivery) bool {
	switch d {
	case DeliverNormal, DeliverTwice, DeliverLate, DeliverNever:
		return true
	}
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": "mode is one of normal, twice, late, never"})
	return false
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength == 0 {
		return true
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "malformed JSON: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
