package purse_test

import (
	"testing"
	"time"

	"github.com/onecard-campus/onecard/purse"
)

// The fixed world of the tests: one school secret, one card, one terminal,
// one time, and a card random that is the same every time (so that only the
// counter makes sessions differ).
var (
	secret   = []byte("0123456789abcdef0123456789abcdef")
	secret2  = []byte("fedcba9876543210fedcba9876543210")
	uidA     = purse.UID{0x04, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x80}
	uidB     = purse.UID{0x04, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x81}
	termID   = purse.TerminalID(0x0000_0102_0000_0007) // school 0x102, terminal 7
	termID2  = purse.TerminalID(0x0000_0102_0000_0008)
	when     = time.Date(2025, 9, 1, 11, 45, 0, 0, time.UTC)
	ceiling  = int64(100_000) // 1000 yuan
	randomAA = []byte{0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8}
)

// sameRandom returns randomAA on every read.
type sameRandom struct{}

func (sameRandom) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = randomAA[i%len(randomAA)]
	}
	return len(p), nil
}

func issuer(t testing.TB, s []byte) *purse.Issuer {
	t.Helper()
	is, err := purse.NewIssuer(s)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// newCard personalizes a card with the fixed random source and loads
// balance onto it (if positive) through a real load.
func newCard(t testing.TB, is *purse.Issuer, uid purse.UID, balance int64) *purse.Card {
	t.Helper()
	c := is.Personalize(uid, "2025"+uid.String()[12:], ceiling)
	c.Rand = sameRandom{}
	if balance > 0 {
		load(t, is, c, balance, when.Add(-time.Hour))
	}
	return c
}

// load runs a complete load and checks its TAC.
func load(t testing.TB, is *purse.Issuer, c *purse.Card, amount int64, at time.Time) purse.TAC {
	t.Helper()
	init, err := c.InitLoad(amount, termID)
	if err != nil {
		t.Fatal(err)
	}
	mac2, err := is.AuthorizeLoad(c.UID, init, amount, termID, at)
	if err != nil {
		t.Fatal(err)
	}
	tac, err := c.Load(mac2, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := is.VerifyLoadTAC(c.UID, init, amount, termID, at, tac); err != nil {
		t.Fatal(err)
	}
	return tac
}

// purchase runs a complete purchase through a SAM and returns its record.
func purchase(t testing.TB, sam *purse.SAM, c *purse.Card, amount int64, seq uint32, at time.Time) *purse.Record {
	t.Helper()
	init, err := c.InitPurchase(amount, sam.TerminalID())
	if err != nil {
		t.Fatal(err)
	}
	mac1 := sam.PurchaseMAC1(c.UID, init, amount, seq, at)
	res, err := c.Purchase(mac1, seq, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := sam.VerifyMAC2(c.UID, init, amount, seq, res); err != nil {
		t.Fatal(err)
	}
	return &purse.Record{
		Type: purse.TypePurchase, UID: c.UID, Number: c.Number, Counter: res.Counter,
		TerminalID: sam.TerminalID(), TerminalSeq: seq, Amount: amount,
		BalanceBefore: init.Balance, BalanceAfter: res.BalanceAfter, Time: at, TAC: res.TAC,
	}
}

// state is what a failed operation must leave unchanged.
type state struct {
	balance         int64
	online, offline uint16
}

func stateOf(c *purse.Card) state { return state{c.Balance, c.OnlineCounter, c.OfflineCounter} }

func flip(b [purse.MACSize]byte, i int) [purse.MACSize]byte {
	b[i] ^= 0x01
	return b
}
