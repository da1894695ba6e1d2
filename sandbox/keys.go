package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/onecard-campus/onecard/channel"
)

// Keys are a sandbox's test keys: each channel's merchant key (OneCard
// signs with it, the sandbox verifies) and the gateway's own key (the
// sandbox signs, OneCard verifies). They are saved as JSON so that a
// restarted `onecard sandbox` keeps the credentials a server was given.
type Keys struct {
	AlipayAppID    string `json:"alipay_app_id"`
	AlipayApp      string `json:"alipay_app"`      // merchant application private key, PEM
	AlipayPlatform string `json:"alipay_platform"` // "Alipay's" private key, PEM

	WechatMchID          string `json:"wechat_mch_id"`
	WechatAppID          string `json:"wechat_app_id"`
	WechatAppSecret      string `json:"wechat_app_secret"`
	WechatMerchant       string `json:"wechat_merchant"`        // merchant API private key, PEM
	WechatMerchantSerial string `json:"wechat_merchant_serial"` // its certificate serial
	WechatPlatform       string `json:"wechat_platform"`        // "WeChat Pay's" private key, PEM
	WechatPlatformSerial string `json:"wechat_platform_serial"` // its public key ID
	WechatAPIv3Key       string `json:"wechat_api_v3_key"`      // 32 characters

	BankMerchantID string `json:"bank_merchant_id"`
	BankMerchant   string `json:"bank_merchant"` // OneCard's bank-link private key, PEM
	BankPlatform   string `json:"bank_platform"` // the bank's private key, PEM
}

// NewKeys generates a fresh set of 2048-bit RSA keys.
func NewKeys() (*Keys, error) {
	var pems [6]string
	for i := range pems {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("sandbox: generate key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		pems[i] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	return &Keys{
		AlipayAppID: "2021000100000001", AlipayApp: pems[0], AlipayPlatform: pems[1],
		WechatMchID: "1900000001", WechatAppID: "wx00000000sandbox", WechatAppSecret: randomHex(16), WechatMerchant: pems[2],
		WechatMerchantSerial: randomHex(20), WechatPlatform: pems[3],
		WechatPlatformSerial: "PUB_KEY_ID_0119000000012026" + randomDigits(8), WechatAPIv3Key: randomHex(16),
		BankMerchantID: "BK0000000001", BankMerchant: pems[4], BankPlatform: pems[5],
	}, nil
}

// LoadKeys reads keys saved by SaveKeys.
func LoadKeys(path string) (*Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var k Keys
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("sandbox: %s: %w", path, err)
	}
	return &k, nil
}

// Save writes the keys to path, readable by the owner only.
func (k *Keys) Save(path string) error {
	b, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// config returns the merchant-side configuration pointing at base.
func (k *Keys) config(base string) channel.Config {
	return channel.Config{
		Alipay: &channel.AlipayConfig{AppID: k.AlipayAppID, PrivateKey: k.AlipayApp,
			AlipayPublicKey: mustPublicPEM(k.AlipayPlatform), Gateway: base + "/alipay/gateway.do"},
		Wechat: &channel.WechatConfig{MchID: k.WechatMchID, AppID: k.WechatAppID, AppSecret: k.WechatAppSecret, SerialNo: k.WechatMerchantSerial,
			PrivateKey: k.WechatMerchant, APIv3Key: k.WechatAPIv3Key, PlatformKey: mustPublicPEM(k.WechatPlatform),
			PlatformSerial: k.WechatPlatformSerial, BaseURL: base + "/wechat"},
		Bank: &channel.BankConfig{MerchantID: k.BankMerchantID, PrivateKey: k.BankMerchant,
			BankPublicKey: mustPublicPEM(k.BankPlatform), BaseURL: base + "/bank"},
	}
}

// ParsePrivateKey reads an RSA private key in PKCS#8 or PKCS#1 PEM.
func ParsePrivateKey(p string) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		return nil, fmt.Errorf("sandbox: no PEM block in key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sandbox: parse key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("sandbox: key is not RSA")
	}
	return rk, nil
}

// ParsePublicKey reads an RSA public key in PKIX PEM.
func ParsePublicKey(p string) (*rsa.PublicKey, error) {
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		return nil, fmt.Errorf("sandbox: no PEM block in public key")
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sandbox: parse public key: %w", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("sandbox: public key is not RSA")
	}
	return rk, nil
}

func mustPublicPEM(private string) string {
	k, err := ParsePrivateKey(private)
	if err != nil {
		return ""
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
