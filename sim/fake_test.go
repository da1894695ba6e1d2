package sim

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
)

// fakeServer stands in for a `serve --demo` server in the tests of the
// simulator's own state: it hands out a kit of a made-up school, SAM keys,
// a blacklist, and takes records, verifying their TACs with the issuer.
// It checks no signature: the device package's tests do.
type fakeServer struct {
	t      *testing.T
	srv    *httptest.Server
	issuer *purse.Issuer
	kit    *demo.Kit

	mu        sync.Mutex
	kitStatus int // 0: serve the kit
	blocked   []onecard.BlacklistEntry
	seen      map[[2]uint64]bool // (terminal, seq) uploaded
	batches   []int              // the size of every upload
	accepted  []purse.Record
}

// fakeCards is how many cards the fake kit has; each holds fakeBalance.
const (
	fakeCards   = 3
	fakeBalance = 100_00
)

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	is, err := purse.NewIssuer(bytes.Repeat([]byte{0x42}, purse.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{t: t, issuer: is, seen: map[[2]uint64]bool{}}
	f.kit = &demo.Kit{School: "fake"}
	for i := 1; i <= 2; i++ {
		f.kit.Terminals = append(f.kit.Terminals, demo.KitTerminal{Code: fmt.Sprintf("pos-%d", i), Kind: onecard.TerminalPOS,
			Merchant: "canteen-1", Key: hex.EncodeToString(bytes.Repeat([]byte{byte(i)}, 32))})
	}
	f.kit.Terminals = append(f.kit.Terminals, demo.KitTerminal{Code: "kiosk-1", Kind: onecard.TerminalKiosk, Key: strings.Repeat("07", 32)})
	for i := 1; i <= fakeCards; i++ {
		uid := purse.UID{0xCA, 0xFE, 0, 0, 0, 0, 0, byte(i)}
		c := is.Personalize(uid, fmt.Sprintf("202101000%d", i), 1000_00)
		// A kit card is empty; these carry money so that offline POS can
		// charge them without the claim the real server would offer.
		init, err := c.InitLoad(fakeBalance, 99)
		if err != nil {
			t.Fatal(err)
		}
		when := time.Unix(time.Now().Unix(), 0)
		mac2, err := is.AuthorizeLoad(uid, init, fakeBalance, 99, when)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Load(mac2, when); err != nil {
			t.Fatal(err)
		}
		f.kit.Cards = append(f.kit.Cards, demo.KitCard{Card: c, PIN: "123456"})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+demo.KitPath, f.serveKit)
	mux.HandleFunc("GET /device/v1/sam", f.sam)
	mux.HandleFunc("GET /device/v1/blacklist", f.blacklist)
	mux.HandleFunc("POST /device/v1/records", f.records)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// terminalID is the fake's id of a terminal: its position in the kit, from 1.
func (f *fakeServer) terminalID(code string) purse.TerminalID {
	for i, t := range f.kit.Terminals {
		if t.Code == code {
			return purse.TerminalID(i + 1)
		}
	}
	return 0
}

func (f *fakeServer) serveKit(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	status := f.kitStatus
	data, _ := json.Marshal(f.kit)
	f.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
		fmt.Fprint(w, `{"code":"forbidden","message":"Not for you."}`)
		return
	}
	demo.KitHandler(data).ServeHTTP(w, r)
}

func (f *fakeServer) sam(w http.ResponseWriter, r *http.Request) {
	reply(w, &device.SAMKey{PurchaseMasterKey: f.issuer.PurchaseMasterKey(), TerminalID: f.terminalID(r.Header.Get(device.HeaderTerminal))})
}

func (f *fakeServer) blacklist(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	reply(w, &device.BlacklistDelta{Version: int64(len(f.blocked)), Entries: f.blocked})
}

func (f *fakeServer) records(w http.ResponseWriter, r *http.Request) {
	var req device.RecordsRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, len(req.Records))
	id := f.terminalID(r.Header.Get(device.HeaderTerminal))
	var res device.RecordsResponse
	for _, rec := range req.Records {
		key := [2]uint64{uint64(rec.TerminalID), uint64(rec.TerminalSeq)}
		switch {
		case rec.TerminalID != id:
			res.Results = append(res.Results, device.RecordResult{Status: device.RecordRejected, Code: "invalid", Message: "Another terminal's record."})
		case f.issuer.VerifyRecord(&rec) != nil:
			res.Results = append(res.Results, device.RecordResult{Status: device.RecordRejected, Code: "invalid", Message: "Bad TAC."})
		case f.seen[key]:
			res.Results = append(res.Results, device.RecordResult{Status: device.RecordDuplicate})
		default:
			f.seen[key] = true
			f.accepted = append(f.accepted, rec)
			res.Results = append(res.Results, device.RecordResult{Status: device.RecordAccepted, TransferID: int64(len(f.accepted))})
		}
	}
	reply(w, &res)
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
