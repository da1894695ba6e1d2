package sandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
)

// The adapter's tests (channel/alipay) drive this gateway through the
// library; these check what the library never sends: unsigned or
// mis-signed requests, unknown methods, tampered download links.

var (
	alipayTestKeysOnce sync.Once
	alipayTestKeys     *Keys
	alipayTestKeysErr  error
)

func newAlipayTestSandbox(t *testing.T, now func() time.Time) (*Sandbox, *httptest.Server) {
	t.Helper()
	alipayTestKeysOnce.Do(func() { alipayTestKeys, alipayTestKeysErr = NewKeys() })
	if alipayTestKeysErr != nil {
		t.Fatal(alipayTestKeysErr)
	}
	s := NewWithKeys(Options{Now: now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, alipayTestKeys)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(s.Close)
	s.SetBaseURL(srv.URL)
	return s, srv
}

// alipayTestCall signs params as a merchant application does (sorted,
// all but sign, RSA2) with key, posts them and decodes the answer.
func alipayTestCall(t *testing.T, srv *httptest.Server, key string, params map[string]string) (raw []byte, answer map[string]json.RawMessage) {
	t.Helper()
	v := url.Values{}
	for k, x := range params {
		v.Set(k, x)
	}
	if key != "" {
		pk, err := ParsePrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range v {
			if k != "sign" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+"="+v.Get(k))
		}
		sum := sha256.Sum256([]byte(strings.Join(parts, "&")))
		sig, err := rsa.SignPKCS1v15(rand.Reader, pk, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		v.Set("sign", base64.StdEncoding.EncodeToString(sig))
	}
	res, err := http.PostForm(srv.URL+alipayGatewayPath, v)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ = io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, raw)
	}
	return raw, answer
}

func alipayTestParams(s *Sandbox, method string, biz string) map[string]string {
	return map[string]string{"app_id": s.keys.AlipayAppID, "method": method, "format": "JSON", "charset": "utf-8",
		"sign_type": "RSA2", "timestamp": "2024-05-01 12:00:00", "version": "1.0", "biz_content": biz}
}

func TestAlipayGatewayRefusals(t *testing.T) {
	s, srv := newAlipayTestSandbox(t, nil)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherPEM := alipayTestPEM(t, other)
	query := `{"out_trade_no":"T-1"}`
	with := func(k, v string) map[string]string {
		p := alipayTestParams(s, "alipay.trade.query", query)
		if v == "" {
			delete(p, k)
		} else {
			p[k] = v
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		key    string
		params map[string]string
		code   string
		sub    string
	}{
		{"no app_id", s.keys.AlipayApp, with("app_id", ""), "40001", "isv.missing-app-id"},
		{"unsigned", "", with("sign", ""), "40001", "isv.missing-signature"},
		{"unknown app", s.keys.AlipayApp, with("app_id", "2021999"), "40002", "isv.invalid-app-id"},
		{"RSA1", s.keys.AlipayApp, with("sign_type", "RSA"), "40002", "isv.invalid-signature-type"},
		{"signed by another key", otherPEM, with("method", "alipay.trade.query"), "40002", "isv.invalid-signature"},
		{"bad timestamp", s.keys.AlipayApp, with("timestamp", "yesterday"), "40002", "isv.invalid-timestamp"},
		{"unknown method", s.keys.AlipayApp, with("method", "alipay.trade.nothing"), "40002", "isv.invalid-method"},
		{"biz_content not JSON", s.keys.AlipayApp, with("biz_content", "{"), "40002", "isv.invalid-parameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, answer := alipayTestCall(t, srv, tc.key, tc.params)
			var e struct {
				Code    string `json:"code"`
				SubCode string `json:"sub_code"`
			}
			if err := json.Unmarshal(answer["error_response"], &e); err != nil {
				t.Fatalf("no error_response: %s", raw)
			}
			if e.Code != tc.code || e.SubCode != tc.sub {
				t.Fatalf("answer %s, want %s %s", raw, tc.code, tc.sub)
			}
		})
	}
	// A well-signed call gets a signed business answer.
	raw, answer := alipayTestCall(t, srv, s.keys.AlipayApp, alipayTestParams(s, "alipay.trade.query", query))
	obj := answer["alipay_trade_query_response"]
	var sign string
	if err := json.Unmarshal(answer["sign"], &sign); err != nil || !strings.Contains(string(obj), `"sub_code":"ACQ.TRADE_NOT_EXIST"`) {
		t.Fatalf("answer %s", raw)
	}
	pub, err := ParsePublicKey(mustPublicPEM(s.keys.AlipayPlatform))
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(sign)
	sum := sha256.Sum256(obj)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("the answer's signature does not cover its bytes: %v", err)
	}
}

func TestAlipayBillLink(t *testing.T) {
	var clock atomic.Int64
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	s, srv := newAlipayTestSandbox(t, func() time.Time { return start.Add(time.Duration(clock.Load())) })
	s.Plant(channel.Alipay, channel.StatementLine{Kind: channel.StatementPayment, No: "T-1", GatewayNo: "1", Amount: 100, At: start})
	_, answer := alipayTestCall(t, srv, s.keys.AlipayApp, alipayTestParams(s, "alipay.data.dataservice.bill.downloadurl.query", `{"bill_type":"trade","bill_date":"2024-05-01"}`))
	var res struct {
		Code string `json:"code"`
		URL  string `json:"bill_download_url"`
	}
	if err := json.Unmarshal(answer["alipay_data_dataservice_bill_downloadurl_query_response"], &res); err != nil || res.Code != "10000" {
		t.Fatalf("answer %s", answer["alipay_data_dataservice_bill_downloadurl_query_response"])
	}
	get := func(link string) int {
		r, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if code := get(res.URL); code != http.StatusOK {
		t.Fatalf("download: %d", code)
	}
	if code := get(strings.Replace(res.URL, "bill_date=2024-05-01", "bill_date=2024-05-02", 1)); code != http.StatusForbidden {
		t.Fatalf("tampered link: %d", code)
	}
	clock.Store(int64(time.Minute))
	if code := get(res.URL); code != http.StatusForbidden {
		t.Fatalf("expired link: %d", code)
	}
}

// The OAuth code table is shared by the channels: Alipay's exchange must
// refuse WeChat's codes without using them up.
func TestAlipayOAuthLeavesOtherCodes(t *testing.T) {
	s, srv := newAlipayTestSandbox(t, nil)
	code := s.IssueOAuthCode(channel.Wechat, "o-someone")
	p := alipayTestParams(s, "alipay.system.oauth.token", "")
	delete(p, "biz_content")
	p["grant_type"], p["code"] = "authorization_code", code
	raw, answer := alipayTestCall(t, srv, s.keys.AlipayApp, p)
	if !strings.Contains(string(answer["error_response"]), "isv.code-invalid") {
		t.Fatalf("answer %s", raw)
	}
	if payer, ok := s.exchangeOAuthCode(code); !ok || payer != "o-someone" {
		t.Fatal("the WeChat code was used up")
	}
}

// alipayTestPEM writes a key as the PKCS#8 PEM a merchant is given.
func alipayTestPEM(t *testing.T, k *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
