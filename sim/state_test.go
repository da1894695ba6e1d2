package sim

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
)

var ctx = context.Background()

// TestStateFiles: the kit is fetched on first use; cards and terminals are
// saved privately after a tap and found again by the next run, even when
// the server no longer hands out its kit; a second simulator cannot take
// the same directory.
func TestStateFiles(t *testing.T) {
	f := newFakeServer(t)
	dir := filepath.Join(t.TempDir(), "state")
	st, err := Open(ctx, f.srv.URL+"/", dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, f.srv.URL, dir); err == nil || !strings.Contains(err.Error(), "another onecard sim") {
		t.Errorf("a second Open of the same directory: %v", err)
	}
	c, err := st.Card("2021010001")
	if err != nil {
		t.Fatal(err)
	}
	if byUID, err := st.Card(c.Purse.UID.String()); err != nil || byUID != c {
		t.Errorf("card by UID: %v", err)
	}
	if _, err := st.Card("999"); err == nil {
		t.Error("a card not in the kit was found")
	}
	p, err := st.POS(ctx, "pos-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.POS(ctx, "kiosk-1"); err == nil {
		t.Error("a kiosk served as a POS")
	}
	p.Offline = true
	r, err := p.Tap(ctx, c, 12_50, "")
	if err != nil || r.Decision != device.Approve || r.Record == nil || r.Upload != nil || r.Before != fakeBalance || r.After != fakeBalance-12_50 {
		t.Fatalf("offline tap: %+v, %v", r, err)
	}
	st.Close()

	for path, want := range map[string]os.FileMode{
		dir: 0o700, filepath.Join(dir, "cards"): 0o700, filepath.Join(dir, "terminals"): 0o700,
		filepath.Join(dir, "kit.json"): 0o600, filepath.Join(dir, "cards", c.Purse.UID.String()+".json"): 0o600,
		filepath.Join(dir, "terminals", "pos-1.json"): 0o600,
	} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %v", path, fi, err, want)
		}
	}

	// The next run continues: the server has stopped handing out the kit,
	// the saved one serves.
	f.kitStatus = 404
	st, err = Open(ctx, f.srv.URL, dir)
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(st.TakeNotes(), "\n"); !strings.Contains(notes, "Using the kit saved") {
		t.Errorf("notes: %q", notes)
	}
	c, _ = st.Card("2021010001")
	if c.Purse.Balance != fakeBalance-12_50 || c.Purse.OfflineCounter != 1 || c.Purse.LastPurchase == nil {
		t.Errorf("the card as saved: %+v", c.Purse)
	}
	p, err = st.POS(ctx, "pos-1")
	if err != nil || p.Seq() != 1 || p.Queued() != 1 {
		t.Fatalf("the POS as saved: seq %d, %d queued, %v", p.Seq(), p.Queued(), err)
	}
	ups, err := p.Upload(ctx)
	if err != nil || len(ups) != 1 || ups[0].Result.Status != device.RecordAccepted || p.Queued() != 0 {
		t.Fatalf("upload: %+v, %v", ups, err)
	}
	st.Close()

	// Another server's demo (the school's keys changed): saved cards and
	// terminals are set aside.
	f.kitStatus = 0
	other, err := purse.NewIssuer(bytes.Repeat([]byte{0x43}, purse.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	for i, kc := range f.kit.Cards {
		f.kit.Cards[i] = demo.KitCard{Card: other.Personalize(kc.Card.UID, kc.Card.Number, kc.Card.Ceiling), PIN: kc.PIN}
	}
	f.kit.Terminals[0].Key = strings.Repeat("09", 32)
	st, err = Open(ctx, f.srv.URL, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if notes := strings.Join(st.TakeNotes(), "\n"); !strings.Contains(notes, "kit changed") || !strings.Contains(notes, "start as issued") {
		t.Errorf("notes: %q", notes)
	}
	c, _ = st.Card("2021010001")
	if c.Purse.Balance != 0 || c.Purse.OfflineCounter != 0 {
		t.Errorf("the card of another demo was kept: %+v", c.Purse)
	}
	if p, err = st.POS(ctx, "pos-1"); err != nil || p.Seq() != 0 {
		t.Errorf("the terminal of another demo was kept: seq %d, %v", p.Seq(), err)
	}
}

// TestFirstUseNeedsTheKit: without a saved kit, a server that does not
// hand one out is a clear error.
func TestFirstUseNeedsTheKit(t *testing.T) {
	f := newFakeServer(t)
	for status, want := range map[int]string{404: "serve --demo", 403: "Not for you."} {
		f.kitStatus = status
		_, err := Open(ctx, f.srv.URL, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("status %d: %v, want %q", status, err, want)
		}
	}
}

func TestStateDir(t *testing.T) {
	t.Setenv("HOME", "/home/someone")
	for server, want := range map[string]string{
		"http://127.0.0.1:8080/":   "127.0.0.1_8080",
		"http://[::1]:9000":        "--1_9000",
		"https://demo.example.edu": "demo.example.edu_443",
		"http://localhost":         "localhost_80",
		"127.0.0.1:8080":           "",
		"ftp://127.0.0.1":          "",
		"http://127.0.0.1:8080/x":  "",
	} {
		dir, err := DefaultStateDir(server)
		switch {
		case want == "" && err == nil:
			t.Errorf("%s: %s, want an error", server, dir)
		case want != "" && (err != nil || dir != filepath.Join("/home/someone", ".onecard-sim", want)):
			t.Errorf("%s: %s, %v; want ~/.onecard-sim/%s", server, dir, err, want)
		}
	}
}
