package purse

import (
	"encoding/hex"
	"testing"
	"time"
)

// TestMessageBytes pins the byte layout of every MAC and TAC input to the
// table in mac.go, independently of the crypto.
func TestMessageBytes(t *testing.T) {
	when := time.Date(2025, 9, 1, 11, 45, 0, 0, time.UTC) // 0x68b5873c
	term := TerminalID(0x0000010200000007)
	for _, tt := range []struct {
		name string
		m    message
		want string
	}{
		{"load MAC1", newMessage(tagMAC1, TypeLoad).i64(300).i64(5000).term(term),
			"0102" + "000000000000012c" + "0000000000001388" + "0000010200000007"},
		{"load MAC2", newMessage(tagMAC2, TypeLoad).i64(5000).term(term).time(when),
			"0202" + "0000000000001388" + "0000010200000007" + "0000000068b5873c"},
		{"purchase MAC1", newMessage(tagMAC1, TypePurchase).i64(1250).term(term).time(when),
			"0106" + "00000000000004e2" + "0000010200000007" + "0000000068b5873c"},
		{"purchase MAC2", newMessage(tagMAC2, TypePurchase).i64(1250).i64(3750),
			"0206" + "00000000000004e2" + "0000000000000ea6"},
		{"purchase TAC", tacFields{TypePurchase, 1250, 3750, 1, term, 7, when}.message(),
			"0306" + "00000000000004e2" + "0000000000000ea6" + "0001" + "0000010200000007" + "00000007" + "0000000068b5873c"},
		{"load TAC", tacFields{TypeLoad, 5000, 5300, 2, term, 0, when}.message(),
			"0302" + "0000000000001388" + "00000000000014b4" + "0002" + "0000010200000007" + "00000000" + "0000000068b5873c"},
	} {
		if got := hex.EncodeToString(tt.m); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestTextForms: the hex and name forms used in JSON, and their refusals.
func TestTextForms(t *testing.T) {
	u, err := ParseUID("041a2b3c4d5e6f80") // either case in, upper case out, as the store keeps UIDs
	if err != nil || u.String() != "041A2B3C4D5E6F80" {
		t.Errorf("ParseUID = %v, %v", u, err)
	}
	for _, s := range []string{"", "041a2b3c4d5e6f", "041a2b3c4d5e6f8", "041a2b3c4d5e6f8000", "zz1a2b3c4d5e6f80"} {
		if _, err := ParseUID(s); err == nil {
			t.Errorf("ParseUID(%q) accepted", s)
		}
	}
	for _, typ := range []Type{TypeLoad, TypePurchase, TypeCompound} {
		b, err := typ.MarshalText()
		var back Type
		if err != nil || back.UnmarshalText(b) != nil || back != typ {
			t.Errorf("type %v: %s, %v -> %v", typ, b, err, back)
		}
	}
	if _, err := Type(0x42).MarshalText(); err == nil || Type(0x42).String() != "type(0x42)" {
		t.Errorf("unknown type: %v, %s", err, Type(0x42))
	}
	var typ Type
	if typ.UnmarshalText([]byte("refund")) == nil {
		t.Error("unknown type name accepted")
	}
	var k Key
	if k.UnmarshalText([]byte("00")) == nil {
		t.Error("short key accepted")
	}
}
