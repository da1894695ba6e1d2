package purse

import (
	"crypto/aes"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/aead/cmac"
)

// SecretSize is the size of a school's purse secret: an AES-256 key.
const SecretSize = 32

// Key is an AES-128 key: a master key, a card key or a session key.
type Key [16]byte

// CardKeys are a card's own keys, diversified from the school's master keys
// by the card's UID at personalization.
type CardKeys struct {
	Load     Key `json:"load"`     // opens loads: load session keys, MAC1 and MAC2
	Purchase Key `json:"purchase"` // opens purchases: purchase session keys, MAC1 and MAC2
	TAC      Key `json:"tac"`      // transaction certificates; only the issuer can recompute it
}

// Key derivation. Every key is NIST SP 800-108r1 counter mode with AES-CMAC
// as the PRF, a 32-bit counter before the fixed data and one output block
// (L = 128):
//
//	K = AES-CMAC(KI, 00000001 | label | 00 | context | 00000080)
//
//	key                   KI                   label                       context
//	load master           school secret (32B)  "onecard purse load"        -
//	purchase master       school secret        "onecard purse purchase"    -
//	TAC master            school secret        "onecard purse tac"         -
//	card load key         load master          "onecard purse card"        UID (8)
//	card purchase key     purchase master      "onecard purse card"        UID (8)
//	card TAC key          TAC master           "onecard purse card"        UID (8)
//	load session key      card load key        "onecard purse load session"     random (8) | online counter (2)
//	purchase session key  card purchase key    "onecard purse purchase session" random (8) | offline counter (2) | terminal seq (4)
//
// One primitive for derivation and MACs is what a card or SAM chip offers
// (NXP's AES key diversification, AN10922, is CMAC-based too). With a single
// output block the key-control concern of SP 800-108r1 Appendix B (K0) does
// not arise.
const (
	labelLoad     = "onecard purse load"
	labelPurchase = "onecard purse purchase"
	labelTAC      = "onecard purse tac"
	labelCard     = "onecard purse card"
	labelLoadSes  = "onecard purse load session"
	labelPurSes   = "onecard purse purchase session"
)

// derive is the KDF above.
func derive(ki []byte, label string, context ...[]byte) Key {
	fixed := make([]byte, 0, 64)
	fixed = append(fixed, label...)
	fixed = append(fixed, 0)
	for _, c := range context {
		fixed = append(fixed, c...)
	}
	fixed = binary.BigEndian.AppendUint32(fixed, 128)
	var k Key
	copy(k[:], counterKDF(ki, fixed))
	return k
}

// counterKDF is one block of SP 800-108 counter mode: AES-CMAC(KI, [1]32 | fixed).
func counterKDF(ki, fixed []byte) []byte {
	in := make([]byte, 0, 4+len(fixed))
	in = binary.BigEndian.AppendUint32(in, 1)
	in = append(in, fixed...)
	return aesCMAC(ki, in)
}

// aesCMAC is the full 16-byte AES-CMAC of msg. Keys are 16 or 32 bytes by
// type, so a cipher error is a bug.
func aesCMAC(key, msg []byte) []byte {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("purse: " + err.Error())
	}
	sum, err := cmac.Sum(msg, block, aes.BlockSize)
	if err != nil {
		panic("purse: " + err.Error())
	}
	return sum
}

// masters are the school's three master keys.
type masters struct{ load, purchase, tac Key }

func deriveMasters(secret []byte) masters {
	return masters{
		load:     derive(secret, labelLoad),
		purchase: derive(secret, labelPurchase),
		tac:      derive(secret, labelTAC),
	}
}

// cardKey diversifies a master key by a card's UID.
func cardKey(master Key, uid UID) Key { return derive(master[:], labelCard, uid[:]) }

func loadSessionKey(k Key, r Random, counter uint16) Key {
	return derive(k[:], labelLoadSes, r[:], binary.BigEndian.AppendUint16(nil, counter))
}

func purchaseSessionKey(k Key, r Random, counter uint16, seq uint32) Key {
	var b [6]byte
	binary.BigEndian.PutUint16(b[:2], counter)
	binary.BigEndian.PutUint32(b[2:], seq)
	return derive(k[:], labelPurSes, r[:], b[:])
}

// MarshalText encodes the key as hex (a card image is a simulator file).
func (k Key) MarshalText() ([]byte, error) { return hexText(k[:]), nil }

// UnmarshalText decodes a hex key.
func (k *Key) UnmarshalText(b []byte) error { return unhexText(k[:], b, "key") }

func hexText(b []byte) []byte { return hex.AppendEncode(nil, b) }

func unhexText(dst, text []byte, what string) error {
	if hex.DecodedLen(len(text)) != len(dst) {
		return fmt.Errorf("purse: a %s is %d hex digits, not %d", what, 2*len(dst), len(text))
	}
	if _, err := hex.Decode(dst, text); err != nil {
		return fmt.Errorf("purse: bad %s: %w", what, err)
	}
	return nil
}
