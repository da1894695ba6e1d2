package purse_test

import (
	"testing"
	"time"
)

// TestBathVectors pins the bytes of a bath's MACs and TAC: a change of
// encoding must show up here.
func TestBathVectors(t *testing.T) {
	is := issuer(t, secret)
	c := newCard(t, is, uidA, 5_00)
	ctl := bathController(is, termID2)
	init, err := c.InitBath(termID2)
	if err != nil {
		t.Fatal(err)
	}
	mac1 := ctl.SAM.BathMAC1(c.UID, init, 100, 1, when)
	step, err := c.PreDebit(100, 1, mac1, when)
	if err != nil {
		t.Fatal(err)
	}
	init2, err := c.InitBath(termID2)
	if err != nil {
		t.Fatal(err)
	}
	settle := ctl.SAM.SettleMAC1(c.UID, init2, 37, when.Add(time.Minute))
	res, err := c.SettleBath(37, settle, when.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct{ name, got, want string }{
		{"bath MAC1", mac1.String(), pinned["bath MAC1"]},
		{"bath MAC2", step.MAC2.String(), pinned["bath MAC2"]},
		{"settle MAC1", settle.String(), pinned["settle MAC1"]},
		{"settle MAC2", res.MAC2.String(), pinned["settle MAC2"]},
		{"bath TAC", res.TAC.String(), pinned["bath TAC"]},
	} {
		if v.got != v.want {
			t.Errorf("%s = %s, want %s", v.name, v.got, v.want)
		}
	}
}

// pinned were computed once; bath MAC1 was recomputed independently from
// the tables in keys.go and mac.go.
var pinned = map[string]string{
	"bath MAC1":   "5994fc38d6013ef5",
	"bath MAC2":   "c2b04ed9302f8887",
	"settle MAC1": "f60bcf6772d4a013",
	"settle MAC2": "96a59741b41a2cde",
	"bath TAC":    "cf9679b895380b1a",
}
