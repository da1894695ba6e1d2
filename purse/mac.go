package purse

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"time"
)

// MACSize is the size of a MAC and of a TAC: AES-CMAC truncated to 8 bytes.
// PBOC uses 4; a TAC is checked offline by the server for every uploaded
// record, so a forger may try many, and 2^-64 per try keeps that hopeless.
const MACSize = 8

// MAC is a MAC1 or MAC2 of a load or purchase.
type MAC [MACSize]byte

// TAC is a transaction certificate: the card's proof of a transaction that
// only the issuer can verify.
type TAC [MACSize]byte

// Random is the card's challenge for one transaction; it makes every session
// key fresh together with the card's counter.
type Random [8]byte

// TerminalID identifies a terminal (POS, kiosk, water controller...) in the
// deployment; the server's terminal id.
type TerminalID uint64

// Type is a transaction type code, as in PBOC.
type Type uint8

// Transaction types. The codes are PBOC's for the electronic purse.
const (
	TypeLoad     Type = 0x02 // 圈存: a credit authorised online by the issuer
	TypePurchase Type = 0x06 // 消费: a debit, offline capable
	TypeCompound Type = 0x09 // 复合消费: a debit that also updates card data (bath pre-debit and write-back)
)

var typeNames = map[Type]string{TypeLoad: "load", TypePurchase: "purchase", TypeCompound: "compound"}

// String returns the type's name: load, purchase or compound.
func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type(%#02x)", uint8(t))
}

// MarshalText encodes the type by name.
func (t Type) MarshalText() ([]byte, error) {
	if _, ok := typeNames[t]; !ok {
		return nil, fmt.Errorf("purse: unknown transaction type %#02x", uint8(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText decodes a type name.
func (t *Type) UnmarshalText(b []byte) error {
	for k, v := range typeNames {
		if v == string(b) {
			*t = k
			return nil
		}
	}
	return fmt.Errorf("purse: unknown transaction type %q", b)
}

// Message encoding. Every MAC and TAC is AES-CMAC (RFC 4493) truncated to its
// first 8 bytes, over fixed-width big-endian fields in this order. The tag
// byte keeps MAC1, MAC2 and TAC apart under one key; the type is the
// transaction type code. Amounts and balances are int64 fen (never negative),
// times are Unix seconds (UTC) as int64, counters uint16, terminal ids uint64,
// terminal sequences uint32.
//
//	message        key                   bytes  fields (size in bytes)
//	load MAC1      load session key      26     tag 01 (1) | type 02 (1) | balance before (8) | amount (8) | terminal id (8)
//	load MAC2      load session key      26     tag 02 (1) | type 02 (1) | amount (8) | terminal id (8) | time (8)
//	purchase MAC1  purchase session key  26     tag 01 (1) | type 06 (1) | amount (8) | terminal id (8) | time (8)
//	purchase MAC2  purchase session key  18     tag 02 (1) | type 06 (1) | amount (8) | balance after (8)
//	TAC            card TAC key          40     tag 03 (1) | type (1) | amount (8) | balance after (8) | counter (2) |
//	                                            terminal id (8) | terminal seq (4) | time (8)
//	bath MAC1      purchase session key  34     tag 01 (1) | type 09 (1) | amount (8) | held before (8) | terminal id (8) | time (8)
//	bath MAC2      purchase session key  26     tag 02 (1) | type 09 (1) | amount (8) | held after (8) | balance after (8)
//	settle MAC1    purchase session key  34     tag 04 (1) | type 09 (1) | used (8) | held (8) | terminal id (8) | time (8)
//	settle MAC2    purchase session key  18     tag 05 (1) | type 09 (1) | used (8) | balance after (8)
//
// A bath's session key is fixed for the whole bath: it binds the random and
// offline counter the card gave when the bath began and the controller's
// sequence for it. A bath's TAC is an ordinary TAC of type 09 over the amount
// actually used, with the card's counter at settlement.
//
// The session keys already bind the card's random and counter (and for a
// purchase the terminal sequence), as in PBOC. A TAC's counter is the
// transaction's own number: the card's counter after it (the first load is
// 1). A load has no terminal sequence: 0.
const (
	tagMAC1       byte = 0x01
	tagMAC2       byte = 0x02
	tagTAC        byte = 0x03
	tagSettleMAC1 byte = 0x04
	tagSettleMAC2 byte = 0x05
)

// message appends fixed-width big-endian fields.
type message []byte

func (m message) byte(b byte) message       { return append(m, b) }
func (m message) u16(v uint16) message      { return binary.BigEndian.AppendUint16(m, v) }
func (m message) u32(v uint32) message      { return binary.BigEndian.AppendUint32(m, v) }
func (m message) i64(v int64) message       { return binary.BigEndian.AppendUint64(m, uint64(v)) }
func (m message) term(t TerminalID) message { return binary.BigEndian.AppendUint64(m, uint64(t)) }
func (m message) time(t time.Time) message  { return m.i64(t.Unix()) }

func newMessage(tag byte, t Type) message { return make(message, 0, 40).byte(tag).byte(byte(t)) }

func loadMAC1(k Key, balance, amount int64, term TerminalID) MAC {
	return mac(k, newMessage(tagMAC1, TypeLoad).i64(balance).i64(amount).term(term))
}

func loadMAC2(k Key, amount int64, term TerminalID, when time.Time) MAC {
	return mac(k, newMessage(tagMAC2, TypeLoad).i64(amount).term(term).time(when))
}

func purchaseMAC1(k Key, amount int64, term TerminalID, when time.Time) MAC {
	return mac(k, newMessage(tagMAC1, TypePurchase).i64(amount).term(term).time(when))
}

func purchaseMAC2(k Key, amount, balanceAfter int64) MAC {
	return mac(k, newMessage(tagMAC2, TypePurchase).i64(amount).i64(balanceAfter))
}

func bathMAC1(k Key, amount, held int64, term TerminalID, when time.Time) MAC {
	return mac(k, newMessage(tagMAC1, TypeCompound).i64(amount).i64(held).term(term).time(when))
}

func bathMAC2(k Key, amount, held, balanceAfter int64) MAC {
	return mac(k, newMessage(tagMAC2, TypeCompound).i64(amount).i64(held).i64(balanceAfter))
}

func settleMAC1(k Key, used, held int64, term TerminalID, when time.Time) MAC {
	return mac(k, newMessage(tagSettleMAC1, TypeCompound).i64(used).i64(held).term(term).time(when))
}

func settleMAC2(k Key, used, balanceAfter int64) MAC {
	return mac(k, newMessage(tagSettleMAC2, TypeCompound).i64(used).i64(balanceAfter))
}

// tacFields are what a TAC covers.
type tacFields struct {
	typ          Type
	amount       int64
	balanceAfter int64
	counter      uint16
	terminal     TerminalID
	seq          uint32
	when         time.Time
}

func (f tacFields) message() message {
	return newMessage(tagTAC, f.typ).i64(f.amount).i64(f.balanceAfter).u16(f.counter).
		term(f.terminal).u32(f.seq).time(f.when)
}

func (f tacFields) tac(k Key) TAC { return TAC(mac(k, f.message())) }

func mac(k Key, m message) MAC {
	var out MAC
	copy(out[:], aesCMAC(k[:], m))
	return out
}

// equalMAC compares in constant time.
func equalMAC(a, b [MACSize]byte) bool { return subtle.ConstantTimeCompare(a[:], b[:]) == 1 }

// MarshalText encodes the MAC as hex.
func (m MAC) MarshalText() ([]byte, error) { return hexText(m[:]), nil }

// UnmarshalText decodes a hex MAC.
func (m *MAC) UnmarshalText(b []byte) error { return unhexText(m[:], b, "MAC") }

// String returns the MAC in hex.
func (m MAC) String() string { return string(hexText(m[:])) }

// MarshalText encodes the TAC as hex.
func (t TAC) MarshalText() ([]byte, error) { return hexText(t[:]), nil }

// UnmarshalText decodes a hex TAC.
func (t *TAC) UnmarshalText(b []byte) error { return unhexText(t[:], b, "TAC") }

// String returns the TAC in hex.
func (t TAC) String() string { return string(hexText(t[:])) }

// MarshalText encodes the random as hex.
func (r Random) MarshalText() ([]byte, error) { return hexText(r[:]), nil }

// UnmarshalText decodes a hex random.
func (r *Random) UnmarshalText(b []byte) error { return unhexText(r[:], b, "random") }
