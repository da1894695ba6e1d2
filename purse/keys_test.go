package purse

import (
	"encoding/hex"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAESCMACRFC4493 pins the CMAC dependency to the four examples of
// RFC 4493 section 4.
func TestAESCMACRFC4493(t *testing.T) {
	key := "2b7e151628aed2a6abf7158809cf4f3c"
	msg := "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
	for _, tt := range []struct {
		n    int
		want string
	}{
		{0, "bb1d6929e95937287fa37d129b756746"},
		{16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{40, "dfa66747de9ae63030ca32611497c827"},
		{64, "51f0bebf7e3b9d92fc49741779363cfe"},
	} {
		got := hex.EncodeToString(aesCMAC(unhex(t, key), unhex(t, msg)[:tt.n]))
		if got != tt.want {
			t.Errorf("AES-CMAC of %d bytes = %s, want %s", tt.n, got, tt.want)
		}
	}
}

// TestCounterKDFCAVP checks the SP 800-108 counter step against NIST CAVP
// KBKDF [PRF=CMAC_AES128][CTRLOCATION=BEFORE_FIXED][RLEN=32_BITS] L=128.
func TestCounterKDFCAVP(t *testing.T) {
	ki := unhex(t, "c10b152e8c97b77e18704e0f0bd38305")
	fixed := unhex(t, "98cd4cbbbebe15d17dc86e6dbad800a2dcbd64f7c7ad0e78e9cf94ffdba89d03e97eadf6c4f7b806caf52aa38f09d0eb71d71f497bcc6906b48d36c4")
	if got, want := hex.EncodeToString(counterKDF(ki, fixed)), "26faf61908ad9ee881b8305c221db53f"; got != want {
		t.Errorf("KO = %s, want %s", got, want)
	}
}

// TestDeriveLayout checks that derive lays out label, separator, context
// and L as documented in keys.go.
func TestDeriveLayout(t *testing.T) {
	ki := unhex(t, "000102030405060708090a0b0c0d0e0f")
	fixed := append([]byte("onecard purse card\x00"), 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0x80)
	var want Key
	copy(want[:], counterKDF(ki, fixed))
	if got := derive(ki, labelCard, []byte{1, 2, 3, 4}, []byte{5, 6, 7, 8}); got != want {
		t.Errorf("derive = %x, want %x", got, want)
	}
}
