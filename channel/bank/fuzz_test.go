package bank_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/channel/bank"
	"github.com/onecard-campus/onecard/sandbox"
)

// FuzzNotification feeds the client arbitrary notifications. Each input is
// tried twice: as sent (arbitrary headers, which a fuzzer will essentially
// never sign correctly) and re-signed with the bank's real key, so that the
// decoding behind the signature check is fuzzed too. Neither may panic; a
// notification that is accepted must describe a sane trade; anything refused
// must be a *channel.Error.
func FuzzNotification(f *testing.F) {
	keys := testKeys()
	bankKey := mustKey(f, keys.BankPlatform)
	cfg := *sandbox.NewWithKeys(sandbox.Options{BaseURL: "http://bank.invalid"}, keys).Config().Bank

	// The seed is a valid notification, signed now.
	valid := noteBody(cfg.MerchantID)
	h := http.Header{}
	signWith(h, cfg.MerchantID, bankKey, time.Now(), "seed-nonce-0001", valid)
	f.Add(h.Get("X-Bank-Timestamp"), h.Get("X-Bank-Nonce"), h.Get("X-Bank-Signature"), string(valid))
	f.Add("", "", "", "")
	f.Add("not a number", "n", "AAAA", `{"merchant_id":"`+cfg.MerchantID+`","order_no":"T","state":"paid","amount":-1}`)
	f.Add(strconv.FormatInt(time.Now().Unix(), 10), "n2", "", `{"state":"refunded","amount":1,"refunded":2}`)

	f.Fuzz(func(t *testing.T, ts, nonce, sig, body string) {
		// A fresh client per input: the seed's nonce must not be "replayed"
		// by the second half of the previous input.
		g, err := bank.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, "/notify/bank", bytes.NewReader([]byte(body)))
		r.Header.Set("X-Bank-Merchant", cfg.MerchantID)
		r.Header.Set("X-Bank-Timestamp", ts)
		r.Header.Set("X-Bank-Nonce", nonce)
		r.Header.Set("X-Bank-Signature", sig)
		check(t, g, r)

		r = httptest.NewRequest(http.MethodPost, "/notify/bank", bytes.NewReader([]byte(body)))
		signWith(r.Header, cfg.MerchantID, bankKey, time.Now(), "fuzz-"+strconv.Itoa(len(body)), []byte(body))
		check(t, g, r)
	})
}

func check(t *testing.T, g *bank.Gateway, r *http.Request) {
	tr, err := g.Notification(r)
	if err != nil {
		if channel.Code(err) == "" {
			t.Fatalf("refusal is not a *channel.Error: %v", err)
		}
		return
	}
	if tr.No == "" || tr.Amount <= 0 || tr.Refunded < 0 || tr.Refunded > tr.Amount {
		t.Fatalf("accepted an insane trade %+v", tr)
	}
	switch tr.State {
	case channel.StateWaiting, channel.StatePaying, channel.StatePaid, channel.StateClosed, channel.StateRefunded:
	default:
		t.Fatalf("accepted state %q", tr.State)
	}
}
