package purse_test

import (
	"encoding/hex"
	"testing"

	"github.com/onecard-campus/onecard/purse"
)

// TestVectors pins the key derivation and every MAC and TAC of one load and
// one purchase to fixed values: a change of encoding, label or key layout
// fails here. The inputs are the fixture's school secret, card A, terminal
// 0x0000010200000007, 2025-09-01 11:45:00 UTC (Unix 1756727100), card
// random a1a2a3a4a5a6a7a8; load 50.00 yuan, purchase 12.50 yuan as terminal
// sequence 7. The values were recomputed independently (pyca/cryptography's
// AES-CMAC) from the tables in keys.go and mac.go.
func TestVectors(t *testing.T) {
	is := issuer(t, secret)
	c := is.Personalize(uidA, "2025000001", ceiling)
	c.Rand = sameRandom{}
	check := func(name string, got []byte, want string) {
		t.Helper()
		if h := hex.EncodeToString(got); h != want {
			t.Errorf("%s = %s, want %s", name, h, want)
		}
	}
	pm := is.PurchaseMasterKey()
	check("purchase master key", pm[:], "5c74ff6fc2ee5de64de42feafe755412")
	check("card load key", c.Keys.Load[:], "4d1788e32b5bf73139aa9b107b9e3e15")
	check("card purchase key", c.Keys.Purchase[:], "54650fbc58332d0cc45f6f943be6a2c5")
	check("card TAC key", c.Keys.TAC[:], "dc864a026a924bb99b0020724977260c")

	linit, err := c.InitLoad(5000, termID)
	if err != nil {
		t.Fatal(err)
	}
	check("load MAC1", linit.MAC1[:], "9207e89c6bbbc4b8")
	mac2, err := is.AuthorizeLoad(uidA, linit, 5000, termID, when)
	if err != nil {
		t.Fatal(err)
	}
	check("load MAC2", mac2[:], "4027587136a6f8d4")
	ltac, err := c.Load(mac2, when)
	if err != nil {
		t.Fatal(err)
	}
	check("load TAC", ltac[:], "d265d90ec44d746e")

	sam := is.SAM(termID)
	pinit, err := c.InitPurchase(1250, termID)
	if err != nil {
		t.Fatal(err)
	}
	mac1 := sam.PurchaseMAC1(uidA, pinit, 1250, 7, when)
	check("purchase MAC1", mac1[:], "e94dad063b2c1442")
	res, err := c.Purchase(mac1, 7, when)
	if err != nil {
		t.Fatal(err)
	}
	check("purchase MAC2", res.MAC2[:], "21b32416fd96cc53")
	check("purchase TAC", res.TAC[:], "661b4036310c5f4f")
	if c.Balance != 3750 || c.OnlineCounter != 1 || c.OfflineCounter != 1 || res.Counter != 1 || res.BalanceAfter != 3750 {
		t.Errorf("card after = %+v, result %+v", c, res)
	}
	if err := sam.VerifyMAC2(uidA, pinit, 1250, 7, res); err != nil {
		t.Error(err)
	}
	rec := &purse.Record{Type: purse.TypePurchase, UID: uidA, Number: c.Number, Counter: 1, TerminalID: termID,
		TerminalSeq: 7, Amount: 1250, BalanceBefore: 5000, BalanceAfter: 3750, Time: when, TAC: res.TAC}
	if err := is.VerifyRecord(rec); err != nil {
		t.Error(err)
	}
}
