// Package device is the API the school's terminals call: canteen POS, bath
// water controllers, kiosks, cash and replacement machines, and the
// simulator that stands in for them. Every request is signed by the
// terminal with its own key; a stale timestamp or a nonce seen before is
// refused, so a captured request cannot be replayed.
package device

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signature headers.
const (
	HeaderSchool    = "X-OneCard-School"
	HeaderTerminal  = "X-OneCard-Terminal"
	HeaderTimestamp = "X-OneCard-Timestamp"
	HeaderNonce     = "X-OneCard-Nonce"
	HeaderSignature = "X-OneCard-Signature"
)

// Skew is how far a request's timestamp may be from the server's clock.
// Nonces are remembered for twice as long, so a request is either too old
// or its nonce is still known.
const Skew = 5 * time.Minute

// signatureScheme prefixes the signed string, naming the algorithm.
const signatureScheme = "ONECARD-HMAC-SHA256"

// stringToSign is what a terminal signs: the scheme, method, path and
// query, school, terminal, timestamp, nonce and the SHA-256 of the body,
// one per line. Covering the body hash and the query means no part of the
// request can be changed without the key.
func stringToSign(method, pathQuery, school, terminal, timestamp, nonce string, body []byte) []byte {
	sum := sha256.Sum256(body)
	return []byte(strings.Join([]string{signatureScheme, method, pathQuery, school, terminal, timestamp, nonce,
		hex.EncodeToString(sum[:])}, "\n"))
}

func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// Sign adds the signature headers to req for the given school and terminal
// codes and key. It reads and restores the body.
func Sign(req *http.Request, school, terminal string, key []byte, now time.Time) error {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return fmt.Errorf("device: read body to sign: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	var n [16]byte
	rand.Read(n[:])
	nonce := hex.EncodeToString(n[:])
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := mac(key, stringToSign(req.Method, req.URL.RequestURI(), school, terminal, ts, nonce, body))
	req.Header.Set(HeaderSchool, school)
	req.Header.Set(HeaderTerminal, terminal)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, hex.EncodeToString(sig))
	return nil
}

// signed is what a request's headers claim, before the key is known.
type signed struct {
	school, terminal, timestamp, nonce string
	signature                          []byte
	at                                 time.Time
}

// readSignature parses the signature headers and checks the timestamp
// against now; it does not check the signature itself.
func readSignature(h http.Header, now time.Time) (*signed, error) {
	s := &signed{school: h.Get(HeaderSchool), terminal: h.Get(HeaderTerminal), timestamp: h.Get(HeaderTimestamp),
		nonce: h.Get(HeaderNonce)}
	if s.school == "" || s.terminal == "" || s.timestamp == "" || s.nonce == "" || h.Get(HeaderSignature) == "" {
		return nil, fmt.Errorf("the request is not signed (headers %s, %s, %s, %s and %s are required)",
			HeaderSchool, HeaderTerminal, HeaderTimestamp, HeaderNonce, HeaderSignature)
	}
	sig, err := hex.DecodeString(h.Get(HeaderSignature))
	if err != nil || len(sig) != sha256.Size {
		return nil, fmt.Errorf("the signature is not 64 hexadecimal characters")
	}
	s.signature = sig
	secs, err := strconv.ParseInt(s.timestamp, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("the timestamp is not unix seconds")
	}
	s.at = time.Unix(secs, 0)
	if d := now.Sub(s.at); d > Skew || d < -Skew {
		return nil, fmt.Errorf("the timestamp is %s away from the server's clock (at most %s); check the terminal's clock", d.Round(time.Second), Skew)
	}
	return s, nil
}

// verify checks the signature over the request with the terminal's key.
func (s *signed) verify(key []byte, method, pathQuery string, body []byte) bool {
	want := mac(key, stringToSign(method, pathQuery, s.school, s.terminal, s.timestamp, s.nonce, body))
	return hmac.Equal(want, s.signature)
}
