package password_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard/password"
)

var pepper = []byte("pepper-0123456789abcdef0123456789")

func TestVerify(t *testing.T) {
	pin, err := password.Hash(pepper, "123456")
	if err != nil {
		t.Fatal(err)
	}
	op, err := password.HashWith(password.Operator, pepper, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		pepper  []byte
		encoded string
		plain   string
		want    bool
		wantErr bool
	}{
		{"right PIN", pepper, pin, "123456", true, false},
		{"wrong PIN", pepper, pin, "123457", false, false},
		{"empty PIN", pepper, pin, "", false, false},
		{"wrong pepper", []byte("another-pepper-0123456789abcdef"), pin, "123456", false, false},
		{"operator password", pepper, op, "correct horse battery", true, false},
		{"operator wrong password", pepper, op, "correct horse batterx", false, false},
		{"tampered algorithm", pepper, strings.Replace(pin, "argon2id", "argon2i", 1), "123456", false, true},
		{"tampered version", pepper, strings.Replace(pin, "v=19", "v=18", 1), "123456", false, true},
		{"tampered memory too large", pepper, strings.Replace(pin, "m=8192", "m=99999999", 1), "123456", false, true},
		{"tampered params", pepper, strings.Replace(pin, "t=1", "t=x", 1), "123456", false, true},
		{"tampered salt", pepper, tamperField(pin, 4), "123456", false, true},
		{"truncated", pepper, pin[:len(pin)/2], "123456", false, true},
		{"empty", pepper, "", "123456", false, true},
		{"tampered cost does not match", pepper, strings.Replace(pin, "t=1", "t=2", 1), "123456", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := password.Verify(tc.pepper, tc.encoded, tc.plain)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Verify error = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr && !errors.Is(err, password.ErrMalformed) {
				t.Errorf("error = %v, want ErrMalformed", err)
			}
			if ok != tc.want {
				t.Errorf("Verify = %v, want %v", ok, tc.want)
			}
		})
	}
}

func TestHashIsSaltedAndSelfDescribing(t *testing.T) {
	a, _ := password.Hash(pepper, "000000")
	b, _ := password.Hash(pepper, "000000")
	if a == b {
		t.Error("two hashes of the same PIN are equal: the salt is missing")
	}
	if !strings.HasPrefix(a, "$argon2id$v=19$m=8192,t=1,p=1$") {
		t.Errorf("PIN hash %q does not carry the PIN parameters", a)
	}
	if password.NeedsRehash(a, password.PIN) {
		t.Error("NeedsRehash(PIN hash, PIN) = true")
	}
	if !password.NeedsRehash(a, password.Operator) {
		t.Error("NeedsRehash(PIN hash, Operator) = false")
	}
	if _, err := password.Hash(nil, "000000"); err == nil {
		t.Error("Hash with an empty pepper succeeded")
	}
}

// tamperField replaces the i-th $-separated field with something undecodable.
func tamperField(s string, i int) string {
	f := strings.Split(s, "$")
	f[i] = "!!" + f[i]
	return strings.Join(f, "$")
}
