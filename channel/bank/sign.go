package bank

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Header names of the link. Every request, answer and notification carries
// all four.
const (
	HeaderMerchant  = "X-Bank-Merchant"
	HeaderTimestamp = "X-Bank-Timestamp"
	HeaderNonce     = "X-Bank-Nonce"
	HeaderSignature = "X-Bank-Signature"
)

// Window is how far a message's timestamp may be from the receiver's clock.
// Nonces are remembered for as long as their message could still pass this
// check, which is what makes a replay detectable with bounded memory.
const Window = 5 * time.Minute

// maxNonce bounds the nonce header so that a hostile peer cannot make the
// replay cache hold large strings.
const maxNonce = 64

// signingString is what a signature covers: "timestamp\nnonce\nbody".
func signingString(ts, nonce string, body []byte) []byte {
	b := make([]byte, 0, len(ts)+len(nonce)+2+len(body))
	b = append(b, ts...)
	b = append(b, '\n')
	b = append(b, nonce...)
	b = append(b, '\n')
	return append(b, body...)
}

// signHeaders sets the four headers on h for body, signed with key.
func signHeaders(h http.Header, merchant string, key *rsa.PrivateKey, now time.Time, body []byte) error {
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce, err := newNonce()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(signingString(ts, nonce, body))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return fmt.Errorf("bank: sign: %w", err)
	}
	h.Set(HeaderMerchant, merchant)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderNonce, nonce)
	h.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	return nil
}

func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("bank: nonce: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Reasons a signed message is refused. The client turns them into
// *channel.Error ErrSignature for notifications and ErrUnverifiedAnswer for
// answers; the text says which check failed, for the logs.
var (
	errUnsigned = errors.New("message is not signed")
	errBadSig   = errors.New("signature does not verify")
	errStale    = errors.New("timestamp is outside the 5-minute window")
	errReplayed = errors.New("nonce was already used")
)

// verify checks the signature headers of a message against body and the
// signer's key, then the timestamp window, then the nonce. The nonce is
// remembered only once the signature verified: otherwise anyone could fill
// the cache, or burn a nonce the real signer is about to use.
func verify(h http.Header, body []byte, key *rsa.PublicKey, now time.Time, seen *nonces) error {
	ts, nonce, sig64 := h.Get(HeaderTimestamp), h.Get(HeaderNonce), h.Get(HeaderSignature)
	if ts == "" || nonce == "" || sig64 == "" || len(nonce) > maxNonce || len(ts) > 20 {
		return errUnsigned
	}
	sig, err := base64.StdEncoding.DecodeString(sig64)
	if err != nil {
		return errBadSig
	}
	sum := sha256.Sum256(signingString(ts, nonce, body))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		return errBadSig
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errStale
	}
	at := time.Unix(sec, 0)
	if at.Before(now.Add(-Window)) || at.After(now.Add(Window)) {
		return errStale
	}
	if !seen.add(nonce, at.Add(Window), now) {
		return errReplayed
	}
	return nil
}

// nonces remembers the nonces of verified messages until their timestamp
// leaves the window. The cache is per process: a merchant running several
// instances catches a replay only on the instance that saw the original,
// which is acceptable because acting on a notification is idempotent
// anyway; the cache stops replays that would otherwise be acted on twice
// within one process and makes replayed answers visible.
type nonces struct {
	mu    sync.Mutex
	until map[string]time.Time
	limit int // prune when the map grows past this
}

func newNonces() *nonces { return &nonces{until: map[string]time.Time{}, limit: 1024} }

// add records nonce until expiry and reports false when it is already
// remembered.
func (n *nonces) add(nonce string, expiry, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if t, ok := n.until[nonce]; ok && now.Before(t) {
		return false
	}
	if len(n.until) >= n.limit {
		for k, t := range n.until {
			if !now.Before(t) {
				delete(n.until, k)
			}
		}
		// Pruning costs a pass over the map; doubling the limit keeps it
		// amortised constant per message however busy the link is.
		n.limit = max(1024, 2*len(n.until))
	}
	n.until[nonce] = expiry
	return true
}

// parsePrivateKey reads an RSA private key in PKCS#8 or PKCS#1 PEM.
func parsePrivateKey(p string) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		return nil, errors.New("bank: private key: no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("bank: private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("bank: private key is not RSA")
	}
	return rk, nil
}

// parsePublicKey reads an RSA public key in PKIX ("PUBLIC KEY") or PKCS#1
// ("RSA PUBLIC KEY") PEM; banks hand out either.
func parsePublicKey(p string) (*rsa.PublicKey, error) {
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		return nil, errors.New("bank: bank public key: no PEM block")
	}
	if k, err := x509.ParsePKCS1PublicKey(b.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("bank: bank public key: %w", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("bank: bank public key is not RSA")
	}
	return rk, nil
}
