package sandbox

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
)

// The WeChat Pay side is exercised end to end by channel/wechat's tests;
// these check the sandbox's own pieces without the adapter.

func TestParseWechatAuthorization(t *testing.T) {
	good := `WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="N",signature="c2ln==",timestamp="1700000000",serial_no="AB"`
	a, err := parseWechatAuthorization(good)
	if err != nil || a.MchID != "1900000001" || a.Nonce != "N" || a.Signature != "c2ln==" || a.Timestamp != "1700000000" || a.Serial != "AB" {
		t.Fatalf("parse = %+v, %v", a, err)
	}
	for _, h := range []string{
		"",
		"WECHATPAY2-SHA256-RSA2048",
		`Basic mchid="1"`,
		`WECHATPAY2-SHA256-RSA2048 mchid="1900000001"`,
		`WECHATPAY2-SHA256-RSA2048 mchid,nonce_str,signature,timestamp,serial_no`,
		strings.Replace(good, `serial_no="AB"`, `serial_no=""`, 1),
	} {
		if _, err := parseWechatAuthorization(h); err == nil {
			t.Errorf("parse(%q) accepted", h)
		}
	}
}

func newWechatSandbox(t *testing.T, now time.Time) *Sandbox {
	t.Helper()
	keys, err := NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	s := NewWithKeys(Options{Now: func() time.Time { return now }}, keys)
	t.Cleanup(s.Close)
	return s
}

func TestWechatBillCSV(t *testing.T) {
	day := time.Date(2024, 3, 15, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	s := newWechatSandbox(t, day)
	if _, err := s.createOrder(&Order{Channel: channel.Wechat, No: "B-1", Amount: 1000, Subject: "充值,测试"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Pay(channel.Wechat, "B-1", "o-bill"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.refund(channel.Wechat, "B-1", "B-1-R", 250); err != nil {
		t.Fatal(err)
	}
	csv := string(s.wechatBillCSV(s.statement(channel.Wechat, day)))
	rows := strings.Split(strings.TrimSuffix(csv, "\r\n"), "\r\n")
	if len(rows) != 5 {
		t.Fatalf("bill has %d rows, want header, 2 trades, summary header and row:\n%s", len(rows), csv)
	}
	for i, r := range rows {
		fields := strings.Split(r, ",")
		switch i {
		case 0, 3:
			if strings.HasPrefix(r, "`") {
				t.Errorf("header row %d starts with a backtick", i)
			}
		case 1, 2:
			if len(fields) != len(wechatBillHeader) {
				t.Errorf("row %d has %d fields, want %d (commas in names must not split fields)", i, len(fields), len(wechatBillHeader))
			}
			for _, f := range fields {
				if !strings.HasPrefix(f, "`") {
					t.Errorf("row %d field %q lacks the backtick", i, f)
				}
			}
		}
	}
	if !strings.Contains(rows[1], "`SUCCESS") || !strings.Contains(rows[1], "`10.00") || !strings.Contains(rows[1], "`0.06000") {
		t.Errorf("payment row %s", rows[1])
	}
	if !strings.Contains(rows[2], "`REFUND") || !strings.Contains(rows[2], "`B-1-R") || !strings.Contains(rows[2], "`2.50") || !strings.Contains(rows[2], "`-0.01500") {
		t.Errorf("refund row %s", rows[2])
	}
	if want := "`2,`10.00,`2.50,`0.00,`0.04500,`10.00,`2.50"; rows[4] != want {
		t.Errorf("summary %s, want %s", rows[4], want)
	}
}

func TestWechatNotificationSealedAndSigned(t *testing.T) {
	s := newWechatSandbox(t, time.Now())
	o, err := s.createOrder(&Order{Channel: channel.Wechat, No: "N-1", Amount: 300, NotifyURL: "http://merchant.invalid/notify"})
	if err != nil {
		t.Fatal(err)
	}
	c := *o
	c.State, c.Payer, c.PaidAt = channel.StatePaid, "o-n", time.Now()
	req, err := s.wechatNotification(&c)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	sig, _ := base64.StdEncoding.DecodeString(req.Header.Get("Wechatpay-Signature"))
	sum := sha256.Sum256([]byte(req.Header.Get("Wechatpay-Timestamp") + "\n" + req.Header.Get("Wechatpay-Nonce") + "\n" + string(body) + "\n"))
	platform, _ := ParsePrivateKey(s.keys.WechatPlatform)
	if err := rsa.VerifyPKCS1v15(&platform.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if req.Header.Get("Wechatpay-Serial") != s.keys.WechatPlatformSerial {
		t.Fatal("serial")
	}
	var n struct {
		EventType string `json:"event_type"`
		Resource  struct {
			Algorithm, Ciphertext, Nonce string
			AssociatedData               string `json:"associated_data"`
		}
	}
	if err := json.Unmarshal(body, &n); err != nil || n.EventType != "TRANSACTION.SUCCESS" || n.Resource.Algorithm != "AEAD_AES_256_GCM" {
		t.Fatalf("envelope %s: %v", body, err)
	}
	block, _ := aes.NewCipher([]byte(s.keys.WechatAPIv3Key))
	gcm, _ := cipher.NewGCM(block)
	ct, _ := base64.StdEncoding.DecodeString(n.Resource.Ciphertext)
	plain, err := gcm.Open(nil, []byte(n.Resource.Nonce), ct, []byte(n.Resource.AssociatedData))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	var tx wechatTransaction
	if err := json.Unmarshal(plain, &tx); err != nil || tx.OutTradeNo != "N-1" || tx.TradeState != "SUCCESS" ||
		tx.Amount.Total != 300 || tx.Payer == nil || tx.Payer.OpenID != "o-n" || tx.MchID != s.keys.WechatMchID {
		t.Fatalf("transaction %s: %v", plain, err)
	}
}
