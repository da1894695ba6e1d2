package sandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The bank link's signing, written here apart from channel/bank's client on
// purpose: the sandbox is the other side of the protocol in
// docs/BANK_LINK.md, and two implementations that share code would agree
// on a bug instead of exposing it.

const (
	bankHeaderMerchant  = "X-Bank-Merchant"
	bankHeaderTimestamp = "X-Bank-Timestamp"
	bankHeaderNonce     = "X-Bank-Nonce"
	bankHeaderSignature = "X-Bank-Signature"
	bankWindow          = 5 * time.Minute
)

func registerBankState(s *Sandbox, b *bankState) { s.bankState = b }

// bank returns the sandbox's bank state; bankRoutes always registered one.
func (s *Sandbox) bank() *bankState { return s.bankState }

// bankSignature signs "timestamp\nnonce\nbody" with key and sets the four
// headers.
func bankSignature(h http.Header, merchantID string, key *rsa.PrivateKey, now time.Time, body []byte) error {
	nb := make([]byte, 16)
	if _, err := rand.Read(nb); err != nil {
		return err
	}
	ts, nonce := strconv.FormatInt(now.Unix(), 10), hex.EncodeToString(nb)
	digest := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return err
	}
	h.Set(bankHeaderMerchant, merchantID)
	h.Set(bankHeaderTimestamp, ts)
	h.Set(bankHeaderNonce, nonce)
	h.Set(bankHeaderSignature, base64.StdEncoding.EncodeToString(sig))
	return nil
}

// bankCheck is why the bank refuses a request's signature; its code is the
// protocol's error code.
type bankCheck struct{ code, msg string }

// bankVerify checks a request's signature, timestamp and nonce, in that
// order, so that only a request the merchant really signed can use up a
// nonce.
func bankVerify(h http.Header, body []byte, key *rsa.PublicKey, now time.Time, seen *bankNonces) *bankCheck {
	ts, nonce, sig64 := h.Get(bankHeaderTimestamp), h.Get(bankHeaderNonce), h.Get(bankHeaderSignature)
	if ts == "" || nonce == "" || sig64 == "" {
		return &bankCheck{"SIGNATURE", "X-Bank-Timestamp, X-Bank-Nonce and X-Bank-Signature are required"}
	}
	if len(nonce) > 64 {
		return &bankCheck{"SIGNATURE", "the nonce is longer than 64 characters"}
	}
	sig, err := base64.StdEncoding.DecodeString(sig64)
	digest := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body)))
	if err != nil || rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) != nil {
		return &bankCheck{"SIGNATURE", "the signature does not verify"}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	at := time.Unix(sec, 0)
	if err != nil || at.Before(now.Add(-bankWindow)) || at.After(now.Add(bankWindow)) {
		return &bankCheck{"EXPIRED", "the timestamp is more than 5 minutes from the bank's clock"}
	}
	if !seen.first(nonce, at.Add(bankWindow), now) {
		return &bankCheck{"REPLAYED", "this nonce was already used"}
	}
	return nil
}

// bankNonces remembers request nonces until their timestamp is out of the
// window, after which the timestamp check alone refuses a replay.
type bankNonces struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (n *bankNonces) first(nonce string, expiry, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.until == nil {
		n.until = map[string]time.Time{}
	}
	if t, ok := n.until[nonce]; ok && now.Before(t) {
		return false
	}
	// A sandbox sees little traffic: sweeping every 4,096 entries is enough
	// to keep a long-running demo's memory flat.
	if len(n.until)%4096 == 4095 {
		for k, t := range n.until {
			if !now.Before(t) {
				delete(n.until, k)
			}
		}
	}
	n.until[nonce] = expiry
	return true
}

var errBankKeys = errors.New("sandbox: bank keys do not parse")
