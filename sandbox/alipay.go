package sandbox

// The sandbox's Alipay OpenAPI. Like the real one it has a single address,
// gateway.do, taking form-encoded requests that name a method and carry the
// merchant application's RSA2 signature over the sorted parameters; it
// answers JSON of the shape {"<method>_response":{...},"sign":"..."} where
// the signature, made with "Alipay's" key, covers the exact bytes of the
// response object. The trade methods live in alipay_trade.go, notifications
// in alipay_notify.go and statements in alipay_bill.go.

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/onecard-campus/onecard/channel"
)

const (
	alipayGatewayPath = "/alipay/gateway.do"
	alipayTimeLayout  = "2006-01-02 15:04:05"
	// alipaySellerID is the merchant's own Alipay user ID, shown in
	// notifications and statements.
	alipaySellerID = "2088000000000000"
)

// alipayRoutes registers the Alipay gateway, the statement download and the
// notification protocol.
func (s *Sandbox) alipayRoutes() {
	s.mux.HandleFunc(alipayGatewayPath, s.alipayGateway)
	s.mux.HandleFunc("GET "+alipayBillPath, s.alipayBillDownload)
	s.mu.Lock()
	s.notifier[channel.Alipay] = s.alipayNotification
	s.acker[channel.Alipay] = alipayAcked
	s.mu.Unlock()
}

// alipayFault is a refusal in Alipay's words: a public code (40001 missing
// argument, 40002 invalid argument, 40004 business failure...) and the
// sub_code that says why.
type alipayFault struct {
	Code, Msg, SubCode, SubMsg string
	// Gateway faults are the gateway refusing the request itself (bad
	// signature, unknown app or method, bad OAuth code): Alipay answers
	// them as error_response. The others are a method's business answer,
	// signed under <method>_response.
	Gateway bool
}

func (f *alipayFault) fields() map[string]any {
	return map[string]any{"code": f.Code, "msg": f.Msg, "sub_code": f.SubCode, "sub_msg": f.SubMsg}
}

func alipayMissing(subCode, subMsg string) *alipayFault {
	return &alipayFault{Code: "40001", Msg: "Missing Required Arguments", SubCode: subCode, SubMsg: subMsg, Gateway: true}
}

func alipayInvalid(subCode, subMsg string) *alipayFault {
	return &alipayFault{Code: "40002", Msg: "Invalid Arguments", SubCode: subCode, SubMsg: subMsg, Gateway: true}
}

func alipayBusiness(subCode, subMsg string) *alipayFault {
	return &alipayFault{Code: "40004", Msg: "Business Failed", SubCode: subCode, SubMsg: subMsg}
}

// alipayOK is a successful method response with its fields.
func alipayOK(fields map[string]any) map[string]any {
	fields["code"] = "10000"
	fields["msg"] = "Success"
	return fields
}

// alipayText is a biz_content value. Alipay documents every field as a
// string but also accepts numbers (total_amount: 10.5), so both decode,
// numbers keeping their literal text: amounts never pass through a float.
type alipayText string

func (t *alipayText) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		*t = alipayText(s)
		return err
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*t = alipayText(n)
	return nil
}

// alipayBiz is the union of the biz_content fields the sandbox reads.
type alipayBiz struct {
	OutTradeNo     alipayText `json:"out_trade_no"`
	TradeNo        alipayText `json:"trade_no"`
	Subject        alipayText `json:"subject"`
	TotalAmount    alipayText `json:"total_amount"`
	TimeExpire     alipayText `json:"time_expire"`
	TimeoutExpress alipayText `json:"timeout_express"`
	RefundAmount   alipayText `json:"refund_amount"`
	OutRequestNo   alipayText `json:"out_request_no"`
	Scene          alipayText `json:"scene"`
	AuthCode       alipayText `json:"auth_code"`
	BillType       alipayText `json:"bill_type"`
	BillDate       alipayText `json:"bill_date"`
}

// alipayCall is one verified request.
type alipayCall struct {
	Method string
	Params map[string]string // the public parameters, first value of each
	Biz    alipayBiz
}

// alipayResponseName is the JSON member holding a method's answer.
func alipayResponseName(method string) string {
	return strings.ReplaceAll(method, ".", "_") + "_response"
}

// alipayPageMethods are opened by the payer's browser, not called by the
// merchant's server: they answer with pages and redirects, not JSON.
var alipayPageMethods = map[string]bool{"alipay.trade.wap.pay": true, "alipay.trade.page.pay": true}

func (s *Sandbox) alipayGateway(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	// The library posts everything in the body; the official SDKs put the
	// public parameters in the query and biz_content in the body, and a
	// payer's browser brings wap.pay in the query. Alipay reads the union.
	if err := r.ParseForm(); err != nil {
		s.alipayWrite(w, "", nil, alipayInvalid("isv.invalid-parameter", "the request could not be parsed: "+err.Error()))
		return
	}
	call, fault := s.alipayVerify(r.Form)
	method := r.Form.Get("method")
	if alipayPageMethods[method] {
		if fault != nil {
			alipayErrorPage(w, fault)
			return
		}
		s.alipayPagePay(w, r, call)
		return
	}
	if fault != nil {
		s.alipayWrite(w, method, nil, fault)
		return
	}
	handle, ok := alipayMethods[method]
	if !ok {
		s.alipayWrite(w, method, nil, alipayInvalid("isv.invalid-method", "the sandbox does not offer method "+method))
		return
	}
	res, fault := handle(s, call)
	s.alipayWrite(w, method, res, fault)
}

// alipayMethods are the server-to-server methods.
var alipayMethods = map[string]func(*Sandbox, *alipayCall) (map[string]any, *alipayFault){
	"alipay.trade.query":                             (*Sandbox).alipayQuery,
	"alipay.trade.close":                             (*Sandbox).alipayClose,
	"alipay.trade.refund":                            (*Sandbox).alipayRefund,
	"alipay.trade.pay":                               (*Sandbox).alipayCodePay,
	"alipay.trade.cancel":                            (*Sandbox).alipayCancel,
	"alipay.data.dataservice.bill.downloadurl.query": (*Sandbox).alipayBillURL,
	"alipay.system.oauth.token":                      (*Sandbox).alipayOAuthToken,
}

// alipayVerify checks a request's public parameters and its signature, as
// the real gateway does before looking at the method.
func (s *Sandbox) alipayVerify(form url.Values) (*alipayCall, *alipayFault) {
	params := make(map[string]string, len(form))
	for k, v := range form {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	switch {
	case params["app_id"] == "":
		return nil, alipayMissing("isv.missing-app-id", "app_id is required")
	case params["method"] == "":
		return nil, alipayMissing("isv.missing-method", "method is required")
	case params["sign"] == "":
		return nil, alipayMissing("isv.missing-signature", "sign is required")
	case params["sign_type"] == "":
		return nil, alipayMissing("isv.missing-signature-type", "sign_type is required")
	case params["timestamp"] == "":
		return nil, alipayMissing("isv.missing-timestamp", "timestamp is required")
	case params["version"] == "":
		return nil, alipayMissing("isv.missing-version", "version is required")
	}
	if params["app_id"] != s.keys.AlipayAppID {
		return nil, alipayInvalid("isv.invalid-app-id", "unknown app_id "+params["app_id"])
	}
	if params["sign_type"] != "RSA2" {
		return nil, alipayInvalid("isv.invalid-signature-type", "the sandbox only verifies RSA2 signatures")
	}
	if c := params["charset"]; c != "" && !strings.EqualFold(c, "utf-8") {
		return nil, alipayInvalid("isv.invalid-charset", "the sandbox only reads utf-8 requests")
	}
	if _, err := alipayParseTime(params["timestamp"], s.opt.Location); err != nil {
		return nil, alipayInvalid("isv.invalid-timestamp", "timestamp is not yyyy-MM-dd HH:mm:ss")
	}
	pub, err := alipayAppPublicKey(s.keys.AlipayApp)
	if err != nil {
		return nil, &alipayFault{Code: "20000", Msg: "Service Currently Unavailable", SubCode: "isp.unknow-error", SubMsg: err.Error(), Gateway: true}
	}
	content := alipaySignContent(params, "sign")
	if err := alipayVerifyRSA2(pub, content, params["sign"]); err != nil {
		// Alipay shows the string it checked, which is how merchants
		// debug their signing; the sandbox does the same.
		return nil, alipayInvalid("isv.invalid-signature", "signature did not verify; the gateway checked: "+content)
	}
	call := &alipayCall{Method: params["method"], Params: params}
	if bc := params["biz_content"]; bc != "" {
		if err := json.Unmarshal([]byte(bc), &call.Biz); err != nil {
			return nil, alipayInvalid("isv.invalid-parameter", "biz_content is not a JSON object of strings: "+err.Error())
		}
	}
	return call, nil
}

// alipaySignContent is the string Alipay signs: every non-empty parameter
// except those skipped, as key=value sorted by key and joined with &.
// Requests skip only sign (sign_type is signed); notifications skip sign
// and sign_type.
func alipaySignContent(params map[string]string, skip ...string) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if v == "" || alipayHas(skip, k) {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	return b.String()
}

func alipayHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func alipayVerifyRSA2(pub *rsa.PublicKey, content, sign string) error {
	sig, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(content))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

// alipaySign signs data with "Alipay's" private key: RSA2 is
// PKCS#1 v1.5 over SHA-256, base64 encoded.
func (s *Sandbox) alipaySign(data []byte) (string, error) {
	key, err := alipayPrivateKey(s.keys.AlipayPlatform)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// alipayWrite answers a server-to-server call: res on success, otherwise
// the fault, as a signed <method>_response or as error_response.
func (s *Sandbox) alipayWrite(w http.ResponseWriter, method string, res map[string]any, fault *alipayFault) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if fault != nil {
		if fault.Gateway || method == "" {
			b, _ := json.Marshal(map[string]any{"error_response": fault.fields()})
			_, _ = w.Write(b)
			return
		}
		res = fault.fields()
	}
	obj, err := json.Marshal(res)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sign, err := s.alipaySign(obj)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// Written by hand so that the signed bytes are exactly the bytes of
	// the response object the merchant will verify.
	var b strings.Builder
	b.WriteString(`{"`)
	b.WriteString(alipayResponseName(method))
	b.WriteString(`":`)
	b.Write(obj)
	b.WriteString(`,"sign":"`)
	b.WriteString(sign)
	b.WriteString(`"}`)
	_, _ = w.Write([]byte(b.String()))
}

var alipayErrorTmpl = template.Must(template.New("alipay-error").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sandbox Alipay: payment cannot start</title></head><body>
<p>Sandbox Alipay gateway: no real money moves.</p>
<h1>The payment cannot start</h1>
<p>Error code <code id="sub-code">{{.SubCode}}</code> ({{.Code}} {{.Msg}})</p>
<p id="sub-msg">{{.SubMsg}}</p>
</body></html>`))

// alipayErrorPage is what the payer's browser shows when a payment link is
// refused: Alipay renders an error page, not JSON.
func alipayErrorPage(w http.ResponseWriter, f *alipayFault) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = alipayErrorTmpl.Execute(w, f)
}

// Parsed keys, by PEM: the sandbox signs every response and verifies every
// request, and Keys never change once a sandbox runs.
var alipayKeyCache sync.Map

func alipayPrivateKey(p string) (*rsa.PrivateKey, error) {
	if k, ok := alipayKeyCache.Load(p); ok {
		return k.(*rsa.PrivateKey), nil
	}
	k, err := ParsePrivateKey(p)
	if err != nil {
		return nil, err
	}
	alipayKeyCache.Store(p, k)
	return k, nil
}

// alipayAppPublicKey is the merchant application's public key: what the
// merchant uploads to Alipay, derived here from the private key the
// sandbox handed out.
func alipayAppPublicKey(private string) (*rsa.PublicKey, error) {
	k, err := alipayPrivateKey(private)
	if err != nil {
		return nil, fmt.Errorf("sandbox: alipay app key: %w", err)
	}
	return &k.PublicKey, nil
}

// alipayYuan formats fen as Alipay writes amounts: yuan with two
// decimals, "-" for refunds in statements.
func alipayYuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign = "-"
		u = uint64(-(fen + 1)) + 1
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

var errAlipayTime = errors.New("not an Alipay time")
