// Package password hashes cardholders' PINs and operators' passwords with
// argon2id and a server-side pepper, in a self-describing PHC string
// ($argon2id$v=19$m=8192,t=1,p=1$salt$hash) so that the cost can be raised
// later without invalidating stored hashes.
//
// The pepper is mixed in with HMAC-SHA256 before argon2 runs: the argon2
// input is HMAC(pepper, secret). A database leaked without the pepper then
// gives an attacker nothing to try PINs against.
package password

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Time    uint32 // passes over memory
	Memory  uint32 // KiB
	Threads uint8
	SaltLen int
	KeyLen  uint32
}

// A PIN has only 10^6 values, so no affordable argon2 cost stops an offline
// attacker who holds both the database and the pepper (a million guesses at
// any sane cost is hours, not years): the pepper, kept out of the database,
// is the real protection, and lockout protects the online path. The cost is
// kept moderate (about 10 ms) so that a thousand demo cardholders are created
// in seconds and logins do not queue.
var PIN = Params{Time: 1, Memory: 8 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// Operators choose their passwords, which have far more than 10^6 values, so
// here the cost does add protection: these are OWASP's argon2id minimums
// (19 MiB, two passes).
var Operator = Params{Time: 2, Memory: 19 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// The largest parameters Verify accepts, so that a tampered hash cannot make
// the server allocate gigabytes or spin for minutes.
const (
	maxMemory = 256 * 1024
	maxTime   = 16
)

// ErrMalformed is returned by Verify for a string that is not a hash this
// package wrote.
var ErrMalformed = errors.New("password: malformed hash")

var b64 = base64.RawStdEncoding

// Hash hashes a PIN with the PIN parameters.
func Hash(pepper []byte, plain string) (string, error) {
	return HashWith(PIN, pepper, plain)
}

// HashWith hashes plain with the given parameters and a fresh random salt.
func HashWith(p Params, pepper []byte, plain string) (string, error) {
	if len(pepper) == 0 {
		return "", errors.New("password: empty pepper")
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey(peppered(pepper, plain), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether plain matches the encoded hash, comparing in
// constant time. A malformed or tampered encoding is an error, never a match.
func Verify(pepper []byte, encoded, plain string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey(peppered(pepper, plain), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with other parameters than p,
// so that a caller who just verified the plain text can store a fresh hash.
func NeedsRehash(encoded string, p Params) bool {
	q, _, key, err := decode(encoded)
	return err != nil || q.Time != p.Time || q.Memory != p.Memory || q.Threads != p.Threads || uint32(len(key)) != p.KeyLen
}

func peppered(pepper []byte, plain string) []byte {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(plain))
	return m.Sum(nil)
}

func decode(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformed
	}
	var m, t, th uint64
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return p, nil, nil, ErrMalformed
	}
	for i, want := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], want)
		if !ok {
			return p, nil, nil, ErrMalformed
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, ErrMalformed
		}
		switch i {
		case 0:
			m = n
		case 1:
			t = n
		case 2:
			th = n
		}
	}
	if m < 8 || m > maxMemory || t < 1 || t > maxTime || th < 1 || th > 255 {
		return p, nil, nil, ErrMalformed
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformed
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, ErrMalformed
	}
	p = Params{Time: uint32(t), Memory: uint32(m), Threads: uint8(th), SaltLen: len(salt), KeyLen: uint32(len(key))}
	return p, salt, key, nil
}
