package onecard_test

import (
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestNormalizeBankCard(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"6222 0200 0000 0000 018", "6222020000000000018", true},
		{"6222 0200 0000 0000 016", "", false}, // one digit off
		{"4111111111111111", "4111111111111111", true},
		{"4111111111111112", "", false}, // check digit
		{"411111111111", "", false},     // too short
		{"4111-1111-1111-1111", "", false},
	} {
		got, err := onecard.NormalizeBankCard(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("NormalizeBankCard(%q) = %q, %v", c.in, got, err)
		}
	}
	if m := onecard.MaskBankCard("6222020000000000018"); m != "6222 **** **** 0018" {
		t.Errorf("mask: %q", m)
	}
}
