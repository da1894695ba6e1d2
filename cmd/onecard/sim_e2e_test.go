package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimAgainstServeDemo drives a real `serve --demo` with the real
// `sim`: the server writes its demo kit privately and serves it to this
// machine, a restart leaves the kit as it was; `sim pos` finds the server's
// terminals and cards from its address alone, claims the sample's deposit
// onto the card and pays; `sim lunch` runs briefly; `check` then passes.
func TestSimAgainstServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary and loads 1,000 demo cardholders")
	}
	dir := filepath.Join(t.TempDir(), "data")
	state := filepath.Join(t.TempDir(), "sim")
	env := childEnv("ONECARD_DATA_DIR="+dir, "HOME="+t.TempDir())

	server := startChild(t, env, "serve", "--demo", "--addr", "127.0.0.1:0")
	base := server.serving(demoLoadTimeout)
	login := cardholderLoginRE.FindStringSubmatch(server.stdout.String())
	if login == nil || !strings.Contains(server.stdout.String(), "onecard sim pos --server "+base) {
		t.Fatalf("serve --demo did not say how to run the simulator")
	}
	number := login[2]
	kit := getKit(t, base)
	path := filepath.Join(dir, "demo-kit.json")
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want mode 0600", path, st, err)
	}
	if onDisk, _ := os.ReadFile(path); !bytes.Equal(onDisk, kit) {
		t.Error("the kit served is not the kit file")
	}
	var parsed struct {
		School    string
		Terminals []struct{ Code, Kind string }
		Cards     []struct{ Card struct{ Number string } }
	}
	if err := json.Unmarshal(kit, &parsed); err != nil || parsed.School != "demo" || len(parsed.Terminals) < 120 || len(parsed.Cards) != 1000 {
		t.Fatalf("kit: school %q, %d terminals, %d cards, %v", parsed.School, len(parsed.Terminals), len(parsed.Cards), err)
	}

	// A restart reuses the kit: the same keys, the file untouched.
	if code := server.stop(); code != exitOK {
		t.Fatalf("serve exited %d after SIGTERM", code)
	}
	server = startChild(t, env, "serve", "--demo", "--addr", "127.0.0.1:0")
	base = server.serving(demoLoadTimeout)
	if again := getKit(t, base); !bytes.Equal(again, kit) {
		t.Fatal("the kit changed across a restart")
	}

	code, out, errOut := runBinary(t, env, "sim", "pos", "--server", base, "--state", state, "--card", number, "--amount", "12.50")
	if code != exitOK || !strings.Contains(out, "claim") || !strings.Contains(out, "decision        approve") ||
		!strings.Contains(out, "upload          accepted") {
		t.Fatalf("sim pos: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runBinary(t, env, "sim", "lunch", "--server", base, "--state", state, "--seconds", "2", "--pos", "20", "--json")
	var lunch struct {
		Purchases, Spent, Rejected int64
		Accepted                   int64 `json:"records_accepted"`
	}
	if err := json.Unmarshal([]byte(out), &lunch); err != nil || code != exitOK || lunch.Purchases == 0 || lunch.Accepted < lunch.Purchases {
		t.Fatalf("sim lunch: exit %d, %+v, %v\n%s%s", code, lunch, err, out, errOut)
	}

	if code := server.stop(); code != exitOK {
		t.Fatalf("serve exited %d after SIGTERM", code)
	}
	code, out, errOut = runBinary(t, env, "check", "--db", filepath.Join(dir, "onecard.db"))
	if code != exitOK || !strings.Contains(out, "OK:") {
		t.Fatalf("check after the simulator: exit %d\n%s%s", code, out, errOut)
	}
}

// getKit fetches the demo kit as the simulator does.
func getKit(t *testing.T, base string) []byte {
	t.Helper()
	resp, err := http.Get(base + "/demo/v1/kit")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /demo/v1/kit: %d, %v", resp.StatusCode, err)
	}
	return data
}
